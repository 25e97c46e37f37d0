package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/web/chart"
)

// dashboardSite is a drawn spring (12 entries in half:open, 6 slots at
// ₩80,000, each selected entry holding an offer) where, through the pages,
// two runners paid in the sandbox checkout and one declined (the freed slot
// is offered again). It returns the site and the totals the dashboard must
// show, counted straight from the tables.
func dashboardSite(t *testing.T) (*site, map[string]string) {
	t.Helper()
	s, _, sel := drawnSite(t, siteOptions{}, 12, 6)
	for _, e := range sel[:2] {
		checkout := s.startPay(e, nil)
		if res := s.outcome(checkout.Path, "pay", s.checkoutForm(checkout, nil), nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("pay: %d", res.StatusCode)
		}
	}
	if st, _, _ := s.post("/offers/"+s.offerID(sel[2])+"/decline", url.Values{"token": {s.receipt(sel[2])}, "confirm": {"yes"}}); st != http.StatusSeeOther {
		t.Fatalf("decline: %d", st)
	}
	count := func(q string) string {
		var n int64
		if err := s.store.DB().Raw(q).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return chart.Count(n)
	}
	var taken int64
	s.store.DB().Raw(`SELECT coalesce(sum(amount_minor), 0) FROM payments WHERE status IN ('captured', 'refunded')`).Scan(&taken)
	want := map[string]string{
		"dash-entries-total":    count(`SELECT count(*) FROM entries`),
		"dash-demand-total":     count(`SELECT count(*) FROM entries WHERE status NOT IN ('rejected', 'withdrawn', 'declined', 'expired')`),
		"dash-capacity-total":   count(`SELECT sum(capacity) FROM subqueues`),
		"dash-flagged-total":    count(`SELECT count(*) FROM entries WHERE risk_decision <> 'accept'`),
		"dash-review-awaiting":  count(`SELECT count(*) FROM entries WHERE status = 'in_review'`),
		"dash-review-decided":   count(`SELECT count(*) FROM entries WHERE risk_decision <> 'accept' AND status <> 'in_review'`),
		"dash-offers-issued":    count(`SELECT count(*) FROM offers`),
		"dash-offers-accepted":  count(`SELECT count(*) FROM offers WHERE status IN ('accepted', 'paid')`),
		"dash-offers-paid":      count(`SELECT count(*) FROM offers WHERE status = 'paid'`),
		"dash-offers-declined":  count(`SELECT count(*) FROM offers WHERE status = 'declined'`),
		"dash-offers-expired":   count(`SELECT count(*) FROM offers WHERE status = 'expired'`),
		"dash-offers-reoffered": count(`SELECT count(*) FROM offers WHERE round > 0`),
		"dash-money-taken":      lottery.Money{Amount: taken, Currency: "krw"}.String(),
		"dash-money-refunded":   "₩0",
		"dash-payments-total":   count(`SELECT count(*) FROM payments WHERE status IN ('captured', 'refunded')`),
	}
	if want["dash-offers-paid"] != "2" || want["dash-offers-declined"] != "1" || want["dash-money-taken"] != "₩160,000" || want["dash-entries-total"] != "12" {
		t.Fatalf("the setup is not what the test expects: %v", want)
	}
	return s, want
}

// consoleLogin signs a new staff account of org in (a TOTP code at the
// site's clock) and returns its session cookie.
func (s *site) consoleLogin(org, email string, role lottery.Role) string {
	s.t.Helper()
	enr, err := s.staff.AddTo(context.Background(), org, email, role, "correct horse battery staple")
	if err != nil {
		s.t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(enr.TOTPURL)
	code, _ := totp.GenerateCode(key.Secret(), s.svc.Now())
	st, _, hdr := s.post("/staff/login", url.Values{"email": {email}, "password": {"correct horse battery staple"}, "otp": {code}})
	if st != http.StatusSeeOther {
		s.t.Fatalf("login %s: %d", email, st)
	}
	return strings.Split(hdr.Get("Set-Cookie"), ";")[0]
}

var dashTotalRe = regexp.MustCompile(`<dd id="(dash-[a-z-]+)">([^<]*)</dd>`)

// dashTotals reads the totals of a dashboard page by their element ids.
func dashTotals(body string) map[string]string {
	out := map[string]string{}
	for _, m := range dashTotalRe.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestDashboardPage: the organizer of the event's organization sees its
// dashboard with totals equal to the tables' counts and every chart named
// (en and ko); an organizer of another organization gets a 404 as if there
// were no such event, a reviewer a 403 and the public the login.
func TestDashboardPage(t *testing.T) {
	s, want := dashboardSite(t)
	cookie := s.consoleLogin(lottery.DefaultOrg, "boss@example.com", lottery.RoleOrganizer)
	const path = "/admin/events/spring/dashboard"

	code, body, hdr := s.get(path, "Cookie", cookie, "Accept-Language", "en-US")
	if code != http.StatusOK {
		t.Fatalf("dashboard: %d %s", code, body)
	}
	if cc := hdr.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q: the console is private", cc)
	}
	if d := cmp.Diff(want, dashTotals(body)); d != "" {
		t.Errorf("totals (-tables +page):\n%s", d)
	}
	for _, label := range []string{"Applications over time", "Demand and capacity", "Odds of the drawn groups", "Risk scores", "Review backlog", "Offers", "Money"} {
		if !strings.Contains(body, `role="img" aria-label="`+label+`"`) {
			t.Errorf("no chart %q", label)
		}
	}
	for _, w := range []string{`aria-current="page">Dashboard`, "Half Marathon · Open", "Show the numbers", "₩160,000"} {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if strings.Contains(body, "half:open") {
		t.Errorf("the page shows a sub-queue key, not its name")
	}

	code, body, _ = s.get(path, "Cookie", cookie, "Accept-Language", "ko-KR")
	if code != http.StatusOK || !strings.Contains(body, "시간별 신청") || !strings.Contains(body, `aria-label="수요와 정원"`) || !strings.Contains(body, "수치 보기") {
		t.Errorf("ko dashboard: %d", code)
	}
	if d := cmp.Diff(want, dashTotals(body)); d != "" {
		t.Errorf("ko totals (-tables +page):\n%s", d)
	}

	rival := s.consoleLogin("rival-club", "rival@example.com", lottery.RoleOrganizer)
	if code, _, _ := s.get(path, "Cookie", rival); code != http.StatusNotFound {
		t.Errorf("another organization's organizer: %d, want 404", code)
	}
	reviewer := s.consoleLogin(lottery.DefaultOrg, "rev@example.com", lottery.RoleReviewer)
	if code, _, _ := s.get(path, "Cookie", reviewer); code != http.StatusForbidden {
		t.Errorf("reviewer: %d, want 403", code)
	}
	if code, _, hdr := s.get(path); code != http.StatusFound || !strings.HasPrefix(hdr.Get("Location"), "/staff/login") {
		t.Errorf("anonymous: %d to %q, want 302 to the login", code, hdr.Get("Location"))
	}
	if code, _, _ := s.get("/admin/events/no-such/dashboard", "Cookie", cookie); code != http.StatusNotFound {
		t.Errorf("unknown event: %d", code)
	}
}

// TestDashboardOddsAsTheEventPage: a drawn group's odds on the dashboard are
// the event page's (drawstats' stored snapshot): the same chance of a
// one-ticket entry, under the group's name.
func TestDashboardOddsAsTheEventPage(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, false)
	s.store.DB().Exec("UPDATE subqueues SET capacity = 10 WHERE key = 'half:sub-130'")
	if _, err := s.store.InsertSyntheticEntries(ctx, "spring", 30); err != nil {
		t.Fatal(err)
	}
	if _, err := s.stats.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	_, event, _ := s.get("/events/spring")
	oneTicket := regexp.MustCompile(`<th scope="row">1 ticket</th><td>[0-9,]+</td><td>([^<]+)</td>`)
	want := map[string]string{}
	for _, part := range strings.Split(event, "<h3>")[1:] { // one group's odds after each heading
		if m := oneTicket.FindStringSubmatch(part); m != nil {
			want[part[:strings.Index(part, "</h3>")]] = m[1]
		}
	}
	if len(want) != 2 || want["Half Marathon · Under 1:30"] == "100%" {
		t.Fatalf("event page odds: %v", want)
	}
	cookie := s.consoleLogin(lottery.DefaultOrg, "boss@example.com", lottery.RoleOrganizer)
	st, dash, _ := s.get("/admin/events/spring/dashboard", "Cookie", cookie)
	if st != http.StatusOK {
		t.Fatalf("dashboard: %d %s", st, dash)
	}
	i := strings.Index(dash, `aria-label="Odds of the drawn groups"`)
	if i < 0 {
		t.Fatal("no odds chart")
	}
	row := regexp.MustCompile(`<tr><th scope="row">([^<]+)</th><td>([^<]+)</td></tr>`)
	got := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(dash[i:strings.Index(dash[i:], "</figure>")+i], -1) {
		got[m[1]] = m[2]
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("one-ticket chance (-event page +dashboard):\n%s", d)
	}
	if n := strings.Count(dash[i:strings.Index(dash[i:], "</figure>")+i], `class="bar"`); n != 2 {
		t.Errorf("%d odds bars, want 2", n)
	}
	if !strings.Contains(dash, "Half Marathon · Under 1:30: 30 entries for 10 slots") {
		t.Errorf("odds lines missing")
	}
}

// TestDashboardWaitingRoom: a first-come group's line on the dashboard:
// runners joined through the waiting room and a pass admitted some; the
// waiting and admitted totals are the line's.
func TestDashboardWaitingRoom(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, false)
	zero := 0
	if _, err := s.svc.CreateEvent(ctx, s.org, lottery.EventSpec{Slug: "summer", Name: "Summer 10K", DisputeWindow: "0s", TimeZone: "Asia/Seoul",
		OpensAt: time.Now().Add(-time.Minute), ClosesAt: time.Now().Add(time.Hour), MaxGroupSize: 1, TicketRule: "none",
		Courses: []lottery.CourseSpec{{Code: "ten", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "fcfs", Label: "First come", Capacity: 50, Mode: "ordered", AdmitPerMinute: 3, PrequeueMinutes: &zero}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Transition(ctx, s.org, "summer", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	client := lottery.ClientInfo{IP: "211.234.10.20", UserAgent: browsertest.PersonUA, AcceptLanguage: "en-US", DeviceID: "dev"}
	for i := range 9 {
		if _, err := s.waitroom.JoinQueue(ctx, "summer", lottery.JoinRequest{Course: "ten", PaceGroup: "fcfs",
			Email: fmt.Sprintf("line%02d@example.com", i)}, client); err != nil {
			t.Fatalf("join %d: %v", i, err)
		}
	}
	if _, err := s.waitroom.AdmitQueues(ctx); err != nil {
		t.Fatal(err)
	}
	var admitted, issued int64
	s.store.DB().Raw(`SELECT l.admitted_through, (SELECT max(place) FROM queue_tickets t WHERE t.subqueue_id = l.subqueue_id)
		FROM queue_lines l JOIN events e ON e.id = l.event_id WHERE e.slug = 'summer'`).Row().Scan(&admitted, &issued)
	if issued != 9 {
		t.Fatalf("%d places issued, want 9", issued)
	}
	cookie := s.consoleLogin(lottery.DefaultOrg, "boss@example.com", lottery.RoleOrganizer)
	st, body, _ := s.get("/admin/events/summer/dashboard", "Cookie", cookie)
	if st != http.StatusOK {
		t.Fatalf("dashboard: %d", st)
	}
	got := dashTotals(body)
	if got["dash-waiting-total"] != chart.Count(issued-admitted) || got["dash-admitted-total"] != chart.Count(admitted) {
		t.Errorf("waiting %q admitted %q, want %d and %d", got["dash-waiting-total"], got["dash-admitted-total"], issued-admitted, admitted)
	}
	if !strings.Contains(body, `aria-label="Waiting rooms"`) || !strings.Contains(body, "10K · First come: admits 3 a minute") {
		t.Errorf("no waiting-room chart or rate")
	}
}
