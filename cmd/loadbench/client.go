package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// client is the Go load client: one tuned Transport shared by every
// simulated browser (keep-alive connections up to the phase's concurrency),
// no cookie jar (each applicant's device cookie is sent by hand) and no
// redirects followed.
type client struct {
	base string
	hc   *http.Client
}

func newClient(base string, conns int) *client {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          conns * 2,
		MaxIdleConnsPerHost:   conns * 2,
		MaxConnsPerHost:       0,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ForceAttemptHTTP2:     false,
	}
	return &client{base: base, hc: &http.Client{Transport: tr, Timeout: 90 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// answer is a server reply.
type answer struct {
	status int
	body   []byte
	code   string // error.code of an error body, with its field: "invalid_field:phone"
	header http.Header
}

// outcome names an answer for the counts: "201", "409 duplicate_entry".
func (a answer) outcome() string {
	if a.code != "" {
		return strconv.Itoa(a.status) + " " + a.code
	}
	return strconv.Itoa(a.status)
}

// do sends one JSON request as applicant p's browser from p's address
// (X-Forwarded-For; the server trusts the harness's loopback address).
func (c *client) do(ctx context.Context, p *applicant, method, path string, in any, hdr ...string) (answer, error) {
	return c.send(ctx, p, method, path, in, "application/json", hdr...)
}

// page loads a web page as p's browser (the event page sets the device
// cookie, as it does for a runner who opens it before applying).
func (c *client) page(ctx context.Context, p *applicant, path string) (answer, error) {
	return c.send(ctx, p, http.MethodGet, path, nil, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
}

// send is one request; hdr are extra header name, value pairs.
func (c *client) send(ctx context.Context, p *applicant, method, path string, in any, accept string, hdr ...string) (answer, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return answer{}, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return answer{}, err
	}
	if p != nil {
		for k, v := range devices[p.Dev].headers() {
			req.Header.Set(k, v)
		}
		req.Header.Set("Origin", c.base)
		req.Header.Set("Referer", c.base+"/events/"+benchSlug+"/apply")
		req.Header.Set("X-Forwarded-For", p.IP)
		req.Header.Set("Accept", accept)
		if accept != "application/json" {
			req.Header.Set("Sec-Fetch-Mode", "navigate")
			req.Header.Set("Sec-Fetch-Dest", "document")
			req.Header.Del("Origin")
		}
		if p.Cookie != "" {
			req.Header.Set("Cookie", p.Cookie)
		}
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return answer{}, err
	}
	a := answer{status: res.StatusCode, body: b, header: res.Header}
	if res.StatusCode >= 400 {
		var e struct {
			Error struct {
				Code  string `json:"code"`
				Field string `json:"field"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil {
			a.code = e.Error.Code
			if e.Error.Field != "" {
				a.code += ":" + e.Error.Field
			}
		}
	}
	return a, nil
}

// timed runs do and records its duration and outcome in rec.
func (c *client) timed(ctx context.Context, rec *recorder, p *applicant, method, path string, in any, hdr ...string) (answer, error) {
	t0 := time.Now()
	a, err := c.do(ctx, p, method, path, in, hdr...)
	d := time.Since(t0)
	switch {
	case err != nil && ctx.Err() != nil:
		// The run was interrupted: not the server's answer.
	case err != nil:
		rec.add(d, "transport")
	default:
		rec.add(d, a.outcome())
	}
	return a, err
}

// pool runs fn(i) for i in [0, n) on workers goroutines and returns when all
// are done or ctx ends.
func pool(ctx context.Context, n, workers int, fn func(ctx context.Context, i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(ctx, i)
			}
		}()
	}
	wg.Wait()
}

// errorf wraps a non-2xx answer as an error for the preparation steps.
func (a answer) errorf(what string) error {
	return fmt.Errorf("%s: %d %s", what, a.status, bytes.TrimSpace(a.body[:min(len(a.body), 300)]))
}
