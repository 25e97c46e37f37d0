package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // the profiles docs/BENCHMARKS.md quotes, on the bench's own port
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/postgres/pgtest"
)

// TestReadBenchServe is the results-day read bench's server side (issue 16,
// docs/BENCHMARKS.md), not a test: skipped unless STARTLINE_READBENCH=1.
// On its own database it seeds a drawn, published event of
// STARTLINE_READBENCH_ENTRIES entries per pace group (default 10,000, two
// pace groups), writes every entry's status path (with its receipt token)
// to STARTLINE_READBENCH_PATHS for wrk's Lua script, and serves for
// STARTLINE_READBENCH_FOR (default 2m) or until interrupted, from port
// STARTLINE_READBENCH_PORT (P, default 18080):
//
//	127.0.0.1:P    a bare Gin handler (GET /bare), the baseline
//	127.0.0.1:P+1  the production router with the read cache
//	127.0.0.1:P+2  the production router without it (as before issue 16)
//	127.0.0.1:P+9  net/http/pprof
func TestReadBenchServe(t *testing.T) {
	if os.Getenv("STARTLINE_READBENCH") != "1" {
		t.Skip("the read bench's server: STARTLINE_READBENCH=1")
	}
	perGroup, _ := strconv.Atoi(os.Getenv("STARTLINE_READBENCH_ENTRIES"))
	if perGroup <= 0 {
		perGroup = 10_000
	}
	serveFor, err := time.ParseDuration(os.Getenv("STARTLINE_READBENCH_FOR"))
	if err != nil {
		serveFor = 2 * time.Minute
	}
	_, dsn := pgtest.NewStore(t)
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("REDIS_URL", "redis://127.0.0.1:6379/8")
	t.Setenv("STARTLINE_ENV", "production")
	t.Setenv("STARTLINE_PUBLIC_URL", "http://127.0.0.1:18081")
	t.Setenv("STARTLINE_SECRET_KEY", "read-bench-secret-key-read-bench-secret-key")
	cfg, err := loadConfig(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Logs go where production sends them (a JSON handler on a file), so
	// their cost is in the numbers.
	logf, err := os.CreateTemp("", "readbench-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	log := slog.New(slog.NewJSONHandler(logf, nil))
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	// The seed schedules offer-expiry and mail tasks in Redis DB 8 (no
	// worker runs here): they go with the database.
	defer func() {
		c := context.Background()
		iter := a.redis.Scan(c, 0, "asynq*", 1000).Iterator()
		for iter.Next(c) {
			a.redis.Unlink(c, iter.Val())
		}
	}()

	start := time.Now()
	slug := seedReadBench(t, ctx, a, perGroup)
	keys, err := lottery.NewKeys(cfg.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := a.store.DB().Raw("SELECT id::text FROM entries ORDER BY id").Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	var paths strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&paths, "/api/v1/entries/%s?token=%s\n", id, keys.ReceiptToken(id))
	}
	if f := os.Getenv("STARTLINE_READBENCH_PATHS"); f != "" {
		if err := os.WriteFile(f, []byte(paths.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seeded %s: %d entries in %v", slug, len(ids), time.Since(start).Round(time.Millisecond))

	bare := gin.New()
	bare.GET("/bare", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
	a.startViews(ctx)
	cached, err := a.router()
	if err != nil {
		t.Fatal(err)
	}
	a.views, a.viewSync = nil, nil
	uncached, err := a.router()
	if err != nil {
		t.Fatal(err)
	}
	base, _ := strconv.Atoi(os.Getenv("STARTLINE_READBENCH_PORT"))
	if base == 0 {
		base = 18080
	}
	for port, h := range map[int]http.Handler{base: bare, base + 1: cached, base + 2: uncached, base + 9: http.DefaultServeMux} {
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
	}
	t.Logf("serving %s for %v (or until interrupted)", slug, serveFor)
	// An interrupt ends the serving and still drops the database.
	sctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-sctx.Done():
	case <-time.After(serveFor):
	}
}

// seedReadBench creates bench-drawn: closed, drawn and published, with
// perGroup synthetic entries in each of its two pace groups.
func seedReadBench(t *testing.T, ctx context.Context, a *app, perGroup int) string {
	t.Helper()
	if _, err := a.staff.Add(ctx, "organizer@bench.startline.test", lottery.RoleOrganizer, ""); err != nil {
		t.Fatal(err)
	}
	organizer, err := a.store.StaffByEmail(ctx, "organizer@bench.startline.test")
	if err != nil {
		t.Fatal(err)
	}
	const slug = "bench-drawn"
	now := time.Now()
	spec := lottery.EventSpec{Slug: slug, Name: "Bench 10K (drawn)", TimeZone: "Asia/Seoul",
		OpensAt: now.Add(-14 * 24 * time.Hour).Truncate(time.Minute), ClosesAt: now.Add(-7 * 24 * time.Hour).Truncate(time.Minute),
		OfferHold: "48h", DisputeWindow: "0s", MaxGroupSize: 3, UnreviewedPolicy: lottery.PolicyExclude,
		Details: lottery.DetailsSpec{RaceDate: now.Add(30 * 24 * time.Hour).Format(time.DateOnly), RaceStart: "08:00",
			Place: "Olympic Park, Seoul", Currency: "KRW"},
		Courses: []lottery.CourseSpec{{Code: "10k", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "sub-50", Label: "Under 50 min", PaceMax: "5:00", Capacity: perGroup / 5, Price: 40000},
			{Code: "open", Label: "Open", PaceMin: "5:00", Capacity: perGroup / 3, Price: 40000}}}}}
	if _, err := seedPastEvent(ctx, a, organizer, io.Discard, spec, perGroup); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		action string
		p      lottery.TransitionParams
	}{{lottery.ActionFreeze, lottery.TransitionParams{BeaconRound: "none"}}, {lottery.ActionReveal, lottery.TransitionParams{}},
		{lottery.ActionDraw, lottery.TransitionParams{}}} {
		if _, err := a.svc.Transition(ctx, organizer, slug, step.action, step.p); err != nil {
			t.Fatalf("%s: %v", step.action, err)
		}
	}
	_, ds, err := a.draws.Draws(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if _, err := a.draws.RunDraw(ctx, d.SubQueueID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.svc.Transition(ctx, organizer, slug, lottery.ActionPublishResults, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	return slug
}
