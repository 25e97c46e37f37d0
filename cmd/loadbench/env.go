package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// benchEnv is what the run set up and tears down: its own database, its own
// redis-server and the Startline process under test.
type benchEnv struct {
	o        options
	dir      string // logs, scripts, profiles of this run
	dbName   string
	dsn      string // the bench database
	redisURL string
	secret   string
	app      *child
	base     string // http://127.0.0.1:PORT of the app
	debug    string // the app's metrics listener (pprof), when -pprof
	token    string // organizer bearer token
}

// dsnWithDB returns the admin DSN pointed at database name.
func dsnWithDB(admin, name string) (string, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", fmt.Errorf("-pg %q: %w", admin, err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// createDB creates an empty database and registers its drop.
func createDB(ctx context.Context, admin, name string, cl *cleanups, keep bool, logf func(string, ...any)) (string, error) {
	conn, err := connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("connect %s: %w", redactDSN(admin), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	dsn, err := dsnWithDB(admin, name)
	if err != nil {
		return "", err
	}
	cl.add(func() {
		if keep {
			logf("kept database %s (-keep)", name)
			return
		}
		dropDB(admin, name, logf)
	})
	return dsn, nil
}

// benchDBRe matches the databases runs of this program create.
var benchDBRe = regexp.MustCompile(`^startline_bench_(\d+)(?:_pgbench)?$`)

// staleBenchDBs picks, of the names given, the bench databases whose run
// (the pid in the name) is no longer alive: left by a run that was killed
// with SIGKILL or crashed. alive says whether a pid runs.
func staleBenchDBs(names []string, alive func(pid int) bool) []string {
	var out []string
	for _, n := range names {
		m := benchDBRe.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || alive(pid) {
			continue
		}
		out = append(out, n)
	}
	return out
}

func pidAlive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

// dropStale drops the bench databases of dead runs.
func dropStale(ctx context.Context, admin string, logf func(string, ...any)) {
	conn, err := connect(ctx, admin)
	if err != nil {
		return // createDB reports it
	}
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'startline\_bench\_%'`)
	var names []string
	if err == nil {
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				names = append(names, n)
			}
		}
		rows.Close()
	}
	conn.Close(ctx)
	for _, n := range staleBenchDBs(names, pidAlive) {
		logf("dropping %s, left by a run that is gone", n)
		dropDB(admin, n, logf)
	}
}

func dropDB(admin, name string, logf func(string, ...any)) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connect(ctx, admin)
	if err != nil {
		logf("drop database %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		logf("drop database %s: %v", name, err)
	}
}

func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}

// startRedis runs a private redis-server (no persistence) on a spare port,
// so the run neither reads nor flushes the shared one.
func startRedis(ctx context.Context, dir string, cl *cleanups) (string, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server is not installed (Debian's redis-server; .ci/services.sh installs it): %w", err)
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	p := fmt.Sprint(port)
	c, err := startChild("redis", dir, path, []string{"--port", p, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--dir", dir, "--logfile", ""}, nil)
	if err != nil {
		return "", err
	}
	cl.add(func() { c.stop(5 * time.Second) })
	addr := "127.0.0.1:" + p
	for deadline := time.Now().Add(10 * time.Second); ; {
		out, err := exec.CommandContext(ctx, "redis-cli", "-h", "127.0.0.1", "-p", p, "ping").Output()
		if err == nil && strings.TrimSpace(string(out)) == "PONG" {
			return "redis://" + addr + "/0", nil
		}
		if time.Now().After(deadline) || c.exited() {
			return "", fmt.Errorf("redis-server on %s did not come up (log: %s)", addr, c.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// appEnv is the environment of every startline command of the run.
func (e *benchEnv) appEnv(extra ...string) []string {
	return append([]string{"DATABASE_URL=" + e.dsn, "REDIS_URL=" + e.redisURL, "STARTLINE_ENV=dev",
		"STARTLINE_SECRET_KEY=" + e.secret, "STARTLINE_TRUSTED_PROXIES=127.0.0.1/32", "STARTLINE_QUEUE=loadbench"}, extra...)
}

// startline runs a one-shot startline command and returns its stdout.
func (e *benchEnv) startline(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, e.o.bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, e.appEnv()...)
	cmd.Dir = e.dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("startline %s: %w: %s", strings.Join(args, " "), err, lastLines(stderr.String(), 10))
	}
	return string(out), nil
}

// setup creates the database and Redis, migrates, makes the organizer and
// starts `startline all`.
func setup(ctx context.Context, o options, cl *cleanups, logf func(string, ...any)) (*benchEnv, error) {
	if _, err := os.Stat(o.bin); err != nil {
		return nil, fmt.Errorf("%s: %w (make bench builds it)", o.bin, err)
	}
	dir, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return nil, err
	}
	cl.add(func() {
		switch {
		case o.keep:
			logf("kept logs in %s (-keep)", dir)
		case cl.failed:
			logf("kept logs in %s (the run failed)", dir)
		default:
			os.RemoveAll(dir)
		}
	})
	e := &benchEnv{o: o, dir: dir, dbName: fmt.Sprintf("startline_bench_%d", os.Getpid()), secret: randomHex(32)}
	if e.dsn, err = createDB(ctx, o.pg, e.dbName, cl, o.keep, logf); err != nil {
		return nil, err
	}
	if e.redisURL, err = startRedis(ctx, dir, cl); err != nil {
		return nil, err
	}
	if _, err := e.startline(ctx, "migrate"); err != nil {
		return nil, err
	}
	const organizer = "organizer@loadbench.startline.test"
	if _, err := e.startline(ctx, "staff", "add", "--email", organizer, "--role", "organizer", "--password", "loadbench organizer "+randomHex(8)); err != nil {
		return nil, err
	}
	tok, err := e.startline(ctx, "staff", "token", "--email", organizer)
	if err != nil {
		return nil, err
	}
	e.token = strings.TrimSpace(tok)
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	extra := []string{"HTTP_ADDR=" + addr}
	if o.pprof != "" {
		if e.debug, err = freeAddr(); err != nil {
			return nil, err
		}
		extra = append(extra, "STARTLINE_METRICS_ADDR="+e.debug, "STARTLINE_PPROF=1")
	}
	e.app, err = startChild("startline", dir, o.bin, []string{"all"}, e.appEnv(extra...))
	if err != nil {
		return nil, err
	}
	cl.add(func() { e.app.stop(15 * time.Second) })
	e.base = "http://" + addr
	if err := waitHTTP(ctx, e.app, e.base+"/readyz", 60*time.Second); err != nil {
		return nil, err
	}
	return e, nil
}

// connect opens a PostgreSQL connection, waiting out "too many clients"
// (53300) for up to 20 s: the server is shared, and other test runs come
// and go.
func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, dsn)
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || pe.Code != "53300" || time.Now().After(deadline) {
			return conn, err
		}
		if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
			return nil, err
		}
	}
}
