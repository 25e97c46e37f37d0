package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/api"
	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/dashboard"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/payments/sandbox"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/lottery/review"
	"github.com/startline/startline/lottery/staff"
	"github.com/startline/startline/lottery/waitroom"
	"github.com/startline/startline/web"

	"net/http/httptest"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// siteOptions configures newSiteWith as cmd/startline wires production: the
// API and the pages on one engine, one httpkit.Site for both.
type siteOptions struct {
	dev     bool
	public  string   // STARTLINE_PUBLIC_URL
	trusted []string // STARTLINE_TRUSTED_PROXIES
	clock   *testClock
	sandbox *sandbox.Provider
	ordered bool                // spring also has half:fcfs, a first-come group with a waiting room
	routes  func(r *gin.Engine) // test-only routes, added before the server starts
	cache   time.Duration       // PageCacheTTL
	// provider replaces the sandbox as the offers' payment provider (the
	// sandbox's checkout pages stay mounted).
	provider lottery.PaymentProvider
	cards    bool // the card-on-file charge pass on the sandbox (site.cards)
	views    bool // the read cache and its change feed, as cmd/startline wires them (entry_cache_test.go)
}

// newSiteWith is newSite with the public URL, trusted proxies, a settable
// clock and the sandbox payment provider; "spring" is published and open.
func newSiteWith(t *testing.T, o siteOptions) *site {
	t.Helper()
	store, dsn := pgtest.NewStore(t)
	keys, _ := lottery.NewKeys([]byte("web-test-secret-key-web-test-secret-key"))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var clk lottery.Clock = lottery.SystemClock{}
	if o.clock != nil {
		clk = o.clock
	}
	svc := lottery.NewService(store, keys, clk, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	reg := registration.NewService(store, svc, keys, clk, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	dr := draws.NewService(store, svc, reg, keys, nil, log)
	svc.UseDraws(dr)
	off := offers.NewService(store, svc, keys, clk, nil, log)
	off.UseTransfers(reg, "")
	stf := staff.NewService(store, store, keys, clk, nil, log, staff.Config{})
	rev := review.NewService(store, clk, nil, log, nil)
	svc.UseClusters(rev)
	rev.UseEntries(reg)
	wr := waitroom.NewService(store, svc, keys, clk, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	if o.sandbox != nil {
		off.UsePayments(o.sandbox)
	}
	if o.provider != nil {
		off.UsePayments(o.provider)
	}
	ctx := context.Background()
	if _, err := stf.Add(ctx, "org@example.com", lottery.RoleOrganizer, ""); err != nil {
		t.Fatal(err)
	}
	org, _ := store.StaffByEmail(ctx, "org@example.com")
	now := clk.Now()
	groups := []lottery.PaceGroupSpec{{Code: "open", Label: "Open", Capacity: 200}}
	if o.ordered {
		groups = append(groups, lottery.PaceGroupSpec{Code: "fcfs", Label: "First come", Capacity: 50, Mode: "ordered"})
	}
	_, err := svc.CreateEvent(ctx, org, lottery.EventSpec{Slug: "spring", Name: "Spring Marathon", DisputeWindow: "0s", TimeZone: "Asia/Seoul",
		OpensAt: now.Add(-time.Hour), ClosesAt: now.Add(time.Hour), MaxGroupSize: 1, TicketRule: "none",
		Courses: []lottery.CourseSpec{{Code: "half", Name: "Half Marathon", DistanceKM: 21.1, PaceGroups: groups}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, org, "spring", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	hs, err := httpkit.NewSite(o.public, o.trusted)
	if err != nil {
		t.Fatal(err)
	}
	g := guardtest.New(t, log, guardtest.Options{})
	g.Site = hs
	r, err := httpkit.NewEngine(o.trusted)
	if err != nil {
		t.Fatal(err)
	}
	api.Register(r, api.Deps{Svc: svc, Registration: reg, Draws: dr, Offers: off, Staff: stf, Review: rev, Waitroom: wr, Guard: g, Outbox: store, Log: log, Dev: o.dev, Site: hs,
		Readyz: func(ctx context.Context) error { return store.Ping(ctx) }})
	d := web.Deps{Svc: svc, Registration: reg, Draws: dr, Offers: off, Staff: stf, Review: rev, Waitroom: wr, Guard: g, Outbox: store, Log: log, Dev: o.dev, Site: hs,
		PageCacheTTL: o.cache, Dashboard: dashboard.NewService(store, clk, dashboard.Config{TTL: time.Nanosecond})}
	if o.sandbox != nil {
		d.Sandbox = o.sandbox
	}
	var cards *offers.Charger
	if o.cards && o.sandbox != nil {
		cards = offers.NewCharger(store, o.sandbox, offers.NewMemoryMeter(), clk, nil, log)
		d.Cards = cards
	}
	if o.views {
		withViews(t, dsn, store, &d)
	}
	if err := web.Register(r, d); err != nil {
		t.Fatal(err)
	}
	if o.routes != nil {
		o.routes(r)
	}
	s := &site{t: t, srv: httptest.NewServer(r), store: store, svc: svc, reg: reg, draws: dr, staff: stf, waitroom: wr, keys: keys, org: org,
		cards: cards, sandbox: o.sandbox, views: d.Views, viewSync: d.ViewSync}
	t.Cleanup(s.srv.Close)
	return s
}

// send makes one request with the given headers and returns the response
// (body read) without following redirects.
func (s *site) send(method, path, contentType string, body []byte, header http.Header) (*http.Response, string) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.srv.URL+path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// cookieNamed returns the response's Set-Cookie for name.
func cookieNamed(t *testing.T, res *http.Response, name string) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("%s %s: no %s cookie set (status %d)", res.Request.Method, res.Request.URL.Path, name, res.StatusCode)
	return nil
}

// staffCode adds a reviewer and returns its address and a current TOTP code.
func (s *site) staffCode(email string) string {
	s.t.Helper()
	enr, err := s.staff.Add(context.Background(), email, lottery.RoleReviewer, "correct horse battery staple")
	if err != nil {
		s.t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(enr.TOTPURL)
	code, _ := totp.GenerateCode(key.Secret(), s.svc.Now())
	return code
}

// loopback trusts the test client as a proxy.
var loopback = []string{"127.0.0.1/32", "::1"}

// TestCookiesSecureInProduction sets every cookie the service writes in
// production configurations: Secure behind an https public URL or a trusted
// proxy's X-Forwarded-Proto: https, never on a client's own header.
func TestCookiesSecureInProduction(t *testing.T) {
	viaProxy := http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-For": {"198.51.100.7"},
		"X-Forwarded-Host": {"run.example"}}
	tests := []struct {
		name       string
		opts       siteOptions
		header     http.Header
		wantSecure bool
	}{
		{"https public URL", siteOptions{public: "https://run.example", ordered: true}, http.Header{}, true},
		{"trusted proxy says https", siteOptions{trusted: loopback, ordered: true}, viaProxy, true},
		{"untrusted client says https", siteOptions{public: "http://run.example", trusted: []string{"10.0.0.0/8"}, ordered: true},
			viaProxy, false},
		{"untrusted client, no public URL", siteOptions{trusted: []string{"10.0.0.0/8"}, ordered: true}, viaProxy, false},
		{"trusted proxy over plain http", siteOptions{trusted: loopback, ordered: true},
			http.Header{"X-Forwarded-Proto": {"http"}}, false},
	}
	const form = "application/x-www-form-urlencoded"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSiteWith(t, tt.opts)
			check := func(res *http.Response, name string) {
				t.Helper()
				if c := cookieNamed(t, res, name); c.Secure != tt.wantSecure {
					t.Errorf("%s on %s %s: Secure = %v, want %v", name, res.Request.Method, res.Request.URL.Path, c.Secure, tt.wantSecure)
				}
			}
			res, _ := s.send("GET", "/?lang=ko", "", nil, tt.header)
			check(res, "sl_lang")
			res, _ = s.send("GET", "/events/spring", "", nil, tt.header)
			check(res, "sl_device")
			res, _ = s.send("POST", "/api/v1/events/spring/challenge", "", nil, tt.header)
			check(res, "sl_device")

			res, page := s.send("GET", "/events/spring/queue?course=half&pace=fcfs", "", nil, tt.header)
			check(res, "sl_device")
			join := url.Values{"course": {"half"}, "pace": {"fcfs"}, "email": {"runner@example.com"}, "altcha": {solve(t, page)}}
			res, _ = s.send("POST", "/events/spring/queue", form, []byte(join.Encode()), tt.header)
			check(res, "sl_queue")

			login := url.Values{"email": {"rev1@example.com"}, "password": {"correct horse battery staple"},
				"otp": {s.staffCode("rev1@example.com")}, "next": {"/review"}}
			res, _ = s.send("POST", "/staff/login", form, []byte(login.Encode()), tt.header)
			check(res, "sl_staff")
			res, _ = s.send("POST", "/staff/logout", form, nil, tt.header)
			check(res, "sl_staff")
			body := fmt.Sprintf(`{"email":"rev2@example.com","password":"correct horse battery staple","otp":%q}`,
				s.staffCode("rev2@example.com"))
			res, _ = s.send("POST", "/api/v1/staff/login", "application/json", []byte(body), tt.header)
			check(res, "sl_staff")
			res, _ = s.send("POST", "/api/v1/staff/logout", "application/json", nil, tt.header)
			check(res, "sl_staff")
		})
	}
}
