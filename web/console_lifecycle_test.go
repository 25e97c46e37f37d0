package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"

	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

// consolePost posts a console form with the session's CSRF token read from
// page, and returns the status, the Location and the body.
func (s *site) consolePost(cookie, page, path string, form url.Values) (int, string, string) {
	s.t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		s.t.Fatalf("no csrf token on the page")
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", m[1])
	req, _ := http.NewRequest("POST", s.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Origin", s.srv.URL)
	res, err := noRedirect.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return res.StatusCode, res.Header.Get("Location"), b.String()
}

// TestConsoleLifecycle walks spring's overview over HTTP: a refused step
// and a refused capacity are shown translated in place; capacity, close,
// freeze, reveal, draw (workers run inline) and publish-results go through
// their confirmations; the audit log names who did what; another
// organization's organizer gets a 404.
func TestConsoleLifecycle(t *testing.T) {
	s := newSite(t, true)
	for _, e := range []string{"3001@example.com", "3002@example.com", "3003@example.com"} {
		s.applyViaForm(e, `{"fill_ms":30000}`)
	}
	s.applyViaForm("3004@example.com", `{"webdriver":true,"fill_ms":30000}`) // held for review
	cookie, _ := s.orgLogin("", "boss@example.com", lottery.RoleOrganizer)
	get := func(path, lang string) (int, string) {
		t.Helper()
		code, body, _ := s.get(path, "Cookie", cookie, "Accept-Language", lang)
		return code, body
	}
	code, page := get("/admin/events/spring", "en")
	for _, w := range []string{"Open", "Half Marathon · Under 1:30", "Drawn after registration", `id="overview-commitment"`, `id="action-close"`, `id="action-cancel"`} {
		if code != 200 || !strings.Contains(page, w) {
			t.Fatalf("overview lacks %q: %d\n%s", w, code, page)
		}
	}
	if strings.Contains(page, `id="action-publish"`) || strings.Contains(page, `id="action-unpublish"`) {
		t.Error("an open event offers publish or unpublish")
	}

	// A refused step is shown on its confirmation, translated, not as a 500.
	code, _, body := s.consolePost(cookie, page, "/admin/events/spring/actions/publish", nil)
	if code != http.StatusConflict || !strings.Contains(body, "not possible in the event&#39;s current state") {
		t.Errorf("publish twice: %d\n%s", code, body)
	}
	// A capacity below zero is refused beside its form.
	code, _, body = s.consolePost(cookie, page, "/admin/events/spring/subqueues/half:open/capacity", url.Values{"capacity": {"-1"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="capacity-half--open-error"`) {
		t.Errorf("capacity -1: %d\n%s", code, body)
	}
	code, loc, _ := s.consolePost(cookie, page, "/admin/events/spring/subqueues/half:open/capacity", url.Values{"capacity": {"250"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/events/spring?done=capacity") {
		t.Fatalf("capacity 250: %d %s", code, loc)
	}
	// Waiting-room controls only exist for ordered groups.
	if code, _, _ := s.consolePost(cookie, page, "/admin/events/spring/subqueues/half:open/pause", nil); code != http.StatusUnprocessableEntity {
		t.Errorf("pause a drawn group: %d", code)
	}

	step := func(action string, form url.Values) {
		t.Helper()
		code, conf := get("/admin/events/spring/confirm/"+action, "en")
		if code != 200 || !strings.Contains(conf, `id="confirm-submit"`) {
			t.Fatalf("confirm %s: %d\n%s", action, code, conf)
		}
		code, loc, body := s.consolePost(cookie, conf, "/admin/events/spring/actions/"+action, form)
		if code != http.StatusSeeOther || loc != "/admin/events/spring?done="+action {
			t.Fatalf("%s: %d %s\n%s", action, code, loc, body)
		}
	}
	step("close", nil)
	// The default policy refuses a freeze while an entry awaits review: the
	// confirmation says why and links the review queue.
	_, conf := get("/admin/events/spring/confirm/freeze", "en")
	code, _, body = s.consolePost(cookie, conf, "/admin/events/spring/actions/freeze", nil)
	if code != http.StatusConflict || !strings.Contains(body, `id="confirm-review-link"`) || !strings.Contains(body, "await review") ||
		!strings.Contains(body, `href="/admin/events/spring/confirm/freeze?lang=ko"`) {
		t.Errorf("freeze with an entry in review: %d\n%s", code, body)
	}
	s.store.DB().Exec(`UPDATE events SET unreviewed_policy = 'exclude' WHERE slug = 'spring'`)
	step("freeze", url.Values{"beacon_round": {""}})
	step("reveal", url.Values{"beacon": {""}})
	step("draw", nil)
	_, page = get("/admin/events/spring?done=draw", "en")
	if !strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(page, `id="draw-running"`) || !strings.Contains(page, `data-draw="pending"`) {
		t.Errorf("a running draw: no refresh or progress\n%s", page)
	}
	var ids []int64
	s.store.DB().Raw(`SELECT subqueue_id FROM draws d JOIN events ev ON ev.id = d.event_id WHERE ev.slug = 'spring'`).Scan(&ids)
	for _, id := range ids {
		if _, err := s.draws.RunDraw(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	_, page = get("/admin/events/spring", "en")
	if strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(page, `data-draw="drawn"`) || !strings.Contains(page, `id="action-publish-results"`) {
		t.Errorf("drawn: \n%s", page)
	}
	step("publish-results", nil)
	_, page = get("/admin/events/spring", "ko")
	for _, w := range []string{"추첨 완료", `id="overview-results"`, "코스와 페이스 그룹"} {
		if !strings.Contains(page, w) {
			t.Errorf("Korean overview lacks %q", w)
		}
	}

	// Closing the waitlist: its step, its confirmation in Korean, done.
	if !strings.Contains(page, `id="action-settle"`) {
		t.Errorf("a drawn event with results offers no close-the-waitlist step")
	}
	if code, conf := get("/admin/events/spring/confirm/settle", "ko"); code != 200 || !strings.Contains(conf, "대기 명단에 다시 제안되지 않습니다") ||
		!strings.Contains(conf, "지금 대기 명단 마감") {
		t.Errorf("Korean settle confirmation: %d", code)
	}
	step("settle", nil)
	if _, page = get("/admin/events/spring", "en"); !strings.Contains(page, "Waitlist closed") || strings.Contains(page, `id="action-settle"`) {
		t.Errorf("settled overview:\n%s", page)
	}

	code, audit := get("/admin/events/spring/audit", "en")
	for _, w := range []string{"Closed the waitlist", "Published the results", "Started the draw", "Closed registration", "Changed the number of places", "boss@example.com", "Half Marathon · Open"} {
		if code != 200 || !strings.Contains(audit, w) {
			t.Errorf("audit lacks %q: %d\n%s", w, code, audit)
		}
	}
	if code, log := get("/admin/events/spring/audit?view=log", "ko"); code != 200 || !strings.Contains(log, "대회 기록") {
		t.Errorf("event log page: %d", code)
	}
	if code, _ := get("/admin/events/spring/audit?before=x", "en"); code != 404 {
		t.Errorf("bad cursor: %d", code)
	}

	other, _ := s.orgLogin("other-club", "rival@example.com", lottery.RoleOrganizer)
	for _, p := range []string{"/admin/events/spring", "/admin/events/spring/confirm/cancel", "/admin/events/spring/audit"} {
		if code, _, _ := s.get(p, "Cookie", other); code != 404 {
			t.Errorf("another organization's organizer GET %s: %d", p, code)
		}
	}
}

// TestConsoleUnpublishCancel: a future event is unpublished and published
// again through the confirmations (same commitment); the open event is
// cancelled through its confirmation, which counts the entries to tell; the
// public page then says it is cancelled and the overview offers no step.
func TestConsoleUnpublishCancel(t *testing.T) {
	s := newSite(t, true)
	ctx := context.Background()
	if _, err := s.svc.CreateEvent(ctx, s.org, lottery.EventSpec{Slug: "autumn", Name: "Autumn 10K", TimeZone: "Asia/Seoul",
		OpensAt: time.Now().Add(48 * time.Hour), ClosesAt: time.Now().Add(96 * time.Hour),
		Courses: []lottery.CourseSpec{{Code: "10k", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "open", Label: "Open", Capacity: 100}}}}}); err != nil {
		t.Fatal(err)
	}
	cookie, _ := s.orgLogin("", "boss@example.com", lottery.RoleOrganizer)
	get := func(path string) string {
		t.Helper()
		code, body, _ := s.get(path, "Cookie", cookie)
		if code != 200 || !strings.Contains(body, "</main>") {
			t.Fatalf("GET %s: %d\n%s", path, code, body)
		}
		return body
	}
	do := func(slug, action string) {
		t.Helper()
		conf := get("/admin/events/" + slug + "/confirm/" + action)
		if code, loc, body := s.consolePost(cookie, conf, "/admin/events/"+slug+"/actions/"+action, nil); code != http.StatusSeeOther {
			t.Fatalf("%s %s: %d %s\n%s", action, slug, code, loc, body)
		}
	}
	page := get("/admin/events/autumn")
	if !strings.Contains(page, `id="action-publish"`) || strings.Contains(page, `id="overview-commitment"`) {
		t.Fatalf("draft overview:\n%s", page)
	}
	conf := get("/admin/events/autumn/confirm/publish")
	if !strings.Contains(conf, "commitment") {
		t.Errorf("the publish confirmation does not speak of the commitment")
	}
	do("autumn", "publish")
	page = get("/admin/events/autumn?done=publish")
	commitment := regexp.MustCompile(`id="overview-commitment">([0-9a-f]{64})<`).FindStringSubmatch(page)
	if commitment == nil || !strings.Contains(page, `id="action-unpublish"`) {
		t.Fatalf("published overview:\n%s", page)
	}
	do("autumn", "unpublish")
	if code, _, _ := s.get("/events/autumn"); code != 404 {
		t.Errorf("public page of the unpublished event: %d", code)
	}
	if conf := get("/admin/events/autumn/confirm/publish"); !strings.Contains(conf, commitment[1]) {
		t.Errorf("the publish confirmation does not show the kept commitment")
	}
	do("autumn", "publish")
	if page := get("/admin/events/autumn"); !strings.Contains(page, commitment[1]) {
		t.Errorf("published again with another commitment")
	}

	receipt := s.applyViaForm("4001@example.com", `{"fill_ms":30000}`)
	conf = get("/admin/events/spring/confirm/cancel")
	if !strings.Contains(conf, "Entries that will be told: 1.") || !strings.Contains(conf, "cannot be undone") {
		t.Errorf("cancel confirmation:\n%s", conf)
	}
	do("spring", "cancel")
	page = get("/admin/events/spring?done=cancel")
	if !strings.Contains(page, `data-status="cancelled"`) || !strings.Contains(page, `id="overview-noactions"`) || !strings.Contains(page, `id="overview-cancelled"`) {
		t.Errorf("cancelled overview:\n%s", page)
	}
	code, pub, _ := s.get("/events/spring", "Accept-Language", "ko-KR")
	if code != 200 || !strings.Contains(pub, `id="event-cancelled"`) || !strings.Contains(pub, "취소") || strings.Contains(pub, `id="step1"`) {
		t.Errorf("public page of the cancelled event: %d", code)
	}
	_, entry, _ := s.get(receipt)
	if !strings.Contains(entry, `id="entry-event-cancelled"`) {
		t.Errorf("the entry's status page does not say the event is cancelled")
	}
	var mails int64
	s.store.DB().Raw(`SELECT count(*) FROM outbox WHERE intent = 'event.cancelled'`).Scan(&mails)
	if mails != 1 {
		t.Errorf("%d cancellation mails, want 1", mails)
	}
}

// TestWaitingPageSaysPaused: while the organizer has paused the line the
// waiting page says so (in the runner's language), and a pass admits
// nobody; resumed, the next pass admits the front of the line.
func TestWaitingPageSaysPaused(t *testing.T) {
	s := queueSite(t)
	ctx := context.Background()
	b := newBrowser(s)
	code, _, hdr := b.join("ana@example.com")
	if code != http.StatusSeeOther {
		t.Fatalf("join: %d", code)
	}
	wait := hdr.Get("Location")
	if err := s.waitroom.SetPaused(ctx, s.org, "summer", "half:fcfs", true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // a second's worth of admissions, were it admitting
	if _, err := s.waitroom.AdmitQueues(ctx); err != nil {
		t.Fatal(err)
	}
	_, body, _ := b.do("GET", wait, nil)
	if !strings.Contains(body, `id="queue-paused"`) || !strings.Contains(body, "<strong>1</strong>") || strings.Contains(body, "admission_token=") {
		t.Fatalf("waiting page while paused:\n%s", body)
	}
	if _, ko, _ := b.do("GET", wait+"&lang=ko", nil); !strings.Contains(ko, "잠시 멈췄습니다") {
		t.Errorf("Korean waiting page does not say paused")
	}
	if err := s.waitroom.SetPaused(ctx, s.org, "summer", "half:fcfs", false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if _, err := s.waitroom.AdmitQueues(ctx); err != nil {
		t.Fatal(err)
	}
	if _, body, _ = b.do("GET", wait, nil); strings.Contains(body, `id="queue-paused"`) || !strings.Contains(body, "admission_token=") {
		t.Errorf("waiting page after resuming:\n%s", body)
	}
}
