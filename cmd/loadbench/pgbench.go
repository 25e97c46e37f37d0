package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// PostgreSQL's own ceiling on this machine, measured in the same run with
// pgbench on a scratch database: a one-row insert per transaction (the
// reference for apply), and the shape of an apply (check the event, spend
// the code, check and insert the entry, the idempotency record, the mail)
// as six statements and as the same work in one statement.

const pgbenchSchema = `
CREATE TABLE bench_rows (id bigserial PRIMARY KEY, k text NOT NULL, v text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE bench_events (id bigint PRIMARY KEY, status text NOT NULL);
INSERT INTO bench_events VALUES (1, 'open');
CREATE TABLE bench_codes (email text PRIMARY KEY, code_hash bytea NOT NULL, attempts int NOT NULL DEFAULT 0, used_at timestamptz);
INSERT INTO bench_codes (email, code_hash) SELECT 'p' || g || '@x', '\x00' FROM generate_series(1, 100000) g;
CREATE TABLE bench_entries (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), event_id bigint NOT NULL REFERENCES bench_events,
  email_key text NOT NULL, name text NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), UNIQUE (event_id, email_key));
CREATE TABLE bench_idem (key text PRIMARY KEY, entry_id uuid NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE bench_outbox (id bigserial PRIMARY KEY, to_addr text NOT NULL, subject text NOT NULL, body text NOT NULL, kind text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now());
`

// pgbenchScripts are the custom transactions, by name.
var pgbenchScripts = []struct{ name, label, sql string }{
	{"insert1", "pgbench: one-row INSERT per transaction", `\set k random(1, 9000000000000000000)
INSERT INTO bench_rows (k, v) VALUES (:client_id || '-' || :k, 'x');
`},
	{"apply6", "pgbench: apply-shaped transaction, six statements", `\set k random(1, 9000000000000000000)
\set c random(1, 100000)
BEGIN;
SELECT status FROM bench_events WHERE id = 1;
UPDATE bench_codes SET attempts = attempts + 1, used_at = now() WHERE email = 'p' || :c || '@x';
SELECT count(*) FROM bench_entries WHERE event_id = 1 AND email_key = :client_id || '-' || :k;
INSERT INTO bench_entries (event_id, email_key, name, status) VALUES (1, :client_id || '-' || :k, 'Kim Jiho', 'received');
INSERT INTO bench_idem (key, entry_id) SELECT email_key, id FROM bench_entries WHERE event_id = 1 AND email_key = :client_id || '-' || :k;
INSERT INTO bench_outbox (to_addr, subject, body, kind) VALUES (:client_id || '-' || :k, 'received', 'your entry', 'entry');
END;
`},
	{"apply1", "pgbench: the same apply as one statement", `\set k random(1, 9000000000000000000)
\set c random(1, 100000)
WITH ev AS (SELECT id FROM bench_events WHERE id = 1 AND status = 'open'),
code AS (UPDATE bench_codes SET attempts = attempts + 1, used_at = now() WHERE email = 'p' || :c || '@x' RETURNING 1),
e AS (INSERT INTO bench_entries (event_id, email_key, name, status) SELECT 1, :client_id || '-' || :k, 'Kim Jiho', 'received' FROM ev, code RETURNING id, email_key),
i AS (INSERT INTO bench_idem (key, entry_id) SELECT email_key, id FROM e)
INSERT INTO bench_outbox (to_addr, subject, body, kind) SELECT email_key, 'received', 'your entry', 'entry' FROM e;
`},
}

var reTPS = regexp.MustCompile(`(?m)^tps = ([\d.]+) \(without initial connection time\)`)
var reLatAvg = regexp.MustCompile(`(?m)^latency average = ([\d.]+) ms`)

// parsePgbench reads tps and the average latency from pgbench's report.
func parsePgbench(out string) (tps float64, avg time.Duration, err error) {
	m := reTPS.FindStringSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("pgbench printed no tps")
	}
	tps, _ = strconv.ParseFloat(m[1], 64)
	if m := reLatAvg.FindStringSubmatch(out); m != nil {
		ms, _ := strconv.ParseFloat(m[1], 64)
		avg = time.Duration(ms * float64(time.Millisecond))
	}
	return tps, avg, nil
}

// pgbenchResult is one script's measurement.
type pgbenchResult struct {
	name, label, command string
	tps                  float64
	avg                  time.Duration
}

// runPgbench makes a scratch database, runs each script for d with
// clients connections, and drops the database.
func runPgbench(ctx context.Context, o options, dir string, cl *cleanups, logf func(string, ...any)) ([]pgbenchResult, error) {
	name := fmt.Sprintf("startline_bench_%d_pgbench", os.Getpid())
	dsn, err := createDB(ctx, o.pg, name, cl, false, logf)
	if err != nil {
		return nil, err
	}
	defer dropDB(o.pg, name, logf)
	conn, err := connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("pgbench: %w", err)
	}
	_, err = conn.Exec(ctx, pgbenchSchema)
	conn.Close(ctx)
	if err != nil {
		return nil, fmt.Errorf("pgbench schema: %w", err)
	}
	var out []pgbenchResult
	for _, s := range pgbenchScripts {
		if !o.wantScript(s.name) {
			continue
		}
		path := filepath.Join(dir, "pgbench-"+s.name+".sql")
		if err := os.WriteFile(path, []byte(s.sql), 0o600); err != nil {
			return nil, err
		}
		args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(o.pgClients), "-j", "2",
			"-T", strconv.Itoa(max(1, int(o.duration.Round(time.Second)/time.Second))), "-f", path, dsn}
		raw, err := runPgbenchOnce(ctx, o.pgbench, args, logf)
		shown := strings.Join(append([]string{"pgbench"}, append(args[:len(args)-1], "DB")...), " ")
		shown = strings.Replace(shown, path, filepath.Base(path), 1) + " (scripts: cmd/loadbench/pgbench.go)"
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", shown, err, lastLines(string(raw), 15))
		}
		tps, avg, err := parsePgbench(string(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", shown, err, lastLines(string(raw), 15))
		}
		logf("%s: %.0f tx/s", s.name, tps)
		out = append(out, pgbenchResult{name: s.name, label: s.label, command: shown, tps: tps, avg: avg})
	}
	return out, nil
}

// runPgbenchOnce runs pgbench, again (up to ten times, 3 s apart) while
// the shared server has no room for all its clients ("too many clients"):
// other test runs on the machine come and go.
func runPgbenchOnce(ctx context.Context, bin string, args []string, logf func(string, ...any)) ([]byte, error) {
	for try := 1; ; try++ {
		raw, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(raw), "too many clients") || try == 10 {
			return raw, err
		}
		logf("pgbench: PostgreSQL has no room for %s clients now (too many clients); again in 3 s", args[4])
		if err := sleepCtx(ctx, 3*time.Second); err != nil {
			return raw, err
		}
	}
}
