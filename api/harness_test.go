package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/antibot/pow"
	abredis "github.com/startline/startline/antibot/redis"
	"github.com/startline/startline/api"
	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/checkin"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/drawstats"
	"github.com/startline/startline/lottery/exports"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/lottery/review"
	"github.com/startline/startline/lottery/selfservice"
	"github.com/startline/startline/lottery/series"
	"github.com/startline/startline/lottery/staff"
	"github.com/startline/startline/lottery/waitroom"
)

// clock is a settable, race-safe clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// env is one test's server on its own database.
type env struct {
	t         *testing.T
	store     *postgres.Store
	svc       *lottery.Service
	draws     *draws.Service
	stats     *drawstats.Service // the odds pass runs through it (the worker's Refresh)
	offers    *offers.Service
	review    *review.Service
	staff     *staff.Service
	waitroom  *waitroom.Service
	self      *selfservice.Service // my entries, withdraw, erase, retention (retention 24h)
	keys      *lottery.Keys        // the service's, to make receipt tokens
	clock     *clock
	srv       *httptest.Server
	organizer string // bearer token
	reviewer  string
	totp      map[string]string // staff e-mail → TOTP secret
	applied   *applyLog         // the decisions registration reported (issue 14, metrics)
	reg       *registration.Service
	dsn       string   // the test database (readcache_test.go listens on it)
	deps      api.Deps // what srv was built from, to mount more API processes on the same services
}

var testStart = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

var generous = guardtest.Generous

func newEnv(t *testing.T, dev bool) *env { return newEnvRules(t, dev, generous, true) }

// deadRedisURL points at a closed port: every Redis call fails fast.
const deadRedisURL = "redis://127.0.0.1:1/0"

var redisURLOverride = map[*testing.T]string{}

// trustedProxiesOverride lets a test speak for clients at other addresses
// through X-Forwarded-For (the server believes it from loopback only).
var trustedProxiesOverride = map[*testing.T][]string{}

func newEnvRules(t *testing.T, dev bool, rules []abredis.Rule, failOpen bool) *env {
	t.Helper()
	store, dsn := pgtest.NewStore(t)
	keys, err := lottery.NewKeys([]byte("test-secret-key-test-secret-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: testStart}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc := lottery.NewService(store, keys, clk, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	reg := registration.NewService(store, svc, keys, clk, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	applied := &applyLog{}
	reg.UseObserver(applied)
	dr := draws.NewService(store, svc, reg, keys, nil, log)
	stats := drawstats.NewService(store, clk, log, drawstats.Config{CacheTTL: time.Nanosecond})
	svc.UseDraws(stats.FinalOnFreeze(dr))
	off := offers.NewService(store, svc, keys, clk, nil, log)
	svc.UseCanceller(off)
	off.UseTransfers(reg, testPublicURL)
	stf := staff.NewService(store, store, keys, clk, nil, log, staff.Config{})
	rev := review.NewService(store, clk, nil, log, nil)
	svc.UseClusters(rev)
	rev.UseEntries(reg)
	self := selfservice.NewService(store, reg, svc, keys, clk, nil, log, selfservice.Config{Retention: 24 * time.Hour})
	wr := waitroom.NewService(store, svc, keys, clk, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	r, err := httpkit.NewEngine(trustedProxiesOverride[t])
	if err != nil {
		t.Fatal(err)
	}
	g := guardtest.New(t, log, guardtest.Options{Rules: rules, FailOpen: failOpen, RedisURL: redisURLOverride[t]})
	deps := api.Deps{Svc: svc, Registration: reg, Draws: dr, Stats: stats, Offers: off, Staff: stf, Review: rev, Waitroom: wr, Guard: g,
		Series: series.NewService(store, "KR", svc.ForgetEvent), Exports: exports.NewService(store, svc, log, "KR"), Log: log, Dev: dev, Self: self,
		Checkin: checkin.NewService(store, checkin.NewSigner(keys.Derive("checkin")), clk.Now),
		Cards:   offers.NewCharger(store, nil, offers.NewMemoryMeter(), clk, nil, log), // reads only: where a charge stands
		Outbox:  lottery.RenderingOutbox{MailStore: store, Renderer: lottery.NewMailRenderer(store, keys, testPublicURL)},
		Readyz:  func(ctx context.Context) error { return store.Ping(ctx) }}
	api.Register(r, deps)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	e := &env{t: t, store: store, svc: svc, draws: dr, stats: stats, offers: off, review: rev, staff: stf, waitroom: wr, self: self, keys: keys, clock: clk, srv: srv, totp: map[string]string{},
		applied: applied, reg: reg, dsn: dsn, deps: deps}
	ctx := context.Background()
	for _, s := range []struct {
		email string
		role  lottery.Role
		tok   *string
	}{{"org@example.com", lottery.RoleOrganizer, &e.organizer}, {"rev@example.com", lottery.RoleReviewer, &e.reviewer}} {
		enr, err := stf.Add(ctx, s.email, s.role, "correct horse battery staple")
		if err != nil {
			t.Fatal(err)
		}
		key, err := otp.NewKeyFromURL(enr.TOTPURL)
		if err != nil {
			t.Fatal(err)
		}
		e.totp[s.email] = key.Secret()
		if *s.tok, err = stf.IssueToken(ctx, s.email); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

type resp struct {
	Status int
	Body   map[string]any
	Header http.Header
	Raw    []byte
}

func (r resp) errCode() string { return r.errField("code") }
func (r resp) errField(k string) string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e[k].(string)
	return s
}
func (r resp) str(k string) string { s, _ := r.Body[k].(string); return s }

func (e *env) do(method, path string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/5.0 (test)")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// eventBody is a valid create-event request opening at testStart for a week.
func eventBody(slug string) map[string]any {
	return map[string]any{
		"slug": slug, "name": "Spring Marathon", "time_zone": "Asia/Seoul",
		"opens_at": testStart.Format(time.RFC3339), "closes_at": testStart.Add(7 * 24 * time.Hour).Format(time.RFC3339),
		"offer_hold": "48h", "dispute_window": "0s", "max_group_size": 4, "ticket_rule": "doubling", "series": slug + "-series",
		"courses": []any{
			map[string]any{"code": "half", "name": "Half", "distance_km": 21.0975, "pace_groups": []any{
				map[string]any{"code": "sub-130", "label": "Under 1:30", "capacity": 100, "mode": "lottery"},
				map[string]any{"code": "open", "label": "Open", "capacity": 300, "mode": "lottery"},
				map[string]any{"code": "fcfs", "label": "First come", "capacity": 10, "mode": "ordered"},
			}},
			map[string]any{"code": "10k", "name": "10K", "distance_km": 10, "pace_groups": []any{
				map[string]any{"code": "open", "label": "Open", "capacity": 200},
			}},
		},
	}
}

// openEvent creates and publishes an event through the organizer API.
func (e *env) openEvent(slug string) {
	e.t.Helper()
	if r := e.do("POST", "/api/v1/admin/events", eventBody(slug), "Authorization", "Bearer "+e.organizer); r.Status != 201 {
		e.t.Fatalf("create event: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/events/"+slug+"/publish", nil, "Authorization", "Bearer "+e.organizer); r.Status != 200 {
		e.t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	e.clock.Set(testStart.Add(time.Hour))
}

// codeRe finds the code in an English or Korean code mail.
var codeRe = regexp.MustCompile(`(?:is|코드는) ([0-9]{6})`)

// testPublicURL is where the test server's mails link to.
const testPublicURL = "https://run.example"

// otp requests a code for email and reads it from the outbox.
func (e *env) otp(slug, email string) string {
	e.t.Helper()
	if r := e.do("POST", "/api/v1/events/"+slug+"/otp", map[string]any{"email": email}); r.Status != 202 {
		e.t.Fatalf("otp: %d %s", r.Status, r.Raw)
	}
	msgs, err := e.store.OutboxFor(context.Background(), email, 1)
	if err != nil || len(msgs) == 0 {
		e.t.Fatalf("outbox for %s: %v %d", email, err, len(msgs))
	}
	m := codeRe.FindStringSubmatch(msgs[0].Body)
	if m == nil {
		e.t.Fatalf("no code in %q", msgs[0].Body)
	}
	return m[1]
}

// altcha solves a fresh proof-of-work challenge of the event.
func (e *env) altcha(slug string) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/events/"+slug+"/challenge", nil)
	if r.Status != 200 {
		e.t.Fatalf("challenge: %d %s", r.Status, r.Raw)
	}
	var ch pow.Challenge
	if err := json.Unmarshal(r.Raw, &ch); err != nil {
		e.t.Fatal(err)
	}
	return guardtest.Solve(e.t, ch)
}

// applyBody is a valid application to spring's half:sub-130 with a solved challenge.
// Each address gets its own phone number and name, so distinct addresses are
// distinct people under every identity key.
func (e *env) applyBody(email, code string) map[string]any {
	b := e.applyBodyNoProof(email, code)
	b["altcha"] = e.altcha("spring")
	return b
}

// applyBodyNoProof is applyBody without the altcha (no challenge request).
func (e *env) applyBodyNoProof(email, code string) map[string]any {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(email)))
	n := h.Sum32() % 100_000_000
	return map[string]any{"course": "half", "pace_group": "sub-130", "name": fmt.Sprintf("Kim Minjun %d", n), "email": email,
		"phone": fmt.Sprintf("+82 10-%04d-%04d", n/10000, n%10000), "birth_date": "1990-04-01", "otp": code,
		"signals":  map[string]any{"webdriver": false, "fill_ms": 42000, "timezone": "Asia/Seoul"},
		"consents": defaultConsents()}
}

// defaultConsents accepts the default privacy notice and waiver, which an
// event without its own documents asks for.
func defaultConsents() map[string]any {
	return map[string]any{"privacy": lottery.DefaultPrivacy.Version, "waiver": lottery.DefaultWaiver.Version}
}

func (e *env) countEntries() int64 {
	var n int64
	if err := e.store.DB().Raw("SELECT count(*) FROM entries").Scan(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// testWriter sends the server's warnings and errors to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}
