package main

// Helpers of the Redis Cluster test (cluster_test.go): a Redis Cluster of
// Debian's redis-server processes on spare loopback ports, and the real
// binary, built as the test binary was (with -race when it is, so the build
// reuses the packages `go test` already compiled and only links) and run as
// child processes. Each child runs in its own process group, is killed with
// SIGKILL in t.Cleanup (on failure too) and dies with the test binary
// (Pdeathsig). The names differ from the fault tests' helpers (build tag
// faults), which are built alongside these under `make faults`.

import (
	"context"
	"fmt"
	"net"
	"net/http"
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

// child is a process the test started and will kill.
type child struct {
	name    string
	logPath string
	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
}

// startChild runs path with args and env (nothing inherited) in dir, its
// output in dir/name.log; the log's tail is shown if the test fails.
func startChild(t testing.TB, name, dir, path string, args, env []string) *child {
	t.Helper()
	c := &child{name: name, logPath: filepath.Join(dir, name+".log")}
	f, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() // the child has its own descriptor
	cmd := exec.Command(path, args...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	c.cmd, c.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		c.Kill()
		if t.Failed() {
			t.Logf("--- last lines of %s ---\n%s", name, lastLines(c.logPath, 30))
		}
	})
	return c
}

// Kill sends SIGKILL to the child's process group and waits until it is
// gone; a second call does nothing.
func (c *child) Kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return
	}
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
	}
	c.cmd = nil
}

// Exited reports whether the child ended on its own.
func (c *child) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Log is the child's output so far.
func (c *child) Log() string {
	b, _ := os.ReadFile(c.logPath)
	return string(b)
}

func lastLines(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// sparePort is freePort for benchmarks too.
func sparePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// redisCluster is a Redis Cluster of masters without replicas, no
// persistence, each node on a spare loopback port with its cluster bus on
// another (cluster-port, Redis 7).
type redisCluster struct {
	Addrs []string
	nodes []*child
}

// startRedisCluster starts n redis-server nodes, joins them with
// `redis-cli --cluster create` (16384 slots split evenly), and waits until
// every node reports cluster_state:ok.
func startRedisCluster(t testing.TB, n int) *redisCluster {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is not installed (.ci/services.sh installs it)")
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatal("redis-cli is not installed (.ci/services.sh installs it)")
	}
	dir := t.TempDir()
	rc := &redisCluster{}
	for range n {
		port, bus := strconv.Itoa(sparePort(t)), strconv.Itoa(sparePort(t))
		rc.Addrs = append(rc.Addrs, "127.0.0.1:"+port)
		rc.nodes = append(rc.nodes, startChild(t, "redis-"+port, dir, server, []string{
			"--port", port, "--cluster-port", bus, "--bind", "127.0.0.1", "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes-"+port+".conf"), "--cluster-node-timeout", "5000",
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir, "--logfile", ""},
			[]string{"PATH=" + os.Getenv("PATH")}))
	}
	for i, addr := range rc.Addrs {
		rc.waitNode(t, i, addr, func(c *redis.Client, ctx context.Context) (bool, error) {
			return c.Ping(ctx).Err() == nil, nil
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append(append([]string{"--cluster", "create"}, rc.Addrs...), "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for i, addr := range rc.Addrs {
		rc.waitNode(t, i, addr, func(c *redis.Client, ctx context.Context) (bool, error) {
			info, err := c.ClusterInfo(ctx).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_slots_ok:16384") && strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", n)), nil
		})
	}
	return rc
}

// waitNode polls node i with cond until it holds (15 s at most).
func (rc *redisCluster) waitNode(t testing.TB, i int, addr string, cond func(*redis.Client, context.Context) (bool, error)) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ok, _ := cond(c, ctx)
		cancel()
		if ok {
			return
		}
		if time.Now().After(deadline) || rc.nodes[i].Exited() {
			t.Fatalf("redis node %s not ready\n%s", addr, lastLines(rc.nodes[i].logPath, 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Client is a cluster client on the nodes, closed when the test ends.
func (rc *redisCluster) Client(t testing.TB) *redis.ClusterClient {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: rc.Addrs})
	t.Cleanup(func() { c.Close() })
	return c
}

// Kill stops every node (SIGKILL): the cluster is gone.
func (rc *redisCluster) Kill() {
	for _, n := range rc.nodes {
		n.Kill()
	}
}

// buildStartline builds ./cmd/startline into the test's temporary
// directory, with -race when this test binary has it (raceBuild): the
// packages are then the ones `go test` compiled, and only main is built.
func buildStartline(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go") // make test's own: its build cache
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "startline")
	args := []string{"build", "-o", path}
	if raceBuild {
		args = append(args, "-race")
	}
	start := time.Now()
	if out, err := exec.Command(goBin, append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go %s .: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("built the binary (race %v) in %s", raceBuild, time.Since(start).Round(time.Millisecond))
	return path
}

// waitHTTP polls url until it answers want (60 s at most: a race-built
// binary on a busy CI machine starts slowly) or c exits.
func waitHTTP(t *testing.T, c *child, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == want {
				return
			}
		}
		if time.Now().After(deadline) || c.Exited() {
			t.Fatalf("%s: %s not %d (last: %v)\n%s", c.name, url, want, err, lastLines(c.logPath, 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
