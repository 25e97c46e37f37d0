package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
)

// baselinePath is the one route of the baseline server.
const baselinePath = "/baseline"

// baselineServer is `loadbench baseline-server ADDR`: a bare Gin engine
// (no middleware) answering a small JSON, in its own process as the app is,
// so the ratio to it says what Startline's own work costs.
func baselineServer(addr string) error {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET(baselinePath, func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok", "service": "baseline"})
	})
	srv := &http.Server{Addr: addr, Handler: r, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 120 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("baseline server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startBaseline runs this program's baseline-server subcommand as a child.
func startBaseline(ctx context.Context, dir string, cl *cleanups) (string, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	c, err := startChild("baseline", dir, self, []string{"baseline-server", addr}, nil)
	if err != nil {
		return "", nil, err
	}
	stop := func() { c.stop(5 * time.Second) }
	cl.add(stop)
	base := "http://" + addr
	if err := waitHTTP(ctx, c, base+baselinePath, 15*time.Second); err != nil {
		return "", nil, err
	}
	return base, stop, nil
}
