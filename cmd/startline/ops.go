package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/hibiken/asynq"

	"github.com/startline/startline/internal/metrics"
)

// queueSizes reads the configured task queue's sizes with Asynq's
// Inspector. The Inspector takes no context, so the read runs aside and
// the scrape stops waiting when ctx ends (Redis's own timeouts end the
// read). A queue nothing has used yet reads as zeros.
func queueSizes(in *asynq.Inspector, queues []string) func(ctx context.Context) ([]metrics.QueueSize, error) {
	return func(ctx context.Context) ([]metrics.QueueSize, error) {
		type result struct {
			sizes []metrics.QueueSize
			err   error
		}
		done := make(chan result, 1)
		go func() {
			var r result
			known, err := in.Queues()
			if err != nil {
				done <- result{err: fmt.Errorf("task queues: %w", err)}
				return
			}
			for _, q := range queues {
				if !slices.Contains(known, q) {
					r.sizes = append(r.sizes, metrics.QueueSize{Queue: q})
					continue
				}
				info, err := in.GetQueueInfo(q)
				if err != nil {
					r.err = fmt.Errorf("queue %s: %w", q, err)
					break
				}
				r.sizes = append(r.sizes, metrics.QueueSize{Queue: q, Pending: int64(info.Pending), Active: int64(info.Active),
					Scheduled: int64(info.Scheduled), Retry: int64(info.Retry), Archived: int64(info.Archived)})
			}
			done <- r
		}()
		select {
		case r := <-done:
			return r.sizes, r.err
		case <-ctx.Done():
			return nil, fmt.Errorf("task queue sizes: %w", ctx.Err())
		}
	}
}

// serveMetrics serves GET /metrics alone on STARTLINE_METRICS_ADDR until
// the returned stop is called: the worker process has no web server, and
// an operator may prefer a port apart from the public one. With no address
// it does nothing; a listener that cannot start fails the command.
func serveMetrics(addr string, m *metrics.Metrics, allow []*net.IPNet, log *slog.Logger) (func(), error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("STARTLINE_METRICS_ADDR: %w", err)
	}
	srv := &http.Server{Handler: withPprof(m.Handler(allow)), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}
