package main

// The load-balancer test of issue 16: two `startline serve` processes and
// one `startline worker` behind Debian's HAProxy on loopback, everything
// reached through the balancer only. See TestScaleOutBehindHAProxy.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/antibot/pow"
	abredis "github.com/startline/startline/antibot/redis"
	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery/postgres/pgtest"
)

// lbHeaderNode asks the balancer for one node (a use-server rule of the
// test's HAProxy configuration, ignored while that node is down), so each
// step below says which node it means instead of counting on round robin.
// lbHeaderServed is the node that answered, set by HAProxy.
const (
	lbHeaderNode   = "X-Test-Node"
	lbHeaderServed = "X-Served-By"
)

// TestScaleOutBehindHAProxy is issue 16's "no state lives in one process":
// the real binary built once, two API processes (`startline serve`) and one
// `startline worker` on a fresh database and a redis-server of the test's
// own, and HAProxy in front (round robin, health checks on /readyz,
// retries with redispatch). Through the balancer only:
//
//   - an organizer's console session (password and TOTP) signed in on one
//     node is used on the other, with the CSRF token one node rendered
//     accepted by the other; the TOTP code spent on one node is refused on
//     the other;
//   - a runner's device cookie set by one node is recognised by the other;
//     the proof-of-work challenge and the e-mailed code issued by one node
//     are verified and used on the other; the retried application (same
//     Idempotency-Key) on the first node gets the same receipt; the status
//     page and API answer on both;
//   - the waiting room: the organizer pauses the line on one node and a
//     ticket joined on one node sees the pause polling the other (within
//     the per-process cache's two seconds); resumed, the worker admits it;
//   - the client's address behind HAProxy (X-Forwarded-For; only the
//     balancer's address is trusted) reaches the rate limiter: a client
//     that forges the header is still counted under its own address, on
//     both nodes alike;
//   - a draw run by the worker, its results read from both nodes; the
//     offer paid through the dev sandbox, the checkout made by one node
//     and shown and paid on the other;
//   - one API process stopped with SIGTERM, later another with SIGKILL,
//     under a steady load of reads and two people applying all along: no
//     5xx or broken connection reaches a client once HAProxy has marked the
//     node down, every acknowledged application is stored, and the sessions, the
//     ticket, the receipt and the device cookie all still work on the node
//     that is left; the stopped node started again serves the same session.
func TestScaleOutBehindHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes and HAProxy")
	}
	haproxy := haproxyBinary(t)
	began := time.Now()
	defer func() { t.Logf("runtime %s", time.Since(began).Round(100*time.Millisecond)) }()

	c := newCluster(t, haproxy)
	t.Logf("cluster up in %s: api n1 %s, api n2 %s, balancer %s", time.Since(began).Round(100*time.Millisecond),
		c.api[0].Base, c.api[1].Base, c.base)

	// The organizer's events, made with a bearer token through the balancer.
	now := time.Now()
	c.organizer.mustStatus(http.StatusCreated, "n1", "POST", "/api/v1/admin/events", lbEvent("lb-ballot", now,
		map[string]any{"code": "10k", "name": "10K", "distance_km": 10, "pace_groups": []any{
			map[string]any{"code": "open", "label": "Open", "capacity": 5, "mode": "lottery", "price": 50000}}}))
	c.organizer.mustStatus(http.StatusOK, "n2", "POST", "/api/v1/admin/events/lb-ballot/publish", nil)
	c.organizer.mustStatus(http.StatusCreated, "n2", "POST", "/api/v1/admin/events", lbEvent("lb-rush", now,
		map[string]any{"code": "5k", "name": "5K", "distance_km": 5, "pace_groups": []any{
			map[string]any{"code": "walk", "label": "Walkers", "capacity": 10, "mode": "ordered", "admit_per_minute": 600}}}))
	c.organizer.mustStatus(http.StatusOK, "n1", "POST", "/api/v1/admin/events/lb-rush/publish", nil)
	c.organizer.mustStatus(http.StatusCreated, "n1", "POST", "/api/v1/admin/events", lbEvent(lbOpen, now,
		map[string]any{"code": "10k", "name": "10K", "distance_km": 10, "pace_groups": []any{
			map[string]any{"code": "open", "label": "Open", "capacity": 1000, "mode": "lottery"}}}))
	c.organizer.mustStatus(http.StatusOK, "n2", "POST", "/api/v1/admin/events/"+lbOpen+"/publish", nil)

	// The console: the login form's device cookie from n1, the sign-in on
	// n2, the console and its CSRF token from n1.
	staff := c.client("staff", "")
	staff.mustStatus(http.StatusOK, "n1", "GET", "/staff/login", nil)
	code := c.totpCode(t)
	login := url.Values{"email": {lbOrganizer}, "password": {lbPassword}, "otp": {code}, "next": {"/admin"}}
	if a := staff.form("n2", "/staff/login", login); a.Status != http.StatusSeeOther || a.Header.Get("Location") != "/admin" {
		t.Fatalf("console sign-in on n2: %s", a)
	}
	csrf1 := staff.consoleCSRF("n1")
	csrf2 := staff.consoleCSRF("n2")
	if csrf1 != csrf2 {
		t.Errorf("the two nodes render different CSRF tokens for one session: %q, %q", csrf1, csrf2)
	}
	// The same TOTP code again, on the other node: spent (the used step is
	// PostgreSQL's, not a process's).
	again := c.client("replayer", "")
	if a := again.form("n1", "/staff/login", login); a.Status != http.StatusUnauthorized {
		t.Errorf("the spent TOTP code on n1: %s, want 401", a)
	}

	// A runner on a phone: device cookie from n1, challenge and code from
	// n1, application on n2, the retry on n1, status on both.
	runner := c.client("runner", "175.223.10.7")
	runner.mustStatus(http.StatusOK, "n1", "GET", "/events/lb-ballot", nil)
	if !runner.hasCookie("sl_device") {
		t.Fatal("the event page set no device cookie")
	}
	if a := runner.challenge("n2"); a.Header.Get("RateLimit-Limit") != lbDeviceLimit {
		t.Errorf("n2 did not recognise n1's device cookie: RateLimit-Limit %q, want the device budget %s",
			a.Header.Get("RateLimit-Limit"), lbDeviceLimit)
	}
	altcha := runner.proof("n1")
	const email = "minjun.kim@lb.startline.test"
	runner.mustStatus(http.StatusAccepted, "n1", "POST", "/api/v1/events/lb-ballot/otp", map[string]string{"email": email})
	otpCode := runner.mailedCode("n2", email)
	apply := map[string]any{"course": "10k", "pace_group": "open", "name": "Kim Minjun", "email": email,
		"phone": "+82 10-5000-0007", "birth_date": "1990-04-01", "otp": otpCode, "altcha": altcha,
		"consents": map[string]any{"privacy": "default-2", "waiver": "default-2"},
		"signals": map[string]any{"webdriver": false, "fill_ms": 43000, "timezone": "Asia/Seoul",
			"languages": []string{"ko-KR", "ko", "en"}, "platform": "iPhone", "screen": "390x844", "touch": true,
			"fingerprint": "fp-0b1c0007"}}
	var receipt struct {
		EntryID      string `json:"entry_id"`
		ReceiptToken string `json:"receipt_token"`
		Status       string `json:"status"`
	}
	a := runner.mustStatus(http.StatusCreated, "n2", "POST", "/api/v1/events/lb-ballot/entries", apply, "Idempotency-Key", "lb-apply-1")
	if err := json.Unmarshal(a.Body, &receipt); err != nil || receipt.EntryID == "" || receipt.ReceiptToken == "" {
		t.Fatalf("apply: %s", a)
	}
	var retried struct {
		EntryID string `json:"entry_id"`
	}
	if a := runner.do("n1", "POST", "/api/v1/events/lb-ballot/entries", apply, "Idempotency-Key", "lb-apply-1"); a.Status >= 300 ||
		json.Unmarshal(a.Body, &retried) != nil || retried.EntryID != receipt.EntryID {
		t.Errorf("the retried application on n1: %s, want the receipt of %s", a, receipt.EntryID)
	}
	statusPath := "/api/v1/entries/" + receipt.EntryID + "?token=" + url.QueryEscape(receipt.ReceiptToken)
	pagePath := "/entries/" + receipt.EntryID + "?token=" + url.QueryEscape(receipt.ReceiptToken)
	for _, node := range []string{"n1", "n2"} {
		runner.mustStatus(http.StatusOK, node, "GET", statusPath, nil)
		runner.mustStatus(http.StatusOK, node, "GET", pagePath, nil)
	}
	// The client's address reached the app through the balancer.
	var ip string
	if err := c.db.QueryRow(`SELECT host(client_ip) FROM entries WHERE id = $1`, receipt.EntryID).Scan(&ip); err != nil || ip != "175.223.10.7" {
		t.Errorf("entry's client_ip %q (%v), want the runner's 175.223.10.7", ip, err)
	}

	// The waiting room, paused by the organizer's console session on n1
	// (cookie + CSRF token rendered by n2).
	walkLine := "/api/v1/admin/events/lb-rush/subqueues/5k:walk/"
	staff.mustStatus(http.StatusOK, "n1", "POST", walkLine+"pause", nil, httpkit.CSRFHeader, csrf2)
	if a := staff.do("n2", "POST", walkLine+"resume", nil, httpkit.CSRFHeader, "forged"); a.Status != http.StatusForbidden {
		t.Errorf("a console call with a forged CSRF token: %s, want 403", a)
	}
	walker := c.client("walker", "175.223.10.8")
	var joined struct {
		Ticket string `json:"ticket"`
	}
	a = walker.mustStatus(http.StatusCreated, "n1", "POST", "/api/v1/events/lb-rush/queue", map[string]string{"course": "5k",
		"pace_group": "walk", "email": "seoyeon.lee@lb.startline.test", "altcha": walker.proof("n2")})
	if err := json.Unmarshal(a.Body, &joined); err != nil || joined.Ticket == "" {
		t.Fatalf("join: %s", a)
	}
	pollPath := "/api/v1/queue/" + url.PathEscape(joined.Ticket)
	type pollJSON struct {
		Position int  `json:"position"`
		Admitted bool `json:"admitted"`
		Paused   bool `json:"paused"`
	}
	poll := func(node string) pollJSON {
		t.Helper()
		var p pollJSON
		a := walker.mustStatus(http.StatusOK, node, "GET", pollPath, nil)
		if err := json.Unmarshal(a.Body, &p); err != nil {
			t.Fatalf("poll: %s", a)
		}
		return p
	}
	waitFor(t, 5*time.Second, 100*time.Millisecond, "n2's poll to show the pause made on n1", func() (bool, error) {
		return poll("n2").Paused, nil
	})
	if p := poll("n2"); p.Admitted || p.Position != 1 {
		t.Errorf("poll on n2 while paused: %+v, want position 1, not admitted", p)
	}
	staff.mustStatus(http.StatusOK, "n2", "POST", walkLine+"resume", nil, httpkit.CSRFHeader, csrf1)
	waitFor(t, 30*time.Second, 200*time.Millisecond, "the worker to admit the ticket (polled on n1)", func() (bool, error) {
		return poll("n1").Admitted, nil
	})
	if p := poll("n2"); !p.Admitted {
		t.Errorf("n2 does not see the admission n1 reports: %+v", p)
	}

	// X-Forwarded-For behind the balancer.
	c.checkForwardedFor(t)

	// The draw: closed by the console session, frozen and drawn with the
	// organizer's token, run by the worker, results read from both nodes.
	staff.mustStatus(http.StatusOK, "n2", "POST", "/api/v1/admin/events/lb-ballot/close", nil, httpkit.CSRFHeader, csrf1)
	c.organizer.mustStatus(http.StatusOK, "n1", "POST", "/api/v1/admin/events/lb-ballot/freeze", map[string]any{"beacon_round": "none"})
	c.organizer.mustStatus(http.StatusOK, "n2", "POST", "/api/v1/admin/events/lb-ballot/reveal", map[string]any{})
	c.organizer.mustStatus(http.StatusAccepted, "n1", "POST", "/api/v1/admin/events/lb-ballot/draw", nil)
	for _, node := range []string{"n1", "n2"} {
		waitFor(t, 60*time.Second, 200*time.Millisecond, "the worker's draw, read on "+node, func() (bool, error) {
			var res struct {
				Draws []struct {
					Status string `json:"status"`
				} `json:"draws"`
			}
			a := runner.mustStatus(http.StatusOK, node, "GET", "/api/v1/events/lb-ballot/draws", nil)
			if err := json.Unmarshal(a.Body, &res); err != nil {
				return false, fmt.Errorf("draws: %s", a)
			}
			return len(res.Draws) == 1 && res.Draws[0].Status == "drawn", nil
		})
	}
	c.organizer.mustStatus(http.StatusOK, "n2", "POST", "/api/v1/admin/events/lb-ballot/publish-results", nil)
	for _, node := range []string{"n1", "n2"} {
		waitFor(t, 5*time.Second, 100*time.Millisecond, "the runner's offer, read on "+node, func() (bool, error) {
			var st struct {
				Status string `json:"status"`
			}
			a := runner.mustStatus(http.StatusOK, node, "GET", statusPath, nil)
			if err := json.Unmarshal(a.Body, &st); err != nil {
				return false, fmt.Errorf("status: %s", a)
			}
			return st.Status == "offered", nil
		})
		runner.mustStatus(http.StatusOK, node, "GET", "/events/lb-ballot/results", nil)
	}

	// The offer paid through the dev payment sandbox: the checkout made on
	// n1, shown and paid on n2, the entry confirmed on both.
	var st struct {
		Offer struct {
			OfferID string `json:"offer_id"`
		} `json:"offer"`
	}
	if err := json.Unmarshal(runner.mustStatus(http.StatusOK, "n1", "GET", statusPath, nil).Body, &st); err != nil || st.Offer.OfferID == "" {
		t.Fatalf("no offer on the status: %v", err)
	}
	var pay struct {
		PaymentID   string `json:"payment_id"`
		CheckoutURL string `json:"checkout_url"`
	}
	a = runner.mustStatus(http.StatusOK, "n1", "POST", "/api/v1/offers/"+st.Offer.OfferID+"/pay", map[string]string{"token": receipt.ReceiptToken})
	if err := json.Unmarshal(a.Body, &pay); err != nil || pay.CheckoutURL == "" {
		t.Fatalf("pay: %s", a)
	}
	checkout, err := url.Parse(pay.CheckoutURL)
	if err != nil {
		t.Fatal(err)
	}
	runner.mustStatus(http.StatusOK, "n2", "GET", checkout.RequestURI(), nil)
	if a := runner.form("n2", "/sandbox/checkout/"+url.PathEscape(pay.PaymentID)+"/pay", url.Values{"offer": {st.Offer.OfferID}}); a.Status != http.StatusSeeOther {
		t.Errorf("sandbox pay on n2: %s", a)
	}
	for _, node := range []string{"n1", "n2"} {
		waitFor(t, 5*time.Second, 100*time.Millisecond, "the paid entry, read on "+node, func() (bool, error) {
			var st struct {
				Status string `json:"status"`
			}
			a := runner.mustStatus(http.StatusOK, node, "GET", statusPath, nil)
			return json.Unmarshal(a.Body, &st) == nil && st.Status == "confirmed", nil
		})
	}

	// What must keep working on whichever node is left.
	survives := func(step, gone string) {
		t.Helper()
		staff.mustStatus(http.StatusOK, gone, "GET", "/admin", nil)
		if got := staff.consoleCSRF(gone); got != csrf1 {
			t.Errorf("%s: the console's CSRF token changed: %q, want %q", step, got, csrf1)
		}
		staff.mustStatus(http.StatusOK, gone, "POST", walkLine+"rate", map[string]int{"admit_per_minute": 600}, httpkit.CSRFHeader, csrf1)
		runner.mustStatus(http.StatusOK, gone, "GET", statusPath, nil)
		runner.mustStatus(http.StatusOK, gone, "GET", pagePath, nil)
		if a := runner.challenge(gone); a.Header.Get("RateLimit-Limit") != lbDeviceLimit {
			t.Errorf("%s: the device cookie is not recognised: RateLimit-Limit %q", step, a.Header.Get("RateLimit-Limit"))
		}
		if p := poll(gone); !p.Admitted {
			t.Errorf("%s: the admitted ticket polls as %+v", step, p)
		}
		c.organizer.mustStatus(http.StatusOK, gone, "GET", "/api/v1/admin/events/lb-ballot/offers", nil)
	}
	reads := []lbRead{
		{staff, "/admin"},
		{runner, statusPath},
		{runner, "/api/v1/events/lb-ballot"},
		{walker, pollPath},
		{c.organizer, "/api/v1/admin/events/lb-ballot/offers"},
		{runner, "/events/lb-ballot/results"},
	}

	// Step 1: n1 stopped with SIGTERM (a rolling deploy).
	c.failover(t, "SIGTERM n1", 0, reads, func() { c.api[0].Term(t, 20*time.Second) })
	survives("n1 stopped (SIGTERM)", "n1")
	c.api[0].Start()
	c.waitUp(t, "n1")
	staff.mustStatus(http.StatusOK, "n1", "GET", "/admin", nil) // the restarted node serves the same session

	// Step 2: n2 killed with SIGKILL (a crash).
	c.failover(t, "SIGKILL n2", 1, reads, func() { c.api[1].Kill() })
	survives("n2 killed (SIGKILL)", "n2")
	c.api[1].Start()
	c.waitUp(t, "n2")
	staff.mustStatus(http.StatusOK, "n2", "GET", "/admin", nil)
	runner.mustStatus(http.StatusOK, "n2", "GET", statusPath, nil)

	// Every application a runner was told was stored is stored.
	for _, id := range c.acked {
		var n int
		if err := c.db.QueryRow(`SELECT count(*) FROM entries WHERE id = $1`, id).Scan(&n); err != nil || n != 1 {
			t.Errorf("acknowledged entry %s: %d rows (%v)", id, n, err)
		}
	}

	// Signing out on one node ends the session on both.
	if a := staff.form("n2", "/staff/logout", url.Values{"csrf": {csrf1}}); a.Status >= 400 {
		t.Errorf("sign out on n2: %s", a)
	}
	if a := staff.do("n1", "GET", "/admin", nil); a.Status != http.StatusFound {
		t.Errorf("console on n1 after signing out on n2: %s, want 302 to the login", a)
	}
}

// lbDeviceLimit is the challenge's RateLimit-Limit when the device cookie
// is recognised: the device's tightest budget (10 a minute), tighter than
// the address's.
var lbDeviceLimit = func() string {
	var n int64
	for _, r := range rateRules() {
		if r.Kind == abredis.KindDevice && (n == 0 || r.Rate.Limit < n) {
			n = r.Rate.Limit
		}
	}
	return strconv.FormatInt(n, 10)
}()

const (
	lbOrganizer = "organizer@lb.startline.test"
	lbPassword  = "lb organizer password 42"
	lbSecret    = "lb-test-secret-key-shared-by-every-node-lb-test"
)

// lbEvent is an organizer API body: an event open from an hour ago for a
// day, with one course.
func lbEvent(slug string, now time.Time, course map[string]any) map[string]any {
	return map[string]any{"slug": slug, "name": "Scale-out " + slug, "time_zone": "Asia/Seoul",
		"opens_at": now.Add(-time.Hour).UTC().Format(time.RFC3339), "closes_at": now.Add(24 * time.Hour).UTC().Format(time.RFC3339),
		"offer_hold": "48h", "dispute_window": "0s", "max_group_size": 3, "ticket_rule": "doubling",
		"currency": "KRW", "courses": []any{course}}
}

// haproxyBinary finds Debian's HAProxy: missing, the test fails in CI
// (.ci/haproxy.sh installs it) and is skipped elsewhere.
func haproxyBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("STARTLINE_HAPROXY"), "/usr/sbin/haproxy"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("haproxy is not installed: .ci/haproxy.sh installs Debian's package (apt-get install haproxy)")
	}
	t.Skip("haproxy is not installed (apt-get install haproxy, or make haproxy); skipping the load-balancer test")
	return ""
}

// lbCluster is the test's deployment.
type lbCluster struct {
	t         *testing.T
	bin, home string
	dsn       string
	db        *sql.DB
	redis     *redisServer
	api       [2]*lbNode
	worker    *proc
	haproxy   *proc
	base      string // the balancer's URL
	stats     string // HAProxy's CSV statistics
	totp      string // the organizer's TOTP secret
	organizer *lbClient

	mu    sync.Mutex
	down  map[string]bool // nodes HAProxy has marked down
	acked []string        // entries acknowledged (201) during the failovers
	next  int             // the next applicant's number
}

// answering is the node expected to answer a request that asks for node:
// itself, or while it is down the other one.
func (c *lbCluster) answering(node string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.down[node] {
		return node
	}
	if node == "n1" {
		return "n2"
	}
	return "n1"
}

func (c *lbCluster) setDown(node string, down bool) {
	c.mu.Lock()
	c.down[node] = down
	c.mu.Unlock()
}

// lbNode is one `startline serve`.
type lbNode struct {
	*proc
	Name, Base string
}

func newCluster(t *testing.T, haproxy string) *lbCluster {
	t.Helper()
	c := &lbCluster{t: t, bin: startlineBinary(t), home: t.TempDir(), down: map[string]bool{}}
	store, dsn := pgtest.NewStore(t)
	c.dsn = dsn
	sqldb, err := store.DB().DB()
	if err != nil {
		t.Fatal(err)
	}
	c.db = sqldb
	c.redis = startRedis(t)

	out := c.run("staff", "add", "--email", lbOrganizer, "--role", "organizer", "--password", lbPassword)
	m := regexp.MustCompile(`otpauth://\S+`).FindString(out)
	key, err := otp.NewKeyFromURL(m)
	if err != nil {
		t.Fatalf("staff add printed no TOTP URL: %v\n%s", err, out)
	}
	c.totp = key.Secret()
	token := strings.TrimSpace(c.run("staff", "token", "--email", lbOrganizer))

	for i := range c.api {
		addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
		name := fmt.Sprintf("n%d", i+1)
		c.api[i] = &lbNode{Name: name, Base: "http://" + addr,
			proc: startProc(t, "serve-"+name, c.bin, []string{"serve"}, c.env("HTTP_ADDR="+addr))}
	}
	c.worker = startProc(t, "worker", c.bin, []string{"worker"}, c.env())

	front, stats := freePort(t), freePort(t)
	c.base = "http://127.0.0.1:" + strconv.Itoa(front)
	c.stats = "http://127.0.0.1:" + strconv.Itoa(stats) + "/stats;csv"
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(haproxyConfig(front, stats, c.api[0].Base, c.api[1].Base)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(haproxy, "-c", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	c.haproxy = startProc(t, "haproxy", haproxy, []string{"-f", cfg, "-db"}, []string{"PATH=" + os.Getenv("PATH")})
	c.waitUp(t, "n1")
	c.waitUp(t, "n2")
	c.organizer = c.client("organizer", "", "Authorization", "Bearer "+token)
	return c
}

// haproxyConfig is the balancer: round robin over the two API nodes,
// health-checked on /readyz every 200 ms (down after 2 failures, up after
// 2 successes); a request whose connection fails or whose node closes the
// connection without answering is retried, on another node (option
// redispatch 1). Retrying a POST that was sent is safe here: an
// application carries an Idempotency-Key, a join's proof of work is
// single-use, and a repeated code request mails a second code at worst.
func haproxyConfig(front, stats int, n1, n2 string) string {
	return fmt.Sprintf(`global
    maxconn 1024

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response

frontend www
    bind 127.0.0.1:%d
    option forwardfor
    default_backend api

backend api
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 200ms fall 2 rise 2
    use-server n1 if { req.hdr(%[3]s) -m str n1 }
    use-server n2 if { req.hdr(%[3]s) -m str n2 }
    http-response set-header %[4]s %%s
    server n1 %[5]s check
    server n2 %[6]s check

listen stats
    bind 127.0.0.1:%[2]d
    stats enable
    stats uri /stats
`, front, stats, lbHeaderNode, lbHeaderServed, strings.TrimPrefix(n1, "http://"), strings.TrimPrefix(n2, "http://"))
}

// env is a child's environment: nothing inherited but PATH; one secret key
// for every node (sessions, tickets, receipts, cookies and proofs of work
// are signed with keys derived from it).
func (c *lbCluster) env(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + c.home, "DATABASE_URL=" + c.dsn,
		"REDIS_URL=" + c.redis.URL, "STARTLINE_ENV=dev", "STARTLINE_SECRET_KEY=" + lbSecret,
		"STARTLINE_TRUSTED_PROXIES=127.0.0.1/32"}, extra...)
}

func (c *lbCluster) run(args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env, cmd.Dir = c.env(), c.home
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("startline %s: %v\n%s\n%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

// totpCode is the organizer's current TOTP code.
func (c *lbCluster) totpCode(t *testing.T) string {
	t.Helper()
	code, err := totp.GenerateCode(c.totp, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// serverStatus is HAProxy's word on a node: "UP", "DOWN", "UP 1/2", ...
func (c *lbCluster) serverStatus(node string) (string, error) {
	res, err := http.Get(c.stats)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	r := csv.NewReader(res.Body)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		return "", fmt.Errorf("haproxy stats: %v", err)
	}
	col := -1
	for i, h := range rows[0] {
		if strings.TrimPrefix(h, "# ") == "status" {
			col = i
		}
	}
	for _, row := range rows[1:] {
		if len(row) > col && col >= 0 && row[0] == "api" && row[1] == node {
			return row[col], nil
		}
	}
	return "", fmt.Errorf("haproxy stats: no server %s", node)
}

func (c *lbCluster) waitUp(t *testing.T, node string) {
	t.Helper()
	waitFor(t, 60*time.Second, 50*time.Millisecond, "HAProxy to mark "+node+" up", func() (bool, error) {
		st, _ := c.serverStatus(node)
		return st == "UP", nil
	})
	c.setDown(node, false)
}

// lbRead is a read a client keeps sending during a failover.
type lbRead struct {
	c    *lbClient
	path string
}

// failover sends reads through the balancer (no node asked for) from four
// clients, and applications from two, while stop takes node i away, until a second after HAProxy has
// marked it down. A client may never see a 5xx or a broken connection
// once the node is marked down; before that (the in-flight window) HAProxy's
// retries should hide the stop too, and what got through is logged. Every
// answer must be a 200: a 401 or a redirect to the login would be a
// session that lived in the stopped process.
func (c *lbCluster) failover(t *testing.T, step string, i int, reads []lbRead, stop func()) {
	t.Helper()
	node := c.api[i].Name
	type result struct {
		at     time.Time
		read   lbRead
		a      lbAnswer
		served string
	}
	var (
		mu      sync.Mutex
		results []result
		wg      sync.WaitGroup
	)
	done := make(chan struct{})
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := g; ; k++ {
				select {
				case <-done:
					return
				default:
				}
				r := reads[k%len(reads)]
				a := r.c.try("", "GET", r.path, nil)
				mu.Lock()
				results = append(results, result{at: time.Now(), read: r, a: a, served: a.Header.Get(lbHeaderServed)})
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	// Two people applying all along (lbOpen): each new applicant's challenge,
	// code and application, a step retried as a person would after an error.
	var applied []lbAnswer
	var appliedAt []time.Time
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				c.mu.Lock()
				c.next++
				k := c.next
				c.mu.Unlock()
				for _, a := range c.applyOnce(k) {
					mu.Lock()
					applied, appliedAt = append(applied, a), append(appliedAt, time.Now())
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	stopped := time.Now()
	stop()
	var down time.Time
	waitFor(t, 10*time.Second, 20*time.Millisecond, "HAProxy to mark "+node+" down", func() (bool, error) {
		st, err := c.serverStatus(node)
		if err == nil && strings.HasPrefix(st, "DOWN") {
			down = time.Now()
			c.setDown(node, true)
			return true, nil
		}
		return false, nil
	})
	time.Sleep(time.Second)
	// At least one application acknowledged after the node went down (a
	// slow machine may need longer than the second above).
	c.mu.Lock()
	ackedBefore := len(c.acked)
	c.mu.Unlock()
	waitFor(t, 30*time.Second, 50*time.Millisecond, "an application acknowledged by the remaining node", func() (bool, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.acked) > ackedBefore, nil
	})
	close(done)
	wg.Wait()

	var before, after, bad, onStopped int
	for _, r := range results {
		if r.at.After(down) && r.served == node {
			onStopped++
		}
		if r.a.Status == http.StatusOK {
			continue
		}
		inFlight := r.at.Before(down)
		if inFlight {
			before++
		} else {
			after++
		}
		if r.a.Status >= 500 || r.a.Status == 0 {
			if !inFlight {
				t.Errorf("%s: after %s was marked down: GET %s: %s", step, node, r.read.path, r.a)
			}
			continue
		}
		bad++
		if bad <= 5 {
			t.Errorf("%s: GET %s: %s, want 200", step, r.read.path, r.a)
		}
	}
	if onStopped > 0 {
		t.Errorf("%s: %d answers from %s after it was marked down", step, onStopped, node)
	}
	var acked, refused int
	for k, a := range applied {
		switch {
		case a.Status == http.StatusCreated:
			acked++
		case a.Status == 0 || a.Status >= 500:
			if appliedAt[k].After(down) {
				t.Errorf("%s: after %s was marked down: %s", step, node, a)
			} else {
				refused++
			}
		case a.Status >= 300 && a.Status != http.StatusAccepted:
			refused++ // a spent proof or code (the retry of a request the stopped node took): the person tries again
		}
	}
	t.Logf("%s: %d reads; marked down %s after the stop; not 200: %d in the window before, %d after; "+
		"applications: %d steps, %d acknowledged, %d refused for a retry",
		step, len(results), down.Sub(stopped).Round(time.Millisecond), before, after, len(applied), acked, refused)
	if acked == 0 {
		t.Errorf("%s: no application acknowledged during the failover", step)
	}
}

// lbOpen is the event open for applications during the failovers.
const lbOpen = "lb-open"

// applyOnce takes applicant k through the application (challenge, code,
// application with an Idempotency-Key) through the balancer, any node,
// trying a failed step again up to three times; it returns every answer and
// records the acknowledged entry. It runs outside the test goroutine, so it
// reports instead of failing.
func (c *lbCluster) applyOnce(k int) []lbAnswer {
	l := c.client(fmt.Sprintf("applicant %d", k), fmt.Sprintf("175.223.%d.%d", 100+k/200, 1+k%200))
	var out []lbAnswer
	step := func(method, path string, body any, hdr ...string) (lbAnswer, bool) {
		var a lbAnswer
		for range 3 {
			a = l.try("", method, path, body, hdr...)
			out = append(out, a)
			if a.Status != 0 && a.Status < 500 && a.Status != http.StatusTooManyRequests {
				return a, a.Status < 300
			}
			time.Sleep(100 * time.Millisecond)
		}
		return a, false
	}
	a, ok := step("POST", "/api/v1/events/"+lbOpen+"/challenge", nil)
	var ch pow.Challenge
	if !ok || json.Unmarshal(a.Body, &ch) != nil {
		return out
	}
	n, err := pow.Solve(context.Background(), ch)
	if err != nil {
		return out
	}
	email := fmt.Sprintf("applicant%04d@lb.startline.test", k)
	if _, ok := step("POST", "/api/v1/events/"+lbOpen+"/otp", map[string]string{"email": email}); !ok {
		return out
	}
	a, ok = step("GET", "/dev/outbox.json?to="+url.QueryEscape(email), nil)
	m := lbCodeRe.FindSubmatch(a.Body)
	if !ok || m == nil {
		return out
	}
	a, ok = step("POST", "/api/v1/events/"+lbOpen+"/entries", map[string]any{"course": "10k", "pace_group": "open",
		"name": fmt.Sprintf("Park Jiho %d", k), "email": email, "phone": fmt.Sprintf("+82 10-6000-%04d", k),
		"birth_date": "1991-05-02", "otp": string(m[1]), "altcha": pow.EncodePayload(ch, n),
		"consents": map[string]any{"privacy": "default-2", "waiver": "default-2"},
		"signals": map[string]any{"webdriver": false, "fill_ms": 39000 + k, "timezone": "Asia/Seoul",
			"languages": []string{"ko-KR", "ko"}, "platform": "iPhone", "screen": "390x844", "touch": true,
			"fingerprint": fmt.Sprintf("fp-1b%06d", k)}}, "Idempotency-Key", fmt.Sprintf("lb-open-%d", k))
	var r struct {
		EntryID string `json:"entry_id"`
	}
	if ok && json.Unmarshal(a.Body, &r) == nil && r.EntryID != "" {
		c.mu.Lock()
		c.acked = append(c.acked, r.EntryID)
		c.mu.Unlock()
	}
	return out
}

// lbClient is one person's browser or script: a cookie jar of its own,
// never following redirects, and the headers a phone sends.
type lbClient struct {
	t    *testing.T
	cl   *lbCluster
	name string
	base string
	c    *http.Client
	hdr  []string
}

// client makes a client from 127.0.0.1 (the address HAProxy connects from
// too, so trusted: it plays a CDN in front that names the client in
// X-Forwarded-For, when ip is set).
func (c *lbCluster) client(name, ip string, hdr ...string) *lbClient {
	jar, _ := cookiejar.New(nil)
	if ip != "" {
		hdr = append(hdr, "X-Forwarded-For", ip)
	}
	return &lbClient{t: c.t, cl: c, name: name, base: c.base, hdr: hdr, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// lbAnswer is one exchange; Status 0 is a transport error.
type lbAnswer struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         []byte
	Err          error
}

func (a lbAnswer) String() string {
	if a.Status == 0 {
		return fmt.Sprintf("%s %s: %v", a.Method, a.Path, a.Err)
	}
	body := string(a.Body)
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	return fmt.Sprintf("%s %s: %d from %s: %s", a.Method, a.Path, a.Status, a.Header.Get(lbHeaderServed), body)
}

// try sends one request through the balancer, to node when it is up ("":
// any); a JSON body, or url.Values as a form.
func (l *lbClient) try(node, method, path string, body any, hdr ...string) lbAnswer {
	a := lbAnswer{Method: method, Path: path}
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, l.base+path, rd)
	if err != nil {
		a.Err = err
		return a
	}
	req.Header.Set("Accept", "application/json, text/html")
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")
	req.Header.Set("Accept-Language", "ko-KR,ko;q=0.9,en;q=0.5")
	if node != "" {
		req.Header.Set(lbHeaderNode, node)
	}
	all := append(append([]string(nil), l.hdr...), hdr...)
	for i := 0; i+1 < len(all); i += 2 {
		req.Header.Set(all[i], all[i+1])
	}
	res, err := l.c.Do(req)
	if err != nil {
		a.Err = err
		return a
	}
	defer res.Body.Close()
	a.Body, a.Err = io.ReadAll(res.Body)
	a.Status, a.Header = res.StatusCode, res.Header
	return a
}

// do is try for a step that must reach node: the node that answered is
// checked (while node is down, the balancer sends the request elsewhere,
// which is the point of the steps that name a stopped node).
func (l *lbClient) do(node, method, path string, body any, hdr ...string) lbAnswer {
	l.t.Helper()
	a := l.try(node, method, path, body, hdr...)
	if a.Status == 0 {
		l.t.Fatalf("%s: %s", l.name, a)
	}
	if a.Status >= 500 {
		l.t.Errorf("%s: %s", l.name, a)
	}
	if want := l.cl.answering(node); node != "" && a.Header.Get(lbHeaderServed) != want {
		l.t.Errorf("%s: %s: answered by %q, want %s", l.name, a, a.Header.Get(lbHeaderServed), want)
	}
	return a
}

func (l *lbClient) mustStatus(want int, node, method, path string, body any, hdr ...string) lbAnswer {
	l.t.Helper()
	a := l.do(node, method, path, body, hdr...)
	if a.Status != want {
		l.t.Fatalf("%s: %s, want %d", l.name, a, want)
	}
	return a
}

func (l *lbClient) form(node, path string, v url.Values) lbAnswer {
	l.t.Helper()
	return l.do(node, "POST", path, v, "Origin", l.base)
}

func (l *lbClient) hasCookie(name string) bool {
	u, _ := url.Parse(l.base)
	for _, ck := range l.c.Jar.Cookies(u) {
		if ck.Name == name {
			return true
		}
	}
	return false
}

var csrfFieldRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// consoleCSRF reads the session's CSRF token from the console page node
// renders.
func (l *lbClient) consoleCSRF(node string) string {
	l.t.Helper()
	a := l.mustStatus(http.StatusOK, node, "GET", "/admin", nil)
	m := csrfFieldRe.FindSubmatch(a.Body)
	if m == nil {
		l.t.Fatalf("%s: no CSRF token on the console page from %s", l.name, a.Header.Get(lbHeaderServed))
	}
	return string(m[1])
}

// challenge asks node for a proof-of-work challenge.
func (l *lbClient) challenge(node string) lbAnswer {
	l.t.Helper()
	return l.mustStatus(http.StatusOK, node, "POST", "/api/v1/events/lb-ballot/challenge", nil)
}

// proof gets a challenge from node and solves it.
func (l *lbClient) proof(node string) string {
	l.t.Helper()
	a := l.challenge(node)
	var ch pow.Challenge
	if err := json.Unmarshal(a.Body, &ch); err != nil {
		l.t.Fatalf("challenge: %s", a)
	}
	n, err := pow.Solve(context.Background(), ch)
	if err != nil {
		l.t.Fatal(err)
	}
	return pow.EncodePayload(ch, n)
}

var lbCodeRe = regexp.MustCompile(`(?:is|코드는) ([0-9]{6})`)

// mailedCode reads the newest e-mailed code for to from node's dev outbox.
func (l *lbClient) mailedCode(node, to string) string {
	l.t.Helper()
	a := l.mustStatus(http.StatusOK, node, "GET", "/dev/outbox.json?to="+url.QueryEscape(to), nil)
	var box struct {
		Messages []struct {
			Body string `json:"body"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(a.Body, &box); err != nil {
		l.t.Fatalf("outbox: %s", a)
	}
	for _, m := range box.Messages {
		if c := lbCodeRe.FindStringSubmatch(m.Body); c != nil {
			return c[1]
		}
	}
	l.t.Fatalf("no code mail for %s in %s", to, a)
	return ""
}

// checkForwardedFor: HAProxy appends the address it saw to
// X-Forwarded-For, and only its own address (127.0.0.1) is trusted. A
// client at 127.0.0.2 that writes its own header is counted under
// 127.0.0.2, the same budget on both nodes: each challenge leaves one less.
// A client at the trusted 127.0.0.1 (a CDN in front) is believed: each
// address it names has a budget of its own.
func (c *lbCluster) checkForwardedFor(t *testing.T) {
	t.Helper()
	// No cookie jars: a device cookie would add the device's budget.
	forger := c.client("forger", "")
	forger.c.Jar = nil
	forger.c.Transport = &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}).DialContext}
	var remaining []string
	for k, node := range []string{"n1", "n2", "n1", "n2"} {
		a := forger.mustStatus(http.StatusOK, node, "POST", "/api/v1/events/lb-ballot/challenge", nil,
			"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", 10+k))
		remaining = append(remaining, a.Header.Get("RateLimit-Remaining"))
	}
	for k := 1; k < len(remaining); k++ {
		prev, err1 := strconv.Atoi(remaining[k-1])
		cur, err2 := strconv.Atoi(remaining[k])
		if err1 != nil || err2 != nil || cur != prev-1 {
			t.Errorf("a forged X-Forwarded-For escaped the address budget: RateLimit-Remaining %v", remaining)
			break
		}
	}
	var fresh []string
	front := c.client("cdn", "")
	front.c.Jar = nil
	for k, node := range []string{"n1", "n2"} {
		a := front.mustStatus(http.StatusOK, node, "POST", "/api/v1/events/lb-ballot/challenge", nil,
			"X-Forwarded-For", fmt.Sprintf("175.223.20.%d", 10+k))
		fresh = append(fresh, a.Header.Get("RateLimit-Remaining"))
	}
	if fresh[0] != fresh[1] || fresh[0] == "" {
		t.Errorf("two clients named by the trusted front got RateLimit-Remaining %v, want each a fresh budget", fresh)
	}
}

// Term sends SIGTERM (a graceful stop: the server finishes what it is
// answering) and waits until the process is gone.
func (p *proc) Term(t *testing.T, within time.Duration) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(within):
		t.Errorf("%s: still running %s after SIGTERM", p.name, within)
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	p.cmd = nil
}
