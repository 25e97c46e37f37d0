package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/redis/go-redis/v9"

	"github.com/startline/startline/antibot/pow"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/worker"
)

// TestOperationsMetrics is the issue's "Done when" for operations. It
// serves the app and runs `startline worker` (worker only, its metrics on
// STARTLINE_METRICS_ADDR) with an SMTP server that is down; a runner
// applies through the API, a reviewer decides on the entry, the code mail
// fails. The API's /metrics, read from loopback, then shows every series
// docs/OPERATIONS.md names with its labels (routes as templates, never a
// slug or an id), and the worker's shows the mail and task failures. A
// client outside the allowed networks (through the trusted proxy) gets a
// 404.
func TestOperationsMetrics(t *testing.T) {
	// Its own Redis database: budgets that other tests spend on the shared
	// database 0 (the same IPs, the demo's slug) must not refuse its runners.
	redisURL := fmt.Sprintf("redis://127.0.0.1:6379/%d", opsRedisDB)
	t.Setenv("REDIS_URL", redisURL)
	clearRedisPrefix(t, redisURL, "startline:*")
	t.Cleanup(func() { clearRedisPrefix(t, redisURL, "startline:*") })
	_, dsn := pgtest.NewStore(t)
	queue := opsQueue(t)
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("STARTLINE_ENV", "dev")
	t.Setenv("STARTLINE_SECRET_KEY", "ops-test-secret-key-ops-test-secret-key-ops")
	t.Setenv("STARTLINE_PUBLIC_URL", "")
	t.Setenv("STARTLINE_QUEUE", queue)
	t.Setenv("STARTLINE_TRUSTED_PROXIES", "127.0.0.1/32")
	t.Setenv("SMTP_URL", "smtp://127.0.0.1:"+strconv.Itoa(freePort(t))) // nothing listens: every delivery fails
	if err := migrateCmd(context.Background(), mustConfig(t), io.Discard); err != nil {
		t.Fatal(err)
	}
	a, srv := serveApp(t)
	ctx := context.Background()

	// `startline worker`, with its own metrics listener.
	metricsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	t.Setenv("STARTLINE_METRICS_ADDR", metricsAddr)
	wctx, stop := context.WithCancel(ctx)
	werr := make(chan error, 1)
	go func() {
		werr <- serveCmd(wctx, mustConfig(t), slog.New(slog.NewTextHandler(io.Discard, nil)), false, true)
	}()
	t.Cleanup(func() {
		stop()
		if err := <-werr; err != nil {
			t.Errorf("worker: %v", err)
		}
	})

	if _, err := a.staff.Add(ctx, "organizer@ops.test", lottery.RoleOrganizer, ""); err != nil {
		t.Fatal(err)
	}
	org, err := a.store.StaffByEmail(ctx, "organizer@ops.test")
	if err != nil {
		t.Fatal(err)
	}
	spec := demoSpec(time.Now())
	spec.Slug, spec.Series, spec.EditionYear = "ops-run", "", 0
	spec.Form.Questions = nil // the API runner answers none
	if _, err := a.svc.CreateEvent(ctx, org, spec); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Transition(ctx, org, spec.Slug, lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}

	// Two runners apply through the API (challenge, code, application);
	// the second's browser says it is automated, which flags the entry.
	const email = "runner@ops.test"
	apiRunner{t, srv.URL, spec.Slug, 1}.apply(email, false)
	entryID := apiRunner{t, srv.URL, spec.Slug, 2}.apply("flagged@ops.test", true)
	// A third joins the walkers' waiting room (first come); the worker
	// opens the line and admits them.
	apiRunner{t, srv.URL, spec.Slug, 3}.join("5k", "walk", "walker@ops.test")
	// A reviewer approves the flagged entry.
	if _, err := a.staff.Add(ctx, "reviewer@ops.test", lottery.RoleReviewer, ""); err != nil {
		t.Fatal(err)
	}
	tok, err := a.staff.IssueToken(ctx, "reviewer@ops.test")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/review/entries/"+entryID+"/decision",
		strings.NewReader(`{"decision":"approve","note":"operations test"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("review decision: %d %s", res.StatusCode, body)
	}

	text := scrape(t, srv.URL+"/metrics")
	for _, want := range []string{
		// requests and latency by route template
		`startline_http_requests_total{class="2xx",method="POST",route="/api/v1/events/:slug/entries"} 2`,
		`startline_http_requests_total{class="2xx",method="POST",route="/api/v1/review/entries/:id/decision"} 1`,
		`startline_http_request_duration_seconds_bucket{class="2xx",route="/api/v1/events/:slug/entries",le="+Inf"} 2`,
		`startline_http_request_duration_seconds_count{class="2xx",route="/api/v1/events/:slug/entries"} 2`,
		// decisions by outcome and reason, reviewers' decisions
		`startline_apply_decisions_total{outcome="accepted"} 1`, `startline_apply_decisions_total{outcome="review"} 1`,
		`startline_apply_decisions_total{outcome="rejected"} 0`, `startline_apply_risk_reasons_total{outcome="review",reason="webdriver"} 1`,
		`startline_review_decisions_total{decision="approve"} 1`, `startline_review_decisions_total{decision="reject_cluster"} 0`,
		// entries and offers by state, the outbox
		`startline_entries{status="received"} 2`, `startline_entries{status="in_review"} 0`, `startline_entries{status="rejected"} 0`,
		`startline_offers{status="pending"} 0`, `startline_offers{status="paid"} 0`, "startline_outbox_unsent ",
		"startline_db_scrape_ok 1",
		// queue lengths: the task queue by state, the open waiting-room line
		`startline_task_queue_tasks{queue="` + queue + `",state="pending"} `, `startline_task_queue_tasks{queue="` + queue + `",state="active"} `,
		`startline_task_queue_tasks{queue="` + queue + `",state="scheduled"} `, `startline_task_queue_tasks{queue="` + queue + `",state="retry"} `,
		`startline_task_queue_tasks{queue="` + queue + `",state="archived"} `, "startline_task_queue_scrape_ok 1",
		// one queue per kind of work (worker.Queues)
		`startline_task_queue_tasks{queue="` + queue + `-mail",state="pending"} `,
		`startline_task_queue_tasks{queue="` + queue + `-background",state="pending"} `,
		`startline_waitroom_waiting{event="ops-run",subqueue="5k:walk"} `, `startline_waitroom_admitted{event="ops-run",subqueue="5k:walk"} `,
		// mail and task failures (counted where the worker runs)
		"startline_mail_failures_total 0", `startline_task_failures_total{type="mail:send"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the API's scrape lacks %q", want)
		}
	}
	for _, leak := range []string{entryID, email, "flagged@ops.test"} {
		if strings.Contains(text, leak) {
			t.Errorf("the scrape shows %q", leak)
		}
	}
	checkLabelsBounded(t, text)

	// The worker process: the code mail failed, and so did its task; the
	// walker was admitted (the line's place 1), so nobody waits.
	var wtext string
	waitFor(t, 60*time.Second, 250*time.Millisecond, "the worker to count the failed mail and admit the walker", func() (bool, error) {
		wtext = scrape(t, "http://"+metricsAddr+"/metrics")
		return metricValue(wtext, "startline_mail_failures_total") >= 1 &&
			metricValue(wtext, `startline_task_failures_total{type="mail:send"}`) >= 1 &&
			metricValue(wtext, `startline_waitroom_admitted{event="ops-run",subqueue="5k:walk"}`) == 1 &&
			metricValue(wtext, `startline_waitroom_waiting{event="ops-run",subqueue="5k:walk"}`) == 0, nil
	})
	for _, want := range []string{"startline_db_scrape_ok 1", "startline_task_queue_scrape_ok 1", `startline_entries{status="received"} 2`} {
		if !strings.Contains(wtext, want) {
			t.Errorf("the worker's scrape lacks %q", want)
		}
	}

	// From outside: behind the trusted proxy a public client is refused
	// with the site's ordinary 404, here and on the worker's listener.
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || bytes.Contains(body, []byte("startline_")) {
		t.Errorf("/metrics for 203.0.113.9: %d\n%s", res.StatusCode, body)
	}
	rec := httptest.NewRecorder()
	outside := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	outside.RemoteAddr = "203.0.113.9:5000"
	a.metrics.Handler(a.cfg.MetricsAllow).ServeHTTP(rec, outside)
	if rec.Code != http.StatusNotFound {
		t.Errorf("the metrics listener for 203.0.113.9: %d", rec.Code)
	}
}

// TestQueueMonitorStaffOnly: /admin/queues refuses the public. Anonymous,
// the page redirects (302) to the staff login and its JSON API answers
// 401; a runner's browser (its cookies, even a made-up staff cookie) is
// refused the same way; a signed-in reviewer and organizer see it.
func TestQueueMonitorStaffOnly(t *testing.T) {
	_, dsn := pgtest.NewStore(t)
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("STARTLINE_ENV", "dev")
	t.Setenv("STARTLINE_SECRET_KEY", "ops-test-secret-key-ops-test-secret-key-ops")
	t.Setenv("STARTLINE_PUBLIC_URL", "")
	t.Setenv("STARTLINE_QUEUE", opsQueue(t))
	if err := migrateCmd(context.Background(), mustConfig(t), io.Discard); err != nil {
		t.Fatal(err)
	}
	a, srv := serveApp(t)
	ctx := context.Background()

	get := func(c *http.Client, path string, hdr ...string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	refused := func(who string, c *http.Client, hdr ...string) {
		t.Helper()
		if code, _, h := get(c, "/admin/queues", hdr...); code != http.StatusFound || h.Get("Location") != "/staff/login?next=%2Fadmin%2Fqueues" {
			t.Errorf("%s: GET /admin/queues %d %v", who, code, h.Get("Location"))
		}
		if code, body, _ := get(c, "/admin/queues/api/queues", hdr...); code != http.StatusUnauthorized || !strings.Contains(body, `"code":"unauthorized"`) {
			t.Errorf("%s: GET /admin/queues/api/queues %d %s", who, code, body)
		}
	}
	refused("anonymous", noFollow(nil))

	// A runner: the cookies the public pages gave them, and a staff cookie
	// of their own making.
	jar, _ := cookiejar.New(nil)
	runner := noFollow(jar)
	if code, _, _ := get(runner, "/"); code != http.StatusOK {
		t.Fatalf("home: %d", code)
	}
	refused("runner", runner)
	refused("runner with a made-up staff cookie", runner, "Cookie", "sl_staff=slt_"+strings.Repeat("a", 40))

	for _, role := range []lottery.Role{lottery.RoleReviewer, lottery.RoleOrganizer} {
		email := string(role) + "@ops.test"
		enr, err := a.staff.Add(ctx, email, role, "correct horse battery staple")
		if err != nil {
			t.Fatal(err)
		}
		key, _ := otp.NewKeyFromURL(enr.TOTPURL)
		code, _ := totp.GenerateCode(key.Secret(), time.Now())
		res, err := noFollow(nil).PostForm(srv.URL+"/staff/login", url.Values{"email": {email},
			"password": {"correct horse battery staple"}, "otp": {code}, "next": {"/admin/queues"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/queues" {
			t.Fatalf("%s login: %d %v", role, res.StatusCode, res.Header)
		}
		cookie := strings.Split(res.Header.Get("Set-Cookie"), ";")[0]
		if st, body, _ := get(noFollow(nil), "/admin/queues", "Cookie", cookie); st != http.StatusOK || !strings.Contains(body, "/admin/queues") {
			t.Errorf("%s: GET /admin/queues %d", role, st)
		}
		if st, body, _ := get(noFollow(nil), "/admin/queues/api/queues", "Cookie", cookie); st != http.StatusOK || !strings.Contains(body, "queues") {
			t.Errorf("%s: GET /admin/queues/api/queues %d %s", role, st, body)
		}
	}
}

// apiRunner is a runner on a phone using the API, from an address and a
// device of its own (runner i).
type apiRunner struct {
	t          *testing.T
	base, slug string
	i          int
}

// call sends one JSON request as the runner's phone would.
func (r apiRunner) call(method, path string, body any, hdr ...string) (int, []byte) {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.base+path, rd)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")
	req.Header.Set("Accept-Language", "ko-KR,ko;q=0.9,en;q=0.5")
	req.Header.Set("Origin", r.base)
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("175.223.10.%d", r.i)) // a Korean mobile address, through the trusted proxy
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// proof asks for a challenge and solves it.
func (r apiRunner) proof() string {
	r.t.Helper()
	code, raw := r.call("POST", "/api/v1/events/"+r.slug+"/challenge", nil)
	var ch pow.Challenge
	if code != http.StatusOK || json.Unmarshal(raw, &ch) != nil {
		r.t.Fatalf("challenge: %d %s", code, raw)
	}
	n, err := pow.Solve(context.Background(), ch)
	if err != nil {
		r.t.Fatal(err)
	}
	return pow.EncodePayload(ch, n)
}

// apply applies to the event's 10K open group with a code from the dev
// outbox and returns the entry's id. An automated runner's browser says
// so (navigator.webdriver).
func (r apiRunner) apply(email string, automated bool) string {
	r.t.Helper()
	altcha := r.proof()
	if code, raw := r.call("POST", "/api/v1/events/"+r.slug+"/otp", map[string]string{"email": email}); code != http.StatusAccepted {
		r.t.Fatalf("otp: %d %s", code, raw)
	}
	msgs := devOutbox(r.t, r.base, email)
	var otpCode string
	for _, m := range msgs {
		if c := otpMailRe.FindStringSubmatch(m.Body); c != nil {
			otpCode = c[1]
			break
		}
	}
	if otpCode == "" {
		r.t.Fatalf("no code mail for %s: %+v", email, msgs)
	}
	code, raw := r.call("POST", "/api/v1/events/"+r.slug+"/entries", map[string]any{"course": "10k", "pace_group": "open",
		"name": fmt.Sprintf("Kim Minjun %d", r.i), "email": email, "phone": fmt.Sprintf("+82 10-5000-%04d", r.i), "birth_date": "1990-04-01",
		"otp": otpCode, "altcha": altcha, "consents": map[string]any{"privacy": "2026-12", "waiver": "2026-12"},
		"signals": map[string]any{"webdriver": automated, "fill_ms": 43000, "timezone": "Asia/Seoul",
			"languages": []string{"ko-KR", "ko", "en"}, "platform": "iPhone", "screen": "390x844", "touch": true,
			"fingerprint": fmt.Sprintf("fp-0badc0%02d", r.i)}}, "Idempotency-Key", fmt.Sprintf("ops-apply-%d", r.i))
	var out struct {
		EntryID string `json:"entry_id"`
	}
	if code != http.StatusCreated || json.Unmarshal(raw, &out) != nil || out.EntryID == "" {
		r.t.Fatalf("apply: %d %s", code, raw)
	}
	return out.EntryID
}

// join joins the waiting room of a first-come pace group.
func (r apiRunner) join(course, group, email string) {
	r.t.Helper()
	if code, raw := r.call("POST", "/api/v1/events/"+r.slug+"/queue", map[string]string{"course": course, "pace_group": group,
		"email": email, "altcha": r.proof()}); code != http.StatusCreated {
		r.t.Fatalf("join: %d %s", code, raw)
	}
}

// opsRedisDB is the Redis database TestOperationsMetrics uses (the console
// walk has 11, the matrix 12, the journey 13).
const opsRedisDB = 10

// opsQueue is a task queue of the test's own on the shared Redis, removed
// when the test ends, so its sizes are the test's alone.
func opsQueue(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	q := "ops-test-" + hex.EncodeToString(b)
	redisURL := getenv("REDIS_URL", "redis://127.0.0.1:6379/0")
	t.Cleanup(func() {
		names := worker.QueuesFor(q).Names()
		for _, n := range names {
			clearRedisPrefix(t, redisURL, "asynq:{"+n+"}:*")
		}
		if opt, err := redis.ParseURL(redisURL); err == nil {
			rdb := redis.NewClient(opt)
			rdb.SRem(context.Background(), "asynq:queues", names)
			rdb.Close()
		}
	})
	return q
}

func noFollow(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// scrape reads a /metrics page from loopback.
func scrape(t *testing.T, u string) string {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", u, res.StatusCode, b)
	}
	return string(b)
}

// metricValue is the value of the series written exactly as name{labels},
// or -1 when the scrape lacks it.
func metricValue(text, series string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

var seriesLine = regexp.MustCompile(`^(startline_[a-z_]+)(?:\{(.*)\})? `)

// checkLabelsBounded: the startline_* series carry only the labels
// docs/OPERATIONS.md lists, and no route label is a raw path (a route
// template's parameters start with ':' or '*', a raw path would hold an
// id or a slug).
func checkLabelsBounded(t *testing.T, text string) {
	t.Helper()
	allowed := map[string]bool{"route": true, "method": true, "class": true, "le": true, "outcome": true, "reason": true,
		"decision": true, "type": true, "status": true, "queue": true, "state": true, "event": true, "subqueue": true}
	label := regexp.MustCompile(`([a-z_]+)="((?:[^"\\]|\\.)*)"`)
	for _, line := range strings.Split(text, "\n") {
		m := seriesLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, l := range label.FindAllStringSubmatch(m[2], -1) {
			if !allowed[l[1]] {
				t.Errorf("%s has the label %s", m[1], l[1])
			}
			if l[1] == "route" && l[2] != "unmatched" && l[2] != "/metrics" && !routeTemplate(l[2]) {
				t.Errorf("%s has the route %q", m[1], l[2])
			}
		}
	}
}

// routeTemplate reports whether a route label looks like Gin's pattern:
// each segment is fixed text of the site's own routes or a parameter.
func routeTemplate(r string) bool {
	for _, seg := range strings.Split(strings.Trim(r, "/"), "/") {
		if strings.HasPrefix(seg, ":") || strings.HasPrefix(seg, "*") {
			continue
		}
		if strings.ContainsAny(seg, "0123456789") && seg != "v1" || strings.Contains(seg, "@") {
			return false
		}
	}
	return true
}

var otpMailRe = regexp.MustCompile(`(?:is|코드는) ([0-9]{6})`) // English or Korean code mail

// TestMetricsAddrConfig: STARTLINE_METRICS_ADDR is a host:port; anything
// else stops the start, and a port already taken fails the listener.
func TestMetricsAddrConfig(t *testing.T) {
	t.Setenv("STARTLINE_SECRET_KEY", "ops-test-secret-key-ops-test-secret-key-ops")
	for _, v := range []string{"9091", "http://127.0.0.1:9091", "127.0.0.1"} {
		t.Setenv("STARTLINE_METRICS_ADDR", v)
		if _, err := loadConfig(io.Discard); err == nil || !strings.Contains(err.Error(), "STARTLINE_METRICS_ADDR") {
			t.Errorf("STARTLINE_METRICS_ADDR=%q: err %v", v, err)
		}
	}
	t.Setenv("STARTLINE_METRICS_ADDR", ":9091")
	if cfg, err := loadConfig(io.Discard); err != nil || cfg.MetricsAddr != ":9091" {
		t.Errorf("STARTLINE_METRICS_ADDR=:9091: %q %v", cfg.MetricsAddr, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := serveMetrics(ln.Addr().String(), nil, nil, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("a metrics listener on a port in use started")
	}
}
