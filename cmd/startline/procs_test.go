package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Child processes for the tests that run the real binary: the fault tests
// (build tag faults) and the load-balancer test (lb_test.go). The binary is
// built once per test run; each process runs in its own process group and
// is stopped in t.Cleanup, on failure too.

var (
	binDir    string // removed by TestMain
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "startline-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startlineBinary builds ./cmd/startline once per test run: the fault tests
// crash and restart the real program, not an in-process copy.
func startlineBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil { // a PATH without go: the toolchain's own root
			goBin = filepath.Join(cmp.Or(os.Getenv("GOROOT"), "/usr/local/go"), "bin", "go")
		}
		binPath = filepath.Join(binDir, "startline")
		start := time.Now()
		// Not -race, as `make faults` builds it: a race-instrumented
		// server takes seconds to load its IP tables at every start.
		out, err := exec.Command(goBin, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/startline: %v\n%s", err, out)
			return
		}
		t.Logf("built %s in %s", binPath, time.Since(start).Round(time.Millisecond))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a child process that a test can SIGKILL and start again. Each
// start is a new process group, so a kill takes any grandchild with it, and
// Pdeathsig kills it if the test binary itself dies.
type proc struct {
	t       *testing.T
	name    string
	path    string
	args    []string
	env     []string
	dir     string
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func startProc(t *testing.T, name, path string, args, env []string) *proc {
	t.Helper()
	dir := t.TempDir()
	p := &proc{t: t, name: name, path: path, args: args, env: env, dir: dir, logPath: filepath.Join(dir, name+".log")}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("--- first errors and warnings of %s ---\n%s", name, problems(p.logPath, 20))
			t.Logf("--- last lines of %s's output ---\n%s", name, tailFile(p.logPath, 40))
		}
	})
	p.Start()
	return p
}

// Start runs the process (again); its output is appended to its log file.
func (p *proc) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		p.t.Fatalf("%s: already running", p.name)
	}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		p.t.Fatal(err)
	}
	defer f.Close() // the child has its own descriptor
	fmt.Fprintf(f, "=== %s start %s\n", p.name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.path, p.args...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = p.env, p.dir, f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
}

// Kill sends SIGKILL to the process group (kill -9, no shutdown) and waits
// until the process is gone. Killing a stopped process does nothing.
func (p *proc) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.t.Errorf("%s: still running 15 s after SIGKILL", p.name)
	}
	p.cmd = nil
}

// Exited reports whether the running process ended on its own.
func (p *proc) Exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return true
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Log returns the process's output so far.
func (p *proc) Log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// problems returns the first n ERROR and WARN lines of a JSON log.
func problems(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if len(out) < n && (strings.Contains(l, `"level":"ERROR"`) || strings.Contains(l, `"level":"WARN"`)) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// redisServer is the test's own redis-server on a spare loopback port, with
// no persistence: a restart after a kill starts empty, as a crashed cache
// without a disk would.
type redisServer struct {
	p    *proc
	Addr string
	URL  string
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is not installed (.ci/services.sh installs it)")
	}
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--logfile", ""}
	r := &redisServer{Addr: addr, URL: "redis://" + addr + "/0"}
	r.p = startProc(t, "redis", path, append(args, "--dir", t.TempDir()), []string{"PATH=" + os.Getenv("PATH")})
	r.waitUp(t)
	return r
}

// Kill stops Redis with SIGKILL; Start brings it back on the same port.
func (r *redisServer) Kill() { r.p.Kill() }

func (r *redisServer) Start(t *testing.T) {
	t.Helper()
	r.p.Start()
	r.waitUp(t)
}

func (r *redisServer) waitUp(t *testing.T) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || r.p.Exited() {
			t.Fatalf("redis-server on %s did not come up: %v\n%s", r.Addr, err, tailFile(r.p.logPath, 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pgProxy forwards a loopback port to the shared PostgreSQL. Cut closes the
// listener and every open connection, which is what the service sees when
// PostgreSQL goes down (connections drop, new ones are refused); Restore
