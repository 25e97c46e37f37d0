//go:build faults

package main

// Helpers of the fault tests (faults_test.go): the real binary run as child
// processes in their own process groups, a private redis-server, a TCP proxy
// in front of the shared PostgreSQL that a test can cut, and an organizer's
// HTTP client. Everything listens on loopback ports picked at random and is
// stopped in t.Cleanup, on failure too; the shared servers are only used for
// the test's own database (created and dropped by pgtest).

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
)

type pgProxy struct {
	target string
	Addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startPGProxy(t *testing.T, target string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{target: target, Addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(func() { p.Cut(); p.wg.Wait() })
	return p
}

func (p *pgProxy) serve(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.pipe(c) }()
		}
	}()
}

func (p *pgProxy) pipe(c net.Conn) {
	u, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut while dialling
		p.mu.Unlock()
		c.Close()
		u.Close()
		return
	}
	p.conns[c], p.conns[u] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(u, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, u); done <- struct{}{} }()
	<-done
	c.Close()
	u.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

// Cut drops every connection and refuses new ones.
func (p *pgProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// Restore accepts connections on the same port again.
func (p *pgProxy) Restore(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", p.Addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("proxy: listen again on %s: %v", p.Addr, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serve(ln)
}

// viaProxy rewrites a PostgreSQL DSN to go through the proxy.
func viaProxy(t *testing.T, dsn, addr string) string {
	t.Helper()
	i := strings.Index(dsn, "@")
	j := strings.Index(dsn[i+1:], "/")
	if i < 0 || j < 0 {
		t.Fatalf("DSN %q: want postgres://user@host:port/name", dsn)
	}
	return dsn[:i+1] + addr + dsn[i+1+j:]
}

// dsnHostPort returns the host:port of a PostgreSQL DSN.
func dsnHostPort(t *testing.T, dsn string) string {
	t.Helper()
	i := strings.Index(dsn, "@")
	j := strings.Index(dsn[i+1:], "/")
	if i < 0 || j < 0 {
		t.Fatalf("DSN %q: want postgres://user@host:port/name", dsn)
	}
	return dsn[i+1 : i+1+j]
}

// faultEnv is one fault test's world: its own database on the shared
// PostgreSQL (pgtest), its own redis-server, the binary and an organizer.
type faultEnv struct {
	t      *testing.T
	bin    string
	store  *postgres.Store // direct connection, for checks
	dsn    string
	redis  *redisServer
	secret string
	home   string
	token  string // organizer bearer token
}

const faultsSecret = "faults-test-secret-key-faults-test-secret-key"

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	e := &faultEnv{t: t, bin: startlineBinary(t), secret: faultsSecret, home: t.TempDir()}
	e.store, e.dsn = pgtest.NewStore(t)
	e.redis = startRedis(t)
	e.run(e.dsn, "staff", "add", "--email", "organizer@faults.startline.test", "--role", "organizer",
		"--password", "faults organizer password 42")
	out := e.run(e.dsn, "staff", "token", "--email", "organizer@faults.startline.test")
	e.token = strings.TrimSpace(out)
	if !strings.HasPrefix(e.token, "slt_") {
		t.Fatalf("staff token: %q", out)
	}
	return e
}

// env is the environment of a child: nothing inherited but PATH.
func (e *faultEnv) env(dsn string, extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.home, "DATABASE_URL=" + dsn,
		"REDIS_URL=" + e.redis.URL, "STARTLINE_ENV=dev", "STARTLINE_SECRET_KEY=" + e.secret,
		"STARTLINE_TRUSTED_PROXIES=127.0.0.1/32"}, extra...)
}

// run runs a one-shot command of the binary and returns its standard output.
func (e *faultEnv) run(dsn string, args ...string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Env, cmd.Dir = e.env(dsn), e.home
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		e.t.Fatalf("startline %s: %v\n%s\n%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

// server is a running `startline serve` (or `all`).
type server struct {
	*proc
	Base string
}

// startServer runs `startline <cmd>` with HTTP on a spare loopback port and
// waits until /healthz answers.
func (e *faultEnv) startServer(cmd, dsn string, extra ...string) *server {
	e.t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(freePort(e.t))
	p := startProc(e.t, cmd, e.bin, []string{cmd}, e.env(dsn, append(extra, "HTTP_ADDR="+addr)...))
	s := &server{proc: p, Base: "http://" + addr}
	s.waitHealthy(e.t)
	return s
}

func (s *server) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(s.Base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) || s.Exited() {
			t.Fatalf("%s on %s did not come up\n%s", s.name, s.Base, tailFile(s.logPath, 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitReady waits until /readyz says PostgreSQL and Redis answer.
func (s *server) waitReady(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		res, err := http.Get(s.Base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: /readyz not 200 within %s (last: %v)", s.name, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startWorker runs `startline worker`.
func (e *faultEnv) startWorker(dsn string) *proc {
	e.t.Helper()
	return startProc(e.t, "worker", e.bin, []string{"worker"}, e.env(dsn))
}

// admin sends an organizer request and returns the status and body.
func (e *faultEnv) admin(s *server, method, path string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.Base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	c := &http.Client{Timeout: 2 * time.Minute}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}

// mustAdmin is admin that fails the test unless the status is want.
func (e *faultEnv) mustAdmin(s *server, want int, method, path string, body any) []byte {
	e.t.Helper()
	st, raw := e.admin(s, method, path, body)
	if st != want {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, st, want, raw)
	}
	return raw
}

// paceGroup is one lottery pace group of a test event.
type paceGroup struct {
	Code     string
	Capacity int
}

// createEvent creates and publishes a one-course event through the
// organizer API, open from opens to closes.
func (e *faultEnv) createEvent(s *server, slug string, opens, closes time.Time, hold string, groups ...paceGroup) {
	e.t.Helper()
	var pgs []any
	for _, g := range groups {
		pgs = append(pgs, map[string]any{"code": g.Code, "label": "Pace " + g.Code, "capacity": g.Capacity, "mode": "lottery"})
	}
	e.mustAdmin(s, http.StatusCreated, "POST", "/api/v1/admin/events", map[string]any{
		"slug": slug, "name": "Faults " + slug, "time_zone": "Asia/Seoul",
		"opens_at": opens.UTC().Format(time.RFC3339), "closes_at": closes.UTC().Format(time.RFC3339),
		"offer_hold": hold, "dispute_window": "0s", "max_group_size": 3, "ticket_rule": "doubling",
		"courses": []any{map[string]any{"code": "10k", "name": "10K", "distance_km": 10, "pace_groups": pgs}},
	})
	e.mustAdmin(s, http.StatusOK, "POST", "/api/v1/admin/events/"+slug+"/publish", nil)
}
