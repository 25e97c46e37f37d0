// Command loadbench is `make bench`: one run on loopback that measures
// Startline against its references. It makes its own PostgreSQL database
// and redis-server, migrates, creates a bench event through the organizer
// API, starts `bin/startline all` in dev mode (trusting X-Forwarded-For from
// loopback so the client can be a crowd), and measures:
//
//   - a bare Gin handler (the baseline for reads) and pgbench's one-row
//     insert (the reference for apply), plus an apply-shaped transaction;
//   - reads with wrk (event, entry status, waiting-room polls, results
//     pages after a published draw);
//   - code requests, applies and waiting-room joins with a Go client whose
//     browsers carry real headers, device cookies and form signals, every
//     proof of work solved and code read before the timed phase.
//
// Every acknowledged (201) application is read back from PostgreSQL; any
// missing one fails the run (exit 1), as does a 5xx answer. The table goes
// to stdout and, with -md, to a markdown file with the commit, date, load
// and commands. Children are stopped and the databases dropped at the end,
// on failure and on Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the flags.
type options struct {
	bin, pg, pgbench, wrk string
	applyN, joinN         int
	duration              time.Duration
	conns, applyConns     int
	threads, pgClients    int
	only                  string
	phases                map[string]bool
	keep                  bool
	md                    string
	pprof                 string
	seed                  uint64
	capacity              int
	command               string
}

// allPhases in run order. -only names some; dependencies are added.
var allPhases = []string{"baseline", "pgbench", "event", "otp", "apply", "status", "join", "poll", "results"}

// parseOnly turns -only into the phases to run, adding what they need:
// status and results need applies, applies need codes, polls need joins.
func parseOnly(spec string) (map[string]bool, error) {
	out := map[string]bool{}
	if spec == "" || spec == "all" {
		for _, p := range allPhases {
			out[p] = true
		}
		return out, nil
	}
	for _, p := range strings.Split(spec, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(allPhases, p) {
			return nil, fmt.Errorf("-only: unknown phase %q (want %s)", p, strings.Join(allPhases, ","))
		}
		out[p] = true
	}
	if out["status"] || out["results"] {
		out["apply"] = true
	}
	if out["apply"] {
		out["otp"] = true
	}
	if out["poll"] {
		out["join"] = true
	}
	return out, nil
}

func (o options) want(phase string) bool { return o.phases[phase] }

// wantScript: pgbench runs all its scripts when its phase runs.
func (o options) wantScript(string) bool { return o.want("pgbench") }

// needsApp is whether any phase talks to Startline.
func (o options) needsApp() bool {
	for _, p := range allPhases[2:] {
		if o.want(p) {
			return true
		}
	}
	return false
}

func main() {
	if len(os.Args) >= 3 && os.Args[1] == "baseline-server" {
		if err := baselineServer(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "loadbench:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	fs := flag.NewFlagSet("loadbench", flag.ExitOnError)
	fs.StringVar(&o.bin, "bin", "bin/startline", "the startline binary under test (make bench builds it)")
	fs.StringVar(&o.pg, "pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL DSN of a role that may create and drop databases")
	fs.StringVar(&o.pgbench, "pgbench", "/usr/bin/pgbench", "pgbench binary")
	fs.StringVar(&o.wrk, "wrk", "wrk", "wrk binary")
	fs.IntVar(&o.applyN, "apply-n", 16000, "applicants: each requests a code and applies once (a proof of work each, solved beforehand)")
	fs.IntVar(&o.joinN, "join-n", 4000, "waiting-room joins (tickets for the polls)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each wrk and pgbench phase")
	fs.IntVar(&o.conns, "conns", 256, "wrk connections, and Go client workers for codes and joins")
	fs.IntVar(&o.applyConns, "apply-conns", 256, "concurrent applies")
	fs.IntVar(&o.threads, "threads", 2, "wrk threads")
	fs.IntVar(&o.pgClients, "pgbench-clients", 64, "pgbench clients")
	fs.StringVar(&o.only, "only", "all", "phases to run, comma-separated: "+strings.Join(allPhases, ",")+" (what they need is added)")
	fs.BoolVar(&o.keep, "keep", false, "keep the bench database and the logs for debugging")
	fs.StringVar(&o.md, "md", "", "also write the report as markdown to this file (for docs/BENCHMARKS.md)")
	fs.StringVar(&o.pprof, "pprof", "", "capture a CPU profile of the server during the apply phase into this directory")
	fs.Uint64Var(&o.seed, "seed", 16, "seed of the crowd's identities")
	fs.IntVar(&o.capacity, "capacity", 3000, "places per lottery pace group (four of them; fewer than the applicants, so the draw waitlists)")
	_ = fs.Parse(os.Args[1:])
	o.command = strings.Join(append([]string{"loadbench"}, os.Args[1:]...), " ")
	var err error
	if o.bin, err = filepath.Abs(o.bin); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(2)
	}
	if o.phases, err = parseOnly(o.only); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(2)
	}
	if o.applyN < 1 || o.joinN < 1 || o.conns < 1 || o.applyConns < 1 || o.threads < 1 || o.duration < time.Second {
		fmt.Fprintln(os.Stderr, "loadbench: -apply-n, -join-n, -conns, -apply-conns, -threads must be >= 1 and -duration >= 1s")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var cl cleanups
	logf := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "loadbench: "+format+"\n", a...)
	}
	rep, err := run(ctx, o, &cl, logf)
	if ctx.Err() != nil {
		logf("interrupted: stopping children, dropping databases")
		err = errors.Join(err, errInterrupted)
	}
	stop()
	cl.failed = err != nil
	cl.run()
	if rep != nil {
		if rep.ended.IsZero() {
			rep.finish()
		}
		rep.print(os.Stdout)
		if o.md != "" {
			if werr := rep.writeMarkdownFile(o.md); werr != nil {
				logf("%v", werr)
			} else {
				logf("markdown written to %s", o.md)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench: FAIL:", err)
		os.Exit(1)
	}
}

// run does the whole bench; the report is returned even on failure, with
// what was measured so far.
func run(ctx context.Context, o options, cl *cleanups, logf func(string, ...any)) (*report, error) {
	rep := &report{opts: o, started: time.Now(), loadBefore: loadAvg(), cpus: runtime.NumCPU(), codes: map[string]map[string]int{}}
	dir, err := os.MkdirTemp("", "loadbench-scripts-")
	if err != nil {
		return nil, err
	}
	cl.add(func() { os.RemoveAll(dir) })
	dropStale(ctx, o.pg, logf)
	w := wrkRunner{bin: o.wrk, conns: o.conns, threads: o.threads, duration: o.duration, dir: dir}
	if o.want("baseline") {
		if err := measureBaseline(ctx, w, dir, cl, rep, logf); err != nil {
			return rep, err
		}
	}
	if o.want("pgbench") {
		res, err := runPgbench(ctx, o, dir, cl, logf)
		if err != nil {
			return rep, err
		}
		for _, r := range res {
			if r.name == "insert1" {
				rep.refs.Insert = r.tps
			}
			rep.add(row{Path: r.label, Unit: "tx/s", Rate: r.tps, PGTx: -1, Command: r.command,
				Note: "latency average " + fmtDur(r.avg) + ", " + fmt.Sprint(o.pgClients) + " clients"})
		}
	}
	if !o.needsApp() {
		rep.finish()
		return rep, nil
	}
	env, err := setup(ctx, o, cl, logf)
	if err != nil {
		return rep, err
	}
	logf("startline on %s, database %s (log: %s)", env.base, env.dbName, env.app.log)
	if err := env.createEvent(ctx, o.capacity); err != nil {
		return rep, err
	}
	err = (&rush{o: o, env: env, w: w, rep: rep, logf: logf}).run(ctx)
	rep.finish()
	return rep, err
}

// measureBaseline runs wrk against the bare Gin handler.
func measureBaseline(ctx context.Context, w wrkRunner, dir string, cl *cleanups, rep *report, logf func(string, ...any)) error {
	base, stop, err := startBaseline(ctx, dir, cl)
	if err != nil {
		return err
	}
	defer stop()
	r, cmd, err := w.run(ctx, wrkTarget{Name: "baseline", Base: base, Paths: []string{baselinePath}, Profiles: profiles()})
	if err != nil {
		return err
	}
	rep.refs.Baseline = r.Rate
	rep.add(wrkRow("baseline: bare Gin handler `GET /baseline`", r, refNone, target{}, cmd))
	logf("baseline: %.0f req/s", r.Rate)
	return nil
}

// wrkRow makes a report row of a wrk result.
func wrkRow(path string, r wrkResult, k ref, t target, cmd string) row {
	return row{Path: path, Unit: "req/s", Rate: r.Rate, P50: r.P50, P99: r.P99, Ref: k, Target: t,
		Requests: r.Requests, Errors: r.Non2xx + r.SocketErrors, PGTx: -1, Command: cmd,
		Note: fmt.Sprintf("%d requests, %d non-2xx/3xx, %d socket errors", r.Requests, r.Non2xx, r.SocketErrors)}
}
