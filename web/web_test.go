package web_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/antibot/pow"
	abredis "github.com/startline/startline/antibot/redis"
	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/internal/readcache"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/checkin"
	"github.com/startline/startline/lottery/dashboard"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/drawstats"
	"github.com/startline/startline/lottery/exports"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/payments/sandbox"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/lottery/review"
	"github.com/startline/startline/lottery/selfservice"
	"github.com/startline/startline/lottery/series"
	"github.com/startline/startline/lottery/staff"
	"github.com/startline/startline/lottery/waitroom"
	"github.com/startline/startline/web"
)

type site struct {
	t        *testing.T
	srv      *httptest.Server
	store    *postgres.Store
	svc      *lottery.Service
	reg      *registration.Service
	draws    *draws.Service
	stats    *drawstats.Service // the odds pass runs through it (the worker's Refresh)
	staff    *staff.Service
	waitroom *waitroom.Service
	keys     *lottery.Keys // the service's, to make receipt tokens
	org      lottery.StaffAccount
	cards    *offers.Charger   // siteOptions.cards
	sandbox  *sandbox.Provider // siteOptions.sandbox
	views    *readcache.Cache  // siteOptions.views
	viewSync func(context.Context) error
}

func newSite(t *testing.T, dev bool) *site { return newSiteRules(t, dev, nil, nil) }

// newSiteRules is newSite with rate-limit rules (generous when nil) and
// trusted proxies (none when nil).
func newSiteRules(t *testing.T, dev bool, rules []abredis.Rule, trustedProxies []string) *site {
	return newSiteGuard(t, dev, guardtest.Options{Rules: rules}, trustedProxies, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// newSiteGuard is newSiteRules with the guard's options (its Redis, failing
// open or closed) and the server's logger.
func newSiteGuard(t *testing.T, dev bool, opts guardtest.Options, trustedProxies []string, log *slog.Logger, more ...func(*web.Deps)) *site {
	store, _ := pgtest.NewStore(t)
	keys, _ := lottery.NewKeys([]byte("web-test-secret-key-web-test-secret-key"))
	svc := lottery.NewService(store, keys, lottery.SystemClock{}, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	reg := registration.NewService(store, svc, keys, lottery.SystemClock{}, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	dr := draws.NewService(store, svc, reg, keys, nil, log)
	stats := drawstats.NewService(store, lottery.SystemClock{}, log, drawstats.Config{CacheTTL: time.Nanosecond})
	svc.UseDraws(stats.FinalOnFreeze(dr))
	off := offers.NewService(store, svc, keys, lottery.SystemClock{}, nil, log)
	svc.UseCanceller(off)
	off.UseTransfers(reg, "")
	stf := staff.NewService(store, store, keys, lottery.SystemClock{}, nil, log, staff.Config{})
	rev := review.NewService(store, lottery.SystemClock{}, nil, log, nil)
	svc.UseClusters(rev)
	rev.UseEntries(reg)
	self := selfservice.NewService(store, reg, svc, keys, lottery.SystemClock{}, nil, log, selfservice.Config{})
	wr := waitroom.NewService(store, svc, keys, lottery.SystemClock{}, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	ctx := context.Background()
	if _, err := stf.Add(ctx, "org@example.com", lottery.RoleOrganizer, ""); err != nil {
		t.Fatal(err)
	}
	org, _ := store.StaffByEmail(ctx, "org@example.com")
	_, err := svc.CreateEvent(ctx, org, lottery.EventSpec{Slug: "spring", Name: "Spring Marathon", DisputeWindow: "0s", TimeZone: "Asia/Seoul",
		OpensAt: time.Now().Add(-time.Hour), ClosesAt: time.Now().Add(time.Hour), MaxGroupSize: 4, TicketRule: "doubling",
		Courses: []lottery.CourseSpec{{Code: "half", Name: "Half Marathon", DistanceKM: 21.1, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "sub-130", Label: "Under 1:30", PaceMax: "4:15", Capacity: 100}, {Code: "open", Label: "Open", Capacity: 200}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, org, "spring", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	r, err := httpkit.NewEngine(trustedProxies)
	if err != nil {
		t.Fatal(err)
	}
	g := guardtest.New(t, log, opts)
	d := web.Deps{Svc: svc, Registration: reg, Draws: dr, Stats: stats, Offers: off, Staff: stf, Review: rev, Waitroom: wr, Guard: g, Log: log, Dev: dev, Self: self,
		Outbox: lottery.RenderingOutbox{MailStore: store, Renderer: lottery.NewMailRenderer(store, keys, "https://run.example")},
		Series: series.NewService(store, "KR", svc.ForgetEvent), Exports: exports.NewService(store, svc, log, "KR"),
		Checkin:   checkin.NewService(store, checkin.NewSigner(keys.Derive("checkin")), svc.Now),
		Dashboard: dashboard.NewService(store, lottery.SystemClock{}, dashboard.Config{TTL: time.Nanosecond})}
	for _, f := range more {
		f(&d)
	}
	if err := web.Register(r, d); err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, srv: httptest.NewServer(r), store: store, svc: svc, reg: reg, draws: dr, stats: stats, staff: stf, waitroom: wr, keys: keys, org: org}
	t.Cleanup(s.srv.Close)
	return s
}

// noRedirect is the test browser: it stops at redirects and sends a
// browser's user agent (Go's default one is scored as a script).
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport: browserUA{http.DefaultTransport}}

type browserUA struct{ rt http.RoundTripper }

func (b browserUA) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148")
	return b.rt.RoundTrip(r)
}

func (s *site) get(path string, header ...string) (int, string, http.Header) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func (s *site) post(path string, form url.Values) (int, string, http.Header) {
	s.t.Helper()
	return s.postForm(path, form)
}

var (
	hiddenRe    = regexp.MustCompile(`<input type="hidden" name="([a-z0-9_.-]+)" value="([^"]*)">`)
	challengeRe = regexp.MustCompile(`data-altcha-challenge="([^"]*)"`)
	codeRe      = regexp.MustCompile(`(?:is|코드는) ([0-9]{6})`) // English or Korean code mail
)

// TestApplyThroughTheForm walks the runner's pages with plain form posts,
// as a browser with JavaScript off would.
func TestApplyThroughTheForm(t *testing.T) {
	s := newSite(t, true)
	if code, body, _ := s.get("/"); code != 200 || !strings.Contains(body, "Spring Marathon") {
		t.Fatalf("home: %d", code)
	}
	code, body, _ := s.get("/events/spring")
	if code != 200 || !strings.Contains(body, `value="half:sub-130"`) || !strings.Contains(body, "Step 1") {
		t.Fatalf("event page: %d %s", code, body)
	}
	code, body, _ = s.get("/events/spring/apply?subqueue=half:sub-130")
	if code != 200 || !strings.Contains(body, `name="email"`) || !strings.Contains(body, "Under 1:30") {
		t.Fatalf("identity form: %d", code)
	}
	form := url.Values{"subqueue": {"half:sub-130"}, "name": {"Kim Minjun"}, "email": {"minjun@example.com"},
		"phone": {"010-1234-5678"}, "birth_date": {"1990-04-01"}, "consents.privacy": {"default-2"}, "consents.waiver": {"default-2"}, "group_code": {""}, "previous_applications": {""},
		"website": {""}, "started": {strconv.FormatInt(time.Now().Add(-time.Minute).UnixMilli(), 10)}, "signals": {""}}
	code, body, _ = s.post("/events/spring/apply/code", form)
	if code != 200 || !strings.Contains(body, `name="otp"`) {
		t.Fatalf("send code: %d %s", code, body)
	}
	step3 := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		step3.Set(m[1], m[2])
	}
	// The page script's job: solve the embedded proof-of-work challenge.
	solve := func(page string) string {
		m := challengeRe.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no embedded challenge")
		}
		var ch pow.Challenge
		if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &ch); err != nil {
			t.Fatal(err)
		}
		return guardtest.Solve(t, ch)
	}
	if step3.Get("idem") == "" || step3.Get("email") != "minjun@example.com" {
		t.Fatalf("step 3 hidden fields: %v", step3)
	}
	msgs, _ := s.store.OutboxFor(context.Background(), "minjun@example.com", 1)
	otp := codeRe.FindStringSubmatch(msgs[0].Body)[1]

	wrong := url.Values{}
	for k, v := range step3 {
		wrong[k] = v
	}
	wrong.Set("altcha", solve(body))
	wrong.Set("otp", "000000")
	if otp == "000000" {
		wrong.Set("otp", "111111")
	}
	code, body, _ = s.post("/events/spring/apply", wrong)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `role="alert"`) {
		t.Fatalf("wrong code: %d", code)
	}

	// A browser check that does not verify is refused and the form shown
	// again (none at all is the JavaScript-off path: TestApplyWithoutJavaScript).
	step3.Set("otp", otp)
	step3.Set("altcha", "bm90IGEgcHJvb2Y=")
	if code, body, _ = s.post("/events/spring/apply", step3); code != http.StatusUnprocessableEntity || !strings.Contains(body, "browser check") {
		t.Fatalf("submit without proof of work: %d", code)
	}
	step3.Set("altcha", solve(body))
	code, _, hdr := s.post("/events/spring/apply", step3)
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/entries/") {
		t.Fatalf("submit: %d %v", code, hdr)
	}
	receipt := hdr.Get("Location")
	// A double submit of the same form returns the same receipt.
	if code, _, hdr := s.post("/events/spring/apply", step3); code != http.StatusSeeOther || hdr.Get("Location") != receipt {
		t.Errorf("double submit: %d %s, want the receipt %s", code, hdr.Get("Location"), receipt)
	}
	code, body, _ = s.get(receipt)
	if code != 200 || !strings.Contains(body, "Application received") || !strings.Contains(body, "Half Marathon · Under 1:30") {
		t.Fatalf("receipt: %d %s", code, body)
	}
	// Tickets come from the record, not the form: nothing on record, one ticket.
	if !strings.Contains(body, "<dd>1</dd>") || !strings.Contains(body, "No earlier applications found → <strong>1 ticket</strong>") {
		t.Errorf("receipt does not explain 1 ticket: %s", body)
	}
	u, _ := url.Parse(receipt)
	if code, _, _ := s.get(u.Path + "?token=wrong"); code != 404 {
		t.Errorf("status with a wrong token: %d, want 404", code)
	}
	id := strings.TrimPrefix(u.Path, "/entries/")
	if code, _, hdr := s.get("/status?entry_id=" + id + "&token=" + url.QueryEscape(u.Query().Get("token"))); code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), u.Path) {
		t.Errorf("status lookup: %d %v", code, hdr)
	}

	// After the window: freeze, reveal, draw; the results page and the
	// runner's status page show the outcome.
	ctx := context.Background()
	s.store.DB().Exec("UPDATE events SET closes_at = now() - interval '1 second' WHERE slug = 'spring'")
	for _, a := range []string{lottery.ActionFreeze, lottery.ActionReveal, lottery.ActionDraw} {
		if _, err := s.svc.Transition(ctx, s.org, "spring", a, lottery.TransitionParams{}); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	var subs []int64
	s.store.DB().Raw("SELECT subqueue_id FROM draws").Scan(&subs)
	for _, sq := range subs {
		if _, err := s.draws.RunDraw(ctx, sq); err != nil {
			t.Fatal(err)
		}
	}
	code, body, _ = s.get("/events/spring/results")
	if code != 200 || !strings.Contains(body, id) || !strings.Contains(body, "artifact.json") || !strings.Contains(body, "Selection by tickets held") || !strings.Contains(body, "Check the draw yourself") {
		t.Errorf("results page: %d %s", code, body)
	}
	code, body, _ = s.get(receipt)
	if code != 200 || !strings.Contains(body, "Selected: you won a slot") || !strings.Contains(body, "/proof?token=") {
		t.Errorf("status after the draw: %d %s", code, body)
	}

	// Results published: the runner holds an offer and accepts it from the page.
	if _, err := s.svc.Transition(ctx, s.org, "spring", lottery.ActionPublishResults, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	code, body, _ = s.get(receipt)
	m := regexp.MustCompile(`formaction="(/offers/[0-9a-f-]+/accept)"`).FindStringSubmatch(body)
	if code != 200 || m == nil || !strings.Contains(body, "A slot is held for you") {
		t.Fatalf("offer on the status page: %d %s", code, body)
	}
	code, _, hdr = s.post(m[1], url.Values{"token": {u.Query().Get("token")}})
	if code != http.StatusSeeOther {
		t.Fatalf("accept: %d", code)
	}
	if _, body, _ = s.get(hdr.Get("Location")); !strings.Contains(body, "You accepted") {
		t.Errorf("after accepting: %s", body)
	}
	if code, _, _ := s.post(m[1], url.Values{"token": {"forged"}}); code != http.StatusNotFound {
		t.Errorf("accept with a forged token: %d", code)
	}
}

func TestFormErrorsAndLanguages(t *testing.T) {
	s := newSite(t, false)
	form := url.Values{"subqueue": {"half:open"}, "name": {"Kim"}, "email": {"nope"}, "phone": {"010-1234-5678"},
		"birth_date": {"1990-04-01"}, "consents.privacy": {"default-2"}, "consents.waiver": {"default-2"}}
	code, body, _ := s.post("/events/spring/apply/code", form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `class="field invalid"`) {
		t.Fatalf("bad e-mail: %d", code)
	}
	if code, body, _ := s.get("/events/spring?lang=ko"); code != 200 || !strings.Contains(body, "1단계") {
		t.Errorf("Korean page: %d", code)
	}
	if code, body, _ := s.get("/events/spring", "Accept-Language", "ko-KR,ko;q=0.9"); code != 200 || !strings.Contains(body, "코스와 페이스 그룹") {
		t.Errorf("Accept-Language ko: %d", code)
	}
	if code, _, _ := s.get("/events/nope"); code != 404 {
		t.Errorf("unknown event: %d", code)
	}
	if code, _, hdr := s.get("/events/spring/apply?subqueue=half:zzz"); code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "#step1") {
		t.Errorf("unknown sub-queue: %d %v", code, hdr)
	}
	if code, _, _ := s.get("/dev/outbox"); code != 404 {
		t.Errorf("dev outbox outside dev mode: %d", code)
	}
}
