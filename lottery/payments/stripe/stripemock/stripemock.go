// Package stripemock runs stripe-mock for the tests of the Stripe adapter
// and of the pay and give-back flows through the API and pages: it finds
// or installs the pinned stripe-mock, starts one per test on a free port,
// and puts a recording proxy in front of it, so a test can read the
// amounts Startline sent.
package stripemock

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Module is the stripe-mock the tests install when none is found (the
// version lottery/payments/stripe's tests pin).
const Module = "github.com/stripe/stripe-mock@v0.203.0"

// TestKey is an API key stripe-mock accepts.
const TestKey = "sk_test_123"

var (
	locateOnce      sync.Once
	bin, whyMissing string
)

// locate finds stripe-mock ($STRIPE_MOCK_BIN, $PATH, $GOBIN or $GOPATH/bin,
// the user cache) or installs the pinned version into the user cache.
func locate() (string, string) {
	if p := os.Getenv("STRIPE_MOCK_BIN"); p != "" {
		return p, ""
	}
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p, ""
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", "stripe-mock is not installed and there is no go command to install it"
	}
	for _, v := range []string{"GOBIN", "GOPATH"} {
		out, err := exec.Command(goTool, "env", v).Output()
		if err != nil {
			continue
		}
		for dir := range strings.SplitSeq(strings.TrimSpace(string(out)), string(os.PathListSeparator)) {
			if dir == "" {
				continue
			}
			if v == "GOPATH" {
				dir = filepath.Join(dir, "bin")
			}
			if p := filepath.Join(dir, "stripe-mock"); executable(p) {
				return p, ""
			}
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "startline", "stripe-mock-v0.203.0")
	p := filepath.Join(dir, "stripe-mock")
	if executable(p) {
		return p, ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "install", Module)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Sprintf("`go install %s` failed: %v\n%s", Module, err, out)
	}
	if !executable(p) {
		return "", "`go install " + Module + "` left no binary at " + p
	}
	return p, ""
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Call is one API request as the proxy saw it.
type Call struct {
	Method, Path, IdempotencyKey string
	Form                         url.Values
}

// Mock is a running stripe-mock behind a recording proxy.
type Mock struct {
	URL   string // the proxy's base URL: give it to stripe.Config.BaseURL
	mu    sync.Mutex
	calls []Call
	patch func(c Call, obj map[string]any)
}

// Patch makes the proxy pass each successful JSON answer through fn before
// the client sees it. stripe-mock is stateless (every PaymentIntent it
// returns is requires_payment_method, a capture answers a fixture
// amount), so a test that needs Stripe's real answer patches it in.
func (m *Mock) Patch(fn func(c Call, obj map[string]any)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.patch = fn
}

// Calls returns the requests seen so far with this method and path.
func (m *Mock) Calls(method, path string) []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Call
	for _, c := range m.calls {
		if c.Method == method && c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

// Start runs a stripe-mock of the test's own (skipping the test under
// -short or when none can be found or installed), killed when it ends.
func Start(t testing.TB) *Mock {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: stripe-mock tests skipped")
	}
	locateOnce.Do(func() { bin, whyMissing = locate() })
	if bin == "" {
		t.Skip(whyMissing)
	}
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	setDeathSignal(cmd)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		pw.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		found := false
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "Listening for HTTP at address: "); ok && !found {
				found = true
				addr <- strings.TrimSpace(a)
			}
		}
		close(addr)
		_, _ = io.Copy(io.Discard, pr)
	}()
	var upstream string
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("stripe-mock exited before listening")
		}
		upstream = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("stripe-mock did not listen within 30s")
	}
	waitReady(t, upstream)
	m := &Mock{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		c := Call{Method: r.Method, Path: r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key"), Form: form}
		m.mu.Lock()
		m.calls = append(m.calls, c)
		patch := m.patch
		m.mu.Unlock()
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, upstream+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if patch != nil && resp.StatusCode == http.StatusOK {
			var obj map[string]any
			if json.Unmarshal(out, &obj) == nil {
				patch(c, obj)
				out, _ = json.Marshal(obj)
			}
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	m.URL = srv.URL
	return m
}

func waitReady(t testing.TB, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/payment_intents/pi_ready", nil)
		req.SetBasicAuth(TestKey, "")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock at %s not ready: %v", base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
