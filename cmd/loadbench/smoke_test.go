package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSmokeWholeHarness runs `make bench`'s program end to end with tiny
// sizes against the real PostgreSQL and a private redis-server: every phase,
// the read-back and the markdown. It needs wrk, pgbench and redis-server;
// under CI (CI=true) their absence fails the test, locally it skips.
func TestSmokeWholeHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the smoke run takes about a minute")
	}
	for _, tool := range []string{"wrk", "/usr/bin/pgbench", "redis-server", "redis-cli"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing: .ci/bench-tools.sh installs wrk and pgbench, .ci/services.sh redis-server", tool)
			}
			t.Skipf("%s is missing (make bench installs wrk and pgbench)", tool)
		}
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := func(out, pkg string) string {
		path := filepath.Join(dir, out)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", path, pkg)
		cmd.Dir = filepath.Join("..", "..")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
		return path
	}
	startline, loadbench := build("startline", "./cmd/startline"), build("loadbench", "./cmd/loadbench")
	md := filepath.Join(dir, "bench.md")
	cmd := exec.CommandContext(ctx, loadbench, "-bin", startline, "-apply-n", "200", "-join-n", "60", "-duration", "1s",
		"-conns", "32", "-apply-conns", "32", "-pgbench-clients", "8", "-md", md, "-pprof", filepath.Join(dir, "prof"))
	cmd.Dir = dir
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("loadbench ran %s:\n%s", time.Since(t0).Round(time.Second), out)
	if err != nil {
		t.Fatalf("loadbench: %v", err)
	}
	raw, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	got := string(raw)
	for _, want := range []string{
		"| path | throughput | p50 | p99 | ratio | target | met? |",
		"baseline: bare Gin handler",
		"pgbench: one-row INSERT per transaction",
		"pgbench: apply-shaped transaction, six statements",
		"event read `GET /api/v1/events/{slug}` (registration open)",
		"code request `POST /api/v1/events/{slug}/otp`",
		"apply `POST /api/v1/events/{slug}/entries`",
		"200 acknowledged (",
		"200 read back from PostgreSQL",
		"entry status `GET /api/v1/entries/{id}?token=` (results published)",
		"waiting-room join",
		"waiting-room poll",
		"results page `GET /events/{slug}/results`",
		"draws JSON",
		"Commit `",
		"CPU profile of the server during the applies",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("markdown lacks %q:\n%s", want, got)
		}
	}
	// The bench database is gone.
	if strings.Contains(psql(t, `SELECT string_agg(datname, ',') FROM pg_database WHERE datname LIKE 'startline_bench_%'`), "startline_bench_") {
		t.Log("note: some startline_bench_ database exists (maybe another run's)")
	}
}

func psql(t *testing.T, q string) string {
	out, err := exec.Command("psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", q).Output()
	if err != nil {
		t.Logf("psql: %v", err)
	}
	return string(out)
}
