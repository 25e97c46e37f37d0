package stripe

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stripeMockModule is the stripe-mock the tests install when none is found.
const stripeMockModule = "github.com/stripe/stripe-mock@v0.203.0"

// stripeMockBin is the stripe-mock binary TestMain found or installed;
// stripeMockMissing says why there is none.
var stripeMockBin, stripeMockMissing string

func TestMain(m *testing.M) {
	flag.Parse()
	stripeMockBin, stripeMockMissing = locateStripeMock()
	os.Exit(m.Run())
}

// locateStripeMock finds stripe-mock ($STRIPE_MOCK_BIN, $PATH, $GOBIN or
// $GOPATH/bin, then this package's cache) or installs the pinned version
// into the user cache with `go install`, once per package run.
func locateStripeMock() (bin, missing string) {
	if testing.Short() {
		return "", "-short: stripe-mock tests skipped"
	}
	if p := os.Getenv("STRIPE_MOCK_BIN"); p != "" {
		return p, ""
	}
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p, ""
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", "stripe-mock is not installed and there is no go command to install it: " + err.Error()
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
			if p := filepath.Join(dir, "stripe-mock"); isExecutable(p) {
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
	if isExecutable(p) {
		return p, ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "install", stripeMockModule)
	cmd.Dir = os.TempDir() // outside this module: its go.mod plays no part
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Sprintf("stripe-mock is not installed and `go install %s` failed: %v\n%s", stripeMockModule, err, out)
	}
	if !isExecutable(p) {
		return "", "`go install " + stripeMockModule + "` left no binary at " + p
	}
	return p, ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// startStripeMock runs a stripe-mock of its own on a free loopback port
// and returns its base URL; it is killed when the test ends. stripe-mock is
// stateless: it validates each request against Stripe's OpenAPI spec and
// answers with fixture objects.
func startStripeMock(t *testing.T) string {
	t.Helper()
	if stripeMockBin == "" {
		t.Skip(stripeMockMissing)
	}
	// Port 0 on both listeners: the system picks, so parallel runs and a
	// stripe-mock already on the default ports do not collide.
	cmd := exec.Command(stripeMockBin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	setDeathSignal(cmd)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", stripeMockBin, err)
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
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(pr)
		found := false
		for sc.Scan() { // drains the output until stripe-mock exits
			line := sc.Text()
			if found {
				continue
			}
			log.WriteString(line + "\n")
			if a, ok := strings.CutPrefix(line, "Listening for HTTP at address: "); ok {
				found = true
				addr <- strings.TrimSpace(a)
			}
		}
		close(addr)
		_, _ = io.Copy(io.Discard, pr) // a line too long for the scanner
	}()

	var base string
	select {
	case a, ok := <-addr:
		if !ok {
			<-exited
			t.Fatalf("stripe-mock exited before listening:\n%s", log.String())
		}
		base = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatalf("stripe-mock did not listen within 30s")
	}
	waitReady(t, base)
	return base
}

// waitReady polls stripe-mock until it answers an authenticated request.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/payment_intents/pi_ready", nil)
		req.SetBasicAuth(testKey, "")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock at %s not ready: %v", base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
