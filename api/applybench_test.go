package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/api"
	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/lottery/staff"
)

// BenchmarkApplyHTTP: 256 (and 64) concurrent clients POST applications through the
// real gin handler (input checks, rate limits and proof-of-work claim on
// Redis, scoring, the store), each with its code stored and its proof of
// work solved beforehand and browser headers; every 201 is read back.
// tx writes each apply in its own transaction, batch by group commit.
// Reports applies/s, p50/p99 and the mean applies per batch statement.
// Run: go test -run '^$' -bench ApplyHTTP -benchtime 4000x ./api/
func BenchmarkApplyHTTP(b *testing.B) {
	for _, mode := range []struct {
		name    string
		cfg     postgres.ApplyBatching
		clients int
	}{{"tx-256", postgres.ApplyBatching{Off: true}, 256}, {"batch-256", postgres.ApplyBatching{}, 256},
		{"tx-64", postgres.ApplyBatching{Off: true}, 64}, {"batch-64", postgres.ApplyBatching{}, 64}} {
		b.Run(mode.name, func(b *testing.B) { benchApplyHTTP(b, mode.cfg, mode.clients) })
	}
}

func benchApplyHTTP(b *testing.B, cfg postgres.ApplyBatching, clients int) {
	ctx := context.Background()
	store, _ := pgtest.NewStore(b)
	store.SetApplyBatching(cfg)
	// 24 connections, not the default 40: the shared PostgreSQL allows 100
	// and other benchmarks hold many; both modes get the same pool.
	if sqlDB, err := store.DB().DB(); err == nil {
		sqlDB.SetMaxOpenConns(24)
	}
	keys, err := lottery.NewKeys([]byte("bench-secret-key-bench-secret-key-0123456789"))
	if err != nil {
		b.Fatal(err)
	}
	clk := &lottery.FixedClock{T: testStart}
	// Errors only: they say why a request got a 503.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	conf := lottery.Config{EventCacheTTL: time.Minute} // as served: events from the cache
	svc := lottery.NewService(store, keys, clk, nil, log, conf)
	reg := registration.NewService(store, svc, keys, clk, nil, log, conf)
	stf := staff.NewService(store, store, keys, clk, nil, log, staff.Config{})
	if _, err := stf.Add(ctx, "org@example.com", lottery.RoleOrganizer, ""); err != nil {
		b.Fatal(err)
	}
	org, err := store.StaffByEmail(ctx, "org@example.com")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateEvent(ctx, org, lottery.EventSpec{Slug: "rush", Name: "Rush", DisputeWindow: "0s", OpensAt: testStart,
		ClosesAt: testStart.Add(24 * time.Hour), MaxGroupSize: 3, OfferHold: "24h",
		Courses: []lottery.CourseSpec{{Code: "ten", Name: "10K", DistanceKM: 10,
			PaceGroups: []lottery.PaceGroupSpec{{Code: "open", Label: "Open", Capacity: 1000}}}}}); err != nil {
		b.Fatal(err)
	}
	ev, err := svc.Transition(ctx, org, "rush", lottery.ActionPublish, lottery.TransitionParams{})
	if err != nil {
		b.Fatal(err)
	}
	clk.T = testStart.Add(time.Minute)

	r, err := httpkit.NewEngine(nil)
	if err != nil {
		b.Fatal(err)
	}
	// Fail closed, so every limit is checked; go-redis's pool (10 per CPU by
	// default) sized for the clients, as REDIS_URL's pool_size can be: 20
	// connections queue 256 requests past the limiter's 200 ms bound.
	g := guardtest.New(b, log, guardtest.Options{FailOpen: false,
		RedisURL: fmt.Sprintf("redis://127.0.0.1:6379/0?pool_size=%d", clients)})
	api.Register(r, api.Deps{Svc: svc, Registration: reg, Guard: g, Staff: stf, Log: log})
	srv := httptest.NewServer(r)
	b.Cleanup(srv.Close)

	// Prepared beforehand: each runner's code (stored as requesting it
	// would) and a solved proof of work.
	const code = "424242"
	type prepared struct {
		body []byte
		idem string
	}
	// The first warm applies run before the timer: a serving process has
	// its connections open and its statements prepared.
	const warm = 512
	reqs := make([]prepared, b.N+warm)
	for i := range reqs {
		email := fmt.Sprintf("rush%d@example.com", i)
		if err := store.DB().Exec(`INSERT INTO otp_codes (event_id, email_key, code_hash, attempts, expires_at) VALUES (?, ?, ?, 0, ?)`,
			ev.ID, email, keys.OTPHash(ev.ID, email, code), clk.T.Add(time.Hour)).Error; err != nil {
			b.Fatal(err)
		}
		ch, err := g.Challenge(clk.T, 0)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{"course": "ten", "pace_group": "open", "name": fmt.Sprintf("Lee Seoyeon %d", i),
			"email": email, "phone": fmt.Sprintf("+82 10-%04d-%04d", 1000+i/10000, i%10000), "birth_date": "1991-05-02",
			"otp": code, "altcha": guardtest.Solve(b, ch), "consents": defaultConsents(),
			"signals": map[string]any{"webdriver": false, "fill_ms": 38000, "timezone": "Asia/Seoul"}})
		reqs[i] = prepared{body: body, idem: fmt.Sprintf("idem-%d", i)}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	post := func(i int) (int, []byte, error) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/events/rush/entries", bytes.NewReader(reqs[i].body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
		req.Header.Set("Accept-Language", "ko-KR,ko;q=0.9,en-US;q=0.8")
		req.Header.Set("Sec-CH-UA-Platform", `"Windows"`)
		req.Header.Set("Idempotency-Key", reqs[i].idem)
		res, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, raw, nil
	}
	var warming sync.WaitGroup
	for i := range warm {
		warming.Add(1)
		go func() {
			defer warming.Done()
			if st, raw, err := post(b.N + i); err != nil || st != http.StatusCreated {
				b.Errorf("warm apply: %d %s %v", st, raw, err)
			}
		}()
	}
	warming.Wait()
	lat := make([]time.Duration, b.N)
	ids := make([]string, b.N)
	batches0, members0 := store.ApplyBatchStats()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				t0 := time.Now()
				st, raw, err := post(i)
				lat[i] = time.Since(t0)
				if err != nil || st != http.StatusCreated {
					b.Errorf("apply %d: %d %s %v", i, st, raw, err)
					return
				}
				var out struct {
					EntryID string `json:"entry_id"`
				}
				_ = json.Unmarshal(raw, &out)
				ids[i] = out.EntryID
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/el.Seconds(), "applies/s")
	b.ReportMetric(float64(lat[b.N/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[b.N*99/100].Microseconds())/1000, "p99-ms")
	if batches, members := store.ApplyBatchStats(); batches > batches0 {
		b.ReportMetric(float64(members-members0)/float64(batches-batches0), "per-batch")
	}
	var stored int
	if err := store.DB().Raw(`SELECT count(*) FROM entries WHERE id = ANY(?::uuid[])`, "{"+joinIDs(ids)+"}").Row().Scan(&stored); err != nil || stored != b.N {
		b.Fatalf("%d acknowledged entries read back (%v), want %d", stored, err, b.N)
	}
}

func joinIDs(ids []string) string {
	var buf bytes.Buffer
	for i, id := range ids {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(id)
	}
	return buf.String()
}
