package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/api"
	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/internal/readcache"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/lottery/waitroom"
)

// apiProcess is one more API process on the test's database: its own read
// cache, kept by its own change feed, as each process behind the load
// balancer has.
type apiProcess struct {
	srv   *httptest.Server
	views *readcache.Cache
}

// startFeed runs a change feed on dsn into c until the test ends.
func startFeed(t *testing.T, dsn string, store *postgres.Store, c *readcache.Cache) *postgres.ViewFeed {
	t.Helper()
	feed := postgres.NewViewFeed(dsn, store, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError})),
		c.Invalidate, c.Flush)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { feed.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done }) // before the database is dropped
	select {
	case <-feed.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("view feed never listened")
	}
	return feed
}

// cachedProcess mounts the API on e's services with a read cache.
func (e *env) cachedProcess() apiProcess {
	e.t.Helper()
	c := readcache.New(readcache.Config{})
	feed := startFeed(e.t, e.dsn, e.store, c)
	r, err := httpkit.NewEngine(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	d := e.deps
	d.Views, d.ViewSync = c, feed.Sync
	api.Register(r, d)
	srv := httptest.NewServer(r)
	e.t.Cleanup(srv.Close)
	return apiProcess{srv: srv, views: c}
}

type got struct {
	status int
	header http.Header
	body   []byte
}

func (g got) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(g.body, &m); err != nil {
		t.Fatalf("body %.300s: %v", g.body, err)
	}
	return m
}

func fetch(t *testing.T, base, path string, headers ...string) got {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	// The default transport would add Accept-Encoding: gzip and undo it.
	res, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return got{res.StatusCode, res.Header, b}
}

func statusPath(e *env, id string) string {
	return "/api/v1/entries/" + id + "?token=" + e.keys.ReceiptToken(id)
}

// TestViewHeadersAnd304: each cached route answers with a strong ETag and
// its Cache-Control, and a 304 without a body to a request naming it.
func TestViewHeadersAnd304(t *testing.T) {
	e := newEnv(t, true)
	sq := e.drawnEvent(12, 4)
	var selected []string
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND selected ORDER BY position", sq).Scan(&selected)
	p := e.cachedProcess()
	for _, tc := range []struct {
		name, path   string
		headers      []string
		cacheControl string
		vary         string
	}{
		{"event", "/api/v1/events/spring", nil, readcache.PublicShort, ""},
		{"draws", "/api/v1/events/spring/draws", nil, readcache.PublicShort, ""},
		{"status", statusPath(e, selected[0]), nil, readcache.Personal, ""},
		{"artifact", "/api/v1/events/spring/draws/half:sub-130/artifact.json", nil, "public, max-age=3600, immutable", "Accept-Encoding"},
		{"artifact gzipped", "/api/v1/events/spring/draws/half:sub-130/artifact.json", []string{"Accept-Encoding", "gzip"},
			"public, max-age=3600, immutable", "Accept-Encoding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := fetch(t, p.srv.URL, tc.path, tc.headers...)
			etag := first.header.Get("ETag")
			if first.status != 200 || len(etag) < 10 || etag[0] != '"' {
				t.Fatalf("first read: %d ETag %q %.200s", first.status, etag, first.body)
			}
			if got := first.header.Get("Cache-Control"); got != tc.cacheControl {
				t.Errorf("Cache-Control %q, want %q", got, tc.cacheControl)
			}
			if got := first.header.Get("Vary"); got != tc.vary {
				t.Errorf("Vary %q, want %q", got, tc.vary)
			}
			// The uncached process answers the same bytes: the cache changes
			// nothing but the cost.
			if plain := fetch(t, e.srv.URL, tc.path, tc.headers...); string(plain.body) != string(first.body) || plain.header.Get("ETag") != etag {
				t.Errorf("uncached answer differs:\n%.300s\n%.300s", plain.body, first.body)
			}
			again := fetch(t, p.srv.URL, tc.path, append([]string{"If-None-Match", etag}, tc.headers...)...)
			if again.status != http.StatusNotModified || len(again.body) != 0 || again.header.Get("ETag") != etag {
				t.Errorf("revalidation: %d %q ETag %q, want 304 without a body", again.status, again.body, again.header.Get("ETag"))
			}
			if got := again.header.Get("Cache-Control"); got != tc.cacheControl {
				t.Errorf("304 Cache-Control %q, want %q", got, tc.cacheControl)
			}
		})
	}
	t.Run("wrong token", func(t *testing.T) {
		// The status is in memory now; the token is still checked first.
		r := fetch(t, p.srv.URL, "/api/v1/entries/"+selected[0]+"?token=wrong")
		if r.status != 404 {
			t.Errorf("wrong token: %d %.200s", r.status, r.body)
		}
		if r := fetch(t, p.srv.URL, "/api/v1/entries/"+selected[1]+"?token="+e.keys.ReceiptToken(selected[0])); r.status != 404 {
			t.Errorf("another entry's token: %d", r.status)
		}
	})
}

// eventually polls read until ok holds, and fails after two seconds: a
// committed change reaches every process's cache through PostgreSQL's
// NOTIFY, a few milliseconds at most.
func eventually(t *testing.T, what string, read func() got, ok func(got) bool) {
	t.Helper()
	start := time.Now()
	for reads := 1; ; reads++ {
		g := read()
		if ok(g) {
			t.Logf("%s: seen on read %d, %v after the change returned", what, reads, time.Since(start).Round(time.Microsecond))
			return
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("%s: still %d %.400s", what, g.status, g.body)
		}
		time.Sleep(time.Millisecond)
	}
}

func offerStatus(t *testing.T, g got) string {
	if g.status != 200 {
		return ""
	}
	o, _ := g.json(t)["offer"].(map[string]any)
	s, _ := o["status"].(string)
	return s
}

// TestStatusFollowsChangesAcrossProcesses: two API processes, each with
// its own cache, both show an entry's status; an accept, a payment and an
// expiry, made through the services (one on a third process, one by the
// worker's sweep), show on both at once.
func TestStatusFollowsChangesAcrossProcesses(t *testing.T) {
	e := newEnv(t, true)
	pay, _, selected := e.sandboxDrawn()
	a, b := e.cachedProcess(), e.cachedProcess()
	both := []apiProcess{a, b}
	for _, p := range both {
		for _, id := range selected[:2] {
			if s := offerStatus(t, fetch(t, p.srv.URL, statusPath(e, id))); s != "pending" {
				t.Fatalf("before: offer %q, want pending", s)
			}
			// Warm: the second read is from memory.
			if s := offerStatus(t, fetch(t, p.srv.URL, statusPath(e, id))); s != "pending" {
				t.Fatalf("before: offer %q, want pending", s)
			}
		}
	}
	fills := a.views.Stats().Fills

	// Accepted on process a.
	oid, _ := e.offerOf(selected[0])
	req, _ := http.NewRequest("POST", a.srv.URL+"/api/v1/offers/"+oid+"/accept",
		strings.NewReader(`{"token":"`+e.keys.ReceiptToken(selected[0])+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/5.0 (test)")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("accept: %v %v", res, err)
	}
	res.Body.Close()
	// The process that took the write shows it on the next read
	// (read-your-writes: it answered after its feed caught up)...
	if s := offerStatus(t, fetch(t, a.srv.URL, statusPath(e, selected[0]))); s != "accepted" {
		t.Errorf("process a right after its accept: offer %q, want accepted", s)
	}
	// ...and the other one as soon as its feed delivers the same change.
	eventually(t, "accept on process b", func() got { return fetch(t, b.srv.URL, statusPath(e, selected[0])) },
		func(g got) bool { return offerStatus(t, g) == "accepted" })
	// The other entry's cached status was not dropped.
	if fetch(t, a.srv.URL, statusPath(e, selected[1])); a.views.Stats().Fills != fills+1 {
		t.Errorf("fills %d → %d: only the changed entry should refill", fills, a.views.Stats().Fills)
	}

	// Paid through the pay route and the provider's webhook (the uncached process).
	e.paySandbox(pay, selected[0])
	for _, p := range both {
		eventually(t, "payment", func() got { return fetch(t, p.srv.URL, statusPath(e, selected[0])) },
			func(g got) bool { return offerStatus(t, g) == "paid" })
	}

	// The hold ends and the worker's sweep expires the other offer.
	e.clock.Add(48*time.Hour + time.Second)
	if n, err := e.offers.ExpireDue(context.Background()); err != nil || n == 0 {
		t.Fatalf("expiry sweep: %d, %v", n, err)
	}
	for _, p := range both {
		eventually(t, "expiry", func() got { return fetch(t, p.srv.URL, statusPath(e, selected[1])) },
			func(g got) bool { return offerStatus(t, g) == "expired" })
	}

	// An organizer's change of the event shows on the other process's event read.
	before := fetch(t, b.srv.URL, "/api/v1/events/spring").header.Get("ETag")
	e.store.DB().Exec("UPDATE events SET name = 'Spring Marathon 2027' WHERE slug = 'spring'")
	eventually(t, "event change", func() got { return fetch(t, b.srv.URL, "/api/v1/events/spring") },
		func(g got) bool { return g.header.Get("ETag") != before && g.json(t)["name"] == "Spring Marathon 2027" })
}

// tcpProxy forwards to the shared PostgreSQL; closing it is this test's
// outage (the shared server is never touched).
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			if p.closed {
				p.mu.Unlock()
				c.Close()
				u.Close()
				return
			}
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) { _, _ = io.Copy(dst, src); dst.Close(); src.Close() }
			go pipe(u, c)
			go pipe(c, u)
		}
	}()
	t.Cleanup(p.Close)
	return p
}

func (p *tcpProxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

// proxiedProcess is an API process whose PostgreSQL is reached through a
// proxy the test can cut; it shares e's keys and clock (tickets and
// receipts are e's).
func (e *env) proxiedProcess() (apiProcess, *tcpProxy) {
	t := e.t
	t.Helper()
	var db string
	e.store.DB().Raw("SELECT current_database()").Scan(&db)
	u, _ := url.Parse(pgtest.BaseURL())
	proxy := startProxy(t, u.Host)
	u.Host, u.Path = proxy.ln.Addr().String(), "/"+db
	ctx := context.Background()
	store, err := postgres.Open(ctx, u.String(), postgres.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
	cfg := lottery.Config{EventCacheTTL: time.Nanosecond} // every read would go to PostgreSQL
	svc := lottery.NewService(store, e.keys, e.clock, nil, log, cfg)
	reg := registration.NewService(store, svc, e.keys, e.clock, nil, log, cfg)
	dr := draws.NewService(store, svc, reg, e.keys, nil, log)
	off := offers.NewService(store, svc, e.keys, e.clock, nil, log)
	wr := waitroom.NewService(store, svc, e.keys, e.clock, nil, log, cfg)
	views := readcache.New(readcache.Config{})
	feed := startFeed(t, u.String(), store, views)
	r, err := httpkit.NewEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	api.Register(r, api.Deps{Svc: svc, Registration: reg, Draws: dr, Offers: off, Waitroom: wr, Log: log, Views: views, ViewSync: feed.Sync,
		Guard: guardtest.New(t, log, guardtest.Options{}), Readyz: store.Ping})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return apiProcess{srv: srv, views: views}, proxy
}

// TestReadsWithPostgresDown: with PostgreSQL unreachable, a status, event
// or results read the process holds answers from memory (and still 304s);
// one it does not hold answers 503.
func TestReadsWithPostgresDown(t *testing.T) {
	e := newEnv(t, true)
	sq := e.drawnEvent(12, 4)
	var selected []string
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND selected ORDER BY position", sq).Scan(&selected)
	p, proxy := e.proxiedProcess()
	held := []string{statusPath(e, selected[0]), "/api/v1/events/spring", "/api/v1/events/spring/draws"}
	etags := map[string]string{}
	for _, path := range held {
		r := fetch(t, p.srv.URL, path)
		if r.status != 200 {
			t.Fatalf("before the outage %s: %d %.200s", path, r.status, r.body)
		}
		etags[path] = r.header.Get("ETag")
	}
	proxy.Close()
	for _, path := range held {
		if r := fetch(t, p.srv.URL, path); r.status != 200 {
			t.Errorf("held %s: %d %.200s, want 200 from memory", path, r.status, r.body)
		}
		if r := fetch(t, p.srv.URL, path, "If-None-Match", etags[path]); r.status != 304 {
			t.Errorf("held %s revalidated: %d, want 304", path, r.status)
		}
	}
	r := fetch(t, p.srv.URL, statusPath(e, selected[1]))
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("status not held: %d %.200s, want 503 with Retry-After", r.status, r.body)
	}
}

// TestQueuePollWithoutPostgres: waiting-room polls need no PostgreSQL: the
// ticket is signed and the line is the process's copy, so with the
// database unreachable a runner's polls still answer their place.
func TestQueuePollWithoutPostgres(t *testing.T) {
	e := newEnv(t, true)
	e.fcfs(5, 1)
	var tickets []string
	for _, email := range []string{"q1@example.com", "q2@example.com", "q3@example.com"} {
		r := e.join(email)
		if r.Status/100 != 2 || r.str("ticket") == "" {
			t.Fatalf("join: %d %s", r.Status, r.Raw)
		}
		tickets = append(tickets, r.str("ticket"))
	}
	p, proxy := e.proxiedProcess()
	before := fetch(t, p.srv.URL, "/api/v1/queue/"+tickets[2])
	if before.status != 200 {
		t.Fatalf("poll: %d %s", before.status, before.body)
	}
	proxy.Close()
	start := time.Now()
	defer func() { t.Logf("50 polls with PostgreSQL down in %v", time.Since(start)) }()
	for i := range 50 {
		r := fetch(t, p.srv.URL, "/api/v1/queue/"+tickets[i%len(tickets)])
		if r.status != 200 {
			t.Fatalf("poll %d with PostgreSQL down: %d %.200s", i, r.status, r.body)
		}
		if i%len(tickets) == 2 && r.json(t)["position"] != before.json(t)["position"] {
			t.Errorf("position %v, want %v", r.json(t)["position"], before.json(t)["position"])
		}
	}
}
