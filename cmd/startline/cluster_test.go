package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"

	"github.com/startline/startline/antibot/ipintel"
	abredis "github.com/startline/startline/antibot/redis"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/lottery/staff"
	"github.com/startline/startline/worker"
)

// TestRedisCluster runs the real binary on a three-node Redis Cluster
// (issue 16, scale-out): `startline serve` and `startline worker` as two
// processes with REDIS_CLUSTER_ADDRS and a fresh database. Runners apply
// (challenge and proof of work, a code by mail, the application: the
// limiter's counters and the proof's replay key on the cluster); two join
// a first-come waiting room and are admitted by the worker's periodic pass
// (Asynq's scheduler on the cluster) and apply with their admission token;
// the organizer closes, freezes and draws (drawn by the worker through
// Asynq), and publishes; one selected runner pays in the sandbox, the
// other's offer expires (its scheduled expiry task, run now through Asynq's
// inspector on the cluster) and goes to the first of the waitlist. The keys
// land on every node. Then the whole cluster is killed: where Redis is
// needed the API answers 503, never 500, and reads that do not need it
// still answer.
func TestRedisCluster(t *testing.T) {
	began := time.Now()
	defer func() { t.Logf("runtime %s", time.Since(began).Round(100*time.Millisecond)) }()
	rc := startRedisCluster(t, 3)
	t.Logf("cluster up in %s", time.Since(began).Round(time.Millisecond))
	e := newClusterEnv(t, rc)
	t.Logf("api and worker up in %s", time.Since(began).Round(time.Millisecond))

	const slug, openSlug = "cluster-10k", "cluster-open" // drawn; open until the outage
	e.createEvent(slug)
	e.createEvent(openSlug)

	// Intake: four runners for two places.
	t0 := time.Now()
	var entries []string
	for i := 1; i <= 4; i++ {
		entries = append(entries, apiRunner{t, e.base, slug, i}.apply(fmt.Sprintf("runner%d@cluster.startline.test", i), false))
	}
	t.Logf("four applied in %s", time.Since(t0).Round(time.Millisecond))

	// The waiting room: two walkers join, the worker's pass admits them,
	// they apply with their admission tokens.
	walkers := []apiRunner{{t, e.base, slug, 21}, {t, e.base, slug, 22}}
	t0 = time.Now()
	tickets := make([]string, len(walkers))
	for i, w := range walkers {
		st, raw := w.call("POST", "/api/v1/events/"+slug+"/queue", map[string]string{"course": "10k", "pace_group": "walk",
			"email": walkerEmail(w), "altcha": w.proof()})
		var j struct {
			Ticket   string `json:"ticket"`
			Position int    `json:"position"`
		}
		if st != http.StatusCreated || json.Unmarshal(raw, &j) != nil || j.Position != i+1 {
			t.Fatalf("join %d: %d %s", i, st, raw)
		}
		tickets[i] = j.Ticket
	}
	for i, w := range walkers {
		var token string
		waitFor(t, 30*time.Second, 250*time.Millisecond, "the worker's admission pass", func() (bool, error) {
			st, raw := w.call("GET", "/api/v1/queue/"+tickets[i], nil)
			var p struct {
				Admitted bool   `json:"admitted"`
				Token    string `json:"admission_token"`
			}
			if st != http.StatusOK || json.Unmarshal(raw, &p) != nil {
				return false, fmt.Errorf("poll: %d %s", st, raw)
			}
			token = p.Token
			return p.Admitted && token != "", nil
		})
		st, raw := e.applyAdmitted(w, token)
		if st != http.StatusCreated || !bytes.Contains(raw, []byte(`"status":"offered"`)) {
			t.Fatalf("walker %d applies: %d %s", i, st, raw)
		}
	}
	t.Logf("walkers admitted and applied in %s", time.Since(t0).Round(time.Millisecond))

	// The draw: close, freeze, reveal, draw (by the worker), publish.
	t0 = time.Now()
	for _, a := range []string{"close", "freeze", "reveal"} {
		body := map[string]any{}
		if a == "freeze" {
			body["beacon_round"] = "none"
		}
		e.mustAdmin(http.StatusOK, "POST", "/api/v1/admin/events/"+slug+"/"+a, body)
	}
	e.mustAdmin(http.StatusAccepted, "POST", "/api/v1/admin/events/"+slug+"/draw", nil)
	waitFor(t, 60*time.Second, 200*time.Millisecond, "the worker's draw", func() (bool, error) {
		var n int64
		err := e.store.DB().Raw(`SELECT count(*) FROM draws d JOIN subqueues q ON q.id = d.subqueue_id
			WHERE q.key = '10k:open' AND d.status = 'drawn'`).Scan(&n).Error
		return n == 1, err
	})
	e.mustAdmin(http.StatusOK, "POST", "/api/v1/admin/events/"+slug+"/publish-results", nil)
	t.Logf("drawn and published in %s", time.Since(t0).Round(time.Millisecond))

	// Offers: the two selected runners hold offers, the others wait.
	var selected, waitlisted []string
	e.store.DB().Raw(`SELECT entry_id::text FROM draw_results r JOIN subqueues q ON q.id = r.subqueue_id
		WHERE q.key = '10k:open' AND r.selected ORDER BY r.position`).Scan(&selected)
	e.store.DB().Raw(`SELECT entry_id::text FROM draw_results r JOIN subqueues q ON q.id = r.subqueue_id
		WHERE q.key = '10k:open' AND NOT r.selected ORDER BY r.position`).Scan(&waitlisted)
	if len(selected) != 2 || len(waitlisted) != 2 {
		t.Fatalf("draw of 4 for 2 places: selected %v, waitlisted %v", selected, waitlisted)
	}
	// One pays in the sandbox's hosted checkout.
	payer := selected[0]
	offerID, st := e.offerOf(payer)
	if st != "pending" {
		t.Fatalf("selected %s: offer %q %s", payer, offerID, st)
	}
	e.payInSandbox(offerID, payer)
	waitFor(t, 10*time.Second, 100*time.Millisecond, "the payment", func() (bool, error) {
		_, st := e.offerOf(payer)
		return st == "paid", nil
	})
	// The other's hold ends: its expiry task, scheduled in Asynq on the
	// cluster for the end of the hold, is run now through the inspector.
	lapsed := selected[1]
	lapsedOffer, _ := e.offerOf(lapsed)
	if err := e.store.DB().Exec(`UPDATE offers SET issued_at = now() - interval '1 minute',
		expires_at = now() - interval '1 second' WHERE id = ?`, lapsedOffer).Error; err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(asynq.RedisClusterClientOpt{Addrs: rc.Addrs})
	defer insp.Close()
	if info, err := insp.GetTaskInfo("startline", "offer-expire:"+lapsedOffer); err != nil || info.State != asynq.TaskStateScheduled {
		t.Fatalf("the offer's expiry task: %+v, %v", info, err)
	}
	if err := insp.RunTask("startline", "offer-expire:"+lapsedOffer); err != nil {
		t.Fatalf("run the expiry task: %v", err)
	}
	waitFor(t, 20*time.Second, 100*time.Millisecond, "the expiry and the offer to the waitlist", func() (bool, error) {
		_, st := e.offerOf(lapsed)
		_, next := e.offerOf(waitlisted[0])
		return st == "expired" && next == "pending", nil
	})
	if _, st := e.offerOf(waitlisted[1]); st != "" {
		t.Errorf("the second of the waitlist has an offer (%s) for no free place", st)
	}

	// Every node holds keys: the limiter's and replay keys spread by their
	// hash tags, Asynq's queue on the slot of {startline}.
	var mu sync.Mutex
	perNode := map[string]int{}
	err := rc.Client(t).ForEachMaster(context.Background(), func(ctx context.Context, n *redis.Client) error {
		keys, err := n.Keys(ctx, "startline:*").Result()
		mu.Lock()
		perNode[n.Options().Addr] += len(keys)
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("startline:* keys per node: %v", perNode)
	if len(perNode) != 3 {
		t.Errorf("startline keys on %d of 3 nodes: %v", len(perNode), perNode)
	}

	// The task queues seen from the API process: the metrics' queue sizes
	// and the staff's queue monitor (asynqmon), both through Asynq's
	// inspector on the cluster.
	if m := scrape(t, e.base+"/metrics"); !strings.Contains(m, "startline_task_queue_scrape_ok 1") {
		t.Errorf("/metrics on the cluster:\n%s", grepLines(m, "startline_task_queue", 10))
	}
	cookie := e.reviewerCookie()
	for _, path := range []string{"/admin/queues/api/queues", "/admin/queues/api/redis_info", "/admin/queues/api/servers",
		"/admin/queues/api/scheduler_entries"} {
		if st, body := e.get(path, "Cookie", cookie); st != http.StatusOK || !strings.Contains(body, "startline") &&
			!strings.Contains(body, "queue:admit") {
			t.Errorf("queue monitor %s on the cluster: %d %.300s", path, st, body)
		}
	}

	// What the flow above did not reach: a refusal taken back (the undo
	// pipeline), a spent proof presented again, and the card meter's
	// WATCH/MULTI transaction.
	checkAdaptersOnCluster(t, rc.Client(t))

	// Nothing the processes logged says a command went to the wrong slot.
	for _, c := range []*child{e.api, e.worker} {
		for _, bad := range []string{"CROSSSLOT", "MOVED", "DATA RACE", `"level":"ERROR"`} {
			if strings.Contains(c.Log(), bad) {
				t.Errorf("%s logged %s:\n%s", c.name, bad, grepLines(c.Log(), bad, 5))
			}
		}
	}

	// The cluster goes away: what needs Redis answers 503, never 500.
	t0 = time.Now()
	e.checkOutage(rc, slug, openSlug, tickets[0], entries[0], waitlisted[0], cookie)
	t.Logf("outage checked in %s", time.Since(t0).Round(time.Millisecond))
}

// checkAdaptersOnCluster runs the Redis adapters' paths the HTTP flow
// leaves out on the cluster client.
func checkAdaptersOnCluster(t *testing.T, rdb redis.UniversalClient) {
	t.Helper()
	ctx := context.Background()
	lim, err := abredis.NewLimiter(rdb, "clustertest:", []abredis.Rule{
		{Kind: abredis.KindIP, Rate: limiter.Rate{Limit: 2, Period: time.Minute}},
		{Kind: abredis.KindIP, Rate: limiter.Rate{Limit: 50, Period: time.Hour}},
		{Kind: abredis.KindEvent, Rate: limiter.Rate{Limit: 100, Period: time.Second}}}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := []abredis.Key{{Kind: abredis.KindIP, Value: "198.51.100.7"}, {Kind: abredis.KindEvent, Value: "cluster-open"}}
	for i, want := range []bool{true, true, false, false} {
		res, err := lim.Allow(ctx, keys...)
		if err != nil || res.Allowed != want {
			t.Fatalf("limiter on the cluster, request %d: %+v, %v; want allowed %v", i+1, res, err, want)
		}
	}
	// The refusals were taken back: the hourly window counted two.
	if res, err := lim.Peek(ctx, abredis.Key{Kind: abredis.KindIP, Value: "198.51.100.7"}); err != nil || res.Allowed {
		t.Fatalf("peek: %+v, %v", res, err)
	}
	replay := abredis.NewReplay(rdb, "clustertest:")
	for i, c := range []struct {
		owner string
		want  bool
	}{{"first", true}, {"first", true}, {"second", false}} {
		if ok, err := replay.Claim(ctx, "challenge-1", c.owner, time.Minute); err != nil || ok != c.want {
			t.Fatalf("replay claim %d: %v, %v; want %v", i+1, ok, err, c.want)
		}
	}
	meter := &worker.RedisMeter{RDB: rdb, Prefix: "clustertest:"}
	got := 0
	for range 3 {
		n, err := meter.Take(ctx, 42, 60, 1)
		if err != nil {
			t.Fatalf("card meter (WATCH/MULTI) on the cluster: %v", err)
		}
		got += n
	}
	if got == 0 {
		t.Error("card meter granted nothing from a full bucket")
	}
}

// clusterEnv is the test's world: the cluster, a fresh database, the
// binary's API and worker processes, and an organizer's token.
type clusterEnv struct {
	t      *testing.T
	bin    string
	store  *postgres.Store
	env    []string
	home   string
	base   string
	token  string
	keys   *lottery.Keys
	staff  *staff.Service
	api    *child
	worker *child
}

const clusterSecret = "cluster-test-secret-key-cluster-test-secret-key"

func newClusterEnv(t *testing.T, rc *redisCluster) *clusterEnv {
	t.Helper()
	e := &clusterEnv{t: t, bin: buildStartline(t), home: t.TempDir()}
	var dsn string
	e.store, dsn = pgtest.NewStore(t)
	var err error
	if e.keys, err = lottery.NewKeys([]byte(clusterSecret)); err != nil {
		t.Fatal(err)
	}
	// REDIS_URL names a closed port: nothing may fall back to one node.
	e.env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.home, "DATABASE_URL=" + dsn,
		"REDIS_CLUSTER_ADDRS=" + strings.Join(rc.Addrs, ","), "REDIS_URL=redis://127.0.0.1:1/0",
		"STARTLINE_ENV=dev", "STARTLINE_SECRET_KEY=" + clusterSecret, "STARTLINE_TRUSTED_PROXIES=127.0.0.1/32",
		// Fail closed: an outage then reaches the error mapping (503), which
		// failing open would hide.
		"STARTLINE_RATELIMIT_ON_REDIS_ERROR=closed", "STARTLINE_IPINTEL_DIR=" + smallIPTables(t)}
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	e.base = "http://" + addr
	e.api = startChild(t, "api", e.home, e.bin, []string{"serve"}, append(e.env, "HTTP_ADDR="+addr))
	e.worker = startChild(t, "worker", e.home, e.bin, []string{"worker"}, e.env)
	// The organizer, in-process while the two start (the race-built
	// binary's own staff commands take seconds each).
	stf := staff.NewService(e.store, e.store, e.keys, lottery.SystemClock{}, nil, slog.New(slog.DiscardHandler), staff.Config{})
	e.staff = stf
	ctx := context.Background()
	if _, err := stf.Add(ctx, "organizer@cluster.startline.test", lottery.RoleOrganizer, ""); err != nil {
		t.Fatal(err)
	}
	if e.token, err = stf.IssueToken(ctx, "organizer@cluster.startline.test"); err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, e.api, e.base+"/readyz", http.StatusOK)
	return e
}

// smallIPTables writes IP tables (STARTLINE_IPINTEL_DIR) holding the
// test's runners' addresses (Korean mobile ones) and one hosting range:
// the embedded tables' 750,000 ranges take the race-built binary half a
// minute to parse on a busy two-core machine, ten times the plain build.
func smallIPTables(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, rows := range map[string]string{
		ipintel.Country4File: "175.223.0.0,175.223.255.255,KR\n198.51.100.0,198.51.100.255,KR\n",
		ipintel.Country6File: "2001:db8::,2001:db8::ffff,KR\n",
		ipintel.ASN4File:     "1.1.1.0,1.1.1.255,13335,\"Cloudflare, Inc.\"\n",
		ipintel.ASN6File:     "2606:4700::,2606:4700::ffff,13335,\"Cloudflare, Inc.\"\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(rows), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mustAdmin sends an organizer request and fails unless it answers want.
func (e *clusterEnv) mustAdmin(want int, method, path string, body any) []byte {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, raw)
	}
	return raw
}

// createEvent creates and publishes an open event whose 10K has a drawn
// pace group of two places (open, paid) and a first-come one (walk).
func (e *clusterEnv) createEvent(slug string) {
	e.t.Helper()
	now := time.Now()
	e.mustAdmin(http.StatusCreated, "POST", "/api/v1/admin/events", map[string]any{
		"slug": slug, "name": "Cluster 10K", "time_zone": "Asia/Seoul", "currency": "KRW",
		"opens_at": now.Add(-time.Hour).UTC().Format(time.RFC3339), "closes_at": now.Add(24 * time.Hour).UTC().Format(time.RFC3339),
		"offer_hold": "48h", "dispute_window": "0s", "max_group_size": 3, "ticket_rule": "doubling",
		"privacy": map[string]any{"version": "2026-12", "purpose": "To run the draw.", "retention": "90 days after race day."},
		"waiver":  map[string]any{"version": "2026-12", "text": "I run at my own risk."},
		"courses": []any{map[string]any{"code": "10k", "name": "10K", "distance_km": 10, "pace_groups": []any{
			map[string]any{"code": "open", "label": "Open", "capacity": 2, "mode": "lottery", "price": 40000},
			map[string]any{"code": "walk", "label": "Walkers", "capacity": 5, "mode": "ordered", "admit_per_minute": 60},
		}}},
	})
	e.mustAdmin(http.StatusOK, "POST", "/api/v1/admin/events/"+slug+"/publish", nil)
}

func walkerEmail(r apiRunner) string { return fmt.Sprintf("walker%d@cluster.startline.test", r.i) }

// applyAdmitted applies to the walkers' group with an admission token.
func (e *clusterEnv) applyAdmitted(r apiRunner, token string) (int, []byte) {
	e.t.Helper()
	email := walkerEmail(r)
	altcha := r.proof()
	if st, raw := r.call("POST", "/api/v1/events/"+r.slug+"/otp", map[string]string{"email": email}); st != http.StatusAccepted {
		e.t.Fatalf("otp: %d %s", st, raw)
	}
	var code string
	for _, m := range devOutbox(e.t, e.base, email) {
		if c := otpMailRe.FindStringSubmatch(m.Body); c != nil {
			code = c[1]
			break
		}
	}
	return r.call("POST", "/api/v1/events/"+r.slug+"/entries", map[string]any{"course": "10k", "pace_group": "walk",
		"admission_token": token, "name": fmt.Sprintf("Lee Seoyeon %d", r.i), "email": email,
		"phone": fmt.Sprintf("+82 10-6000-%04d", r.i), "birth_date": "1988-09-12", "otp": code, "altcha": altcha,
		"consents": map[string]any{"privacy": "2026-12", "waiver": "2026-12"},
		"signals": map[string]any{"webdriver": false, "fill_ms": 52000, "timezone": "Asia/Seoul",
			"languages": []string{"ko-KR", "ko"}, "platform": "iPhone", "screen": "390x844", "touch": true,
			"fingerprint": fmt.Sprintf("fp-walk%04d", r.i)}}, "Idempotency-Key", fmt.Sprintf("cluster-walk-%d", r.i))
}

// reviewerCookie signs a reviewer in (password and TOTP code) and returns
// the staff session cookie.
func (e *clusterEnv) reviewerCookie() string {
	e.t.Helper()
	const email, password = "reviewer@cluster.startline.test", "cluster reviewer password 42"
	enr, err := e.staff.Add(context.Background(), email, lottery.RoleReviewer, password)
	if err != nil {
		e.t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(enr.TOTPURL)
	if err != nil {
		e.t.Fatal(err)
	}
	code, _ := totp.GenerateCode(key.Secret(), time.Now())
	res, err := noFollow(nil).PostForm(e.base+"/staff/login", url.Values{"email": {email}, "password": {password}, "otp": {code},
		"next": {"/admin/queues"}})
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("staff login: %d %v", res.StatusCode, res.Header)
	}
	return strings.Split(res.Header.Get("Set-Cookie"), ";")[0]
}

// get sends a GET with header pairs and returns the status and body.
func (e *clusterEnv) get(path string, hdr ...string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.base+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := noFollow(nil).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// offerOf is the offer of an entry (one at most) and its status ("" for
// none).
func (e *clusterEnv) offerOf(entryID string) (id, status string) {
	e.t.Helper()
	var rows []struct{ ID, Status string }
	if err := e.store.DB().Raw(`SELECT id::text AS id, status FROM offers WHERE entry_id = ?`, entryID).Scan(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	if len(rows) == 0 {
		return "", ""
	}
	return rows[0].ID, rows[0].Status
}

// payInSandbox pays an offer as the runner does: the pay route, then the
// sandbox's hosted checkout's "pay" button.
func (e *clusterEnv) payInSandbox(offerID, entryID string) {
	e.t.Helper()
	r := apiRunner{e.t, e.base, "", 90}
	st, raw := r.call("POST", "/api/v1/offers/"+offerID+"/pay", map[string]any{"token": e.keys.ReceiptToken(entryID)})
	var p struct {
		PaymentID string `json:"payment_id"`
	}
	if st != http.StatusOK || json.Unmarshal(raw, &p) != nil || p.PaymentID == "" {
		e.t.Fatalf("pay: %d %s", st, raw)
	}
	req, _ := http.NewRequest("POST", e.base+"/sandbox/checkout/"+url.PathEscape(p.PaymentID)+"/pay",
		strings.NewReader(url.Values{"offer": {offerID}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.base)
	res, err := noFollow(nil).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sandbox checkout: %d %s", res.StatusCode, body)
	}
}

// checkOutage kills one master, then the whole cluster, and checks what
// the API answers: the readiness probe and every runner write on the open event (each needs the
// limiter's counters, the proof's replay key or Asynq) 503 with the coded
// body; reads that do not need Redis and an offer's acceptance (PostgreSQL;
// its mail waits in the outbox) 200; nothing 500. The proofs are solved
// before the kill: the challenge itself is counted by the limiter.
func (e *clusterEnv) checkOutage(rc *redisCluster, slug, openSlug, ticket, entryID, offered, monitorCookie string) {
	e.t.Helper()
	r := apiRunner{e.t, e.base, openSlug, 77}
	joinProof, applyProof := r.proof(), r.proof()
	offerID, _ := e.offerOf(offered)
	// One master gone takes a third of the slots: not ready, though the
	// other two still answer a PING.
	rc.nodes[0].Kill()
	if st, body := e.get("/readyz"); st != http.StatusServiceUnavailable {
		e.t.Errorf("one of three masters down, readiness: %d %s", st, body)
	}
	rc.Kill()
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		want   int
	}{
		{"readiness", "GET", "/readyz", nil, http.StatusServiceUnavailable},
		{"event", "GET", "/api/v1/events/" + slug, nil, http.StatusOK},
		{"entry status", "GET", "/api/v1/entries/" + entryID + "?token=" + url.QueryEscape(e.keys.ReceiptToken(entryID)), nil, http.StatusOK},
		{"waiting-room poll", "GET", "/api/v1/queue/" + ticket, nil, http.StatusOK},
		{"accept an offer", "POST", "/api/v1/offers/" + offerID + "/accept", map[string]any{"token": e.keys.ReceiptToken(offered)}, http.StatusOK},
		{"challenge", "POST", "/api/v1/events/" + openSlug + "/challenge", nil, http.StatusServiceUnavailable},
		{"code request", "POST", "/api/v1/events/" + openSlug + "/otp", map[string]string{"email": "late@cluster.startline.test"},
			http.StatusServiceUnavailable},
		{"join", "POST", "/api/v1/events/" + openSlug + "/queue",
			map[string]string{"course": "10k", "pace_group": "walk", "email": "late@cluster.startline.test", "altcha": joinProof},
			http.StatusServiceUnavailable},
		{"apply", "POST", "/api/v1/events/" + openSlug + "/entries", map[string]any{"course": "10k", "pace_group": "open",
			"name": "Park Jiho", "email": "late@cluster.startline.test", "phone": "+82 10-7000-0077", "birth_date": "1991-02-03",
			"otp": "123456", "altcha": applyProof, "consents": map[string]any{"privacy": "2026-12", "waiver": "2026-12"}},
			http.StatusServiceUnavailable},
	}
	if st, body := e.get("/admin/queues/api/queues", "Cookie", monitorCookie); st != http.StatusServiceUnavailable {
		e.t.Errorf("cluster down, queue monitor: %d, want 503: %.300s", st, body)
	}
	for _, tt := range tests {
		st, raw := r.call(tt.method, tt.path, tt.body)
		if st != tt.want {
			e.t.Errorf("cluster down, %s: %d, want %d: %s", tt.name, st, tt.want, raw)
		}
		if st == http.StatusServiceUnavailable && tt.path != "/readyz" && !bytes.Contains(raw, []byte(`"unavailable"`)) {
			e.t.Errorf("cluster down, %s: 503 without the unavailable code: %s", tt.name, raw)
		}
	}
}

// grepLines returns up to n lines of s that contain sub.
func grepLines(s, sub string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && len(out) < n {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
