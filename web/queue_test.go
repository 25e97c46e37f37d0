package web_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/antibot/pow"
	"github.com/startline/startline/lottery"
)

// queueSite adds "summer" to the test site: half:fcfs is first come through
// the waiting room, half:open is drawn.
func queueSite(t *testing.T) *site {
	s := newSite(t, true)
	ctx := context.Background()
	_, err := s.svc.CreateEvent(ctx, s.org, lottery.EventSpec{Slug: "summer", Name: "Summer 10K", TimeZone: "Asia/Seoul",
		OpensAt: time.Now().Add(-time.Hour), ClosesAt: time.Now().Add(time.Hour), MaxGroupSize: 1, TicketRule: "none",
		Courses: []lottery.CourseSpec{{Code: "half", Name: "Half Marathon", DistanceKM: 21.1, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "fcfs", Label: "First come", Capacity: 50, Mode: "ordered"},
			{Code: "open", Label: "Open", Capacity: 100}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Transition(ctx, s.org, "summer", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	return s
}

// browser keeps cookies (the device cookie, the joined address) across
// requests and stops at redirects.
type browser struct {
	t *testing.T
	s *site
	c *http.Client
}

func newBrowser(s *site) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, s: s, c: &http.Client{Jar: jar, Transport: noRedirect.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values) (int, string, http.Header) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.s.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept-Language", "en-US,en;q=0.9")
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(out), res.Header
}

// solve does the page script's job: it answers the embedded challenge.
func solve(t *testing.T, page string) string {
	t.Helper()
	m := challengeRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no embedded challenge in %s", page)
	}
	var ch pow.Challenge
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &ch); err != nil {
		t.Fatal(err)
	}
	return guardtest.Solve(t, ch)
}

var (
	refreshRe = regexp.MustCompile(`<meta http-equiv="refresh" content="([0-9]+)">`)
	applyRe   = regexp.MustCompile(`href="(/events/summer/apply\?[^"]+)"`)
)

// join fills and submits the join form as a browser would.
func (b *browser) join(email string) (int, string, http.Header) {
	b.t.Helper()
	code, body, _ := b.do("GET", "/events/summer/queue?course=half&pace=fcfs", nil)
	if code != 200 {
		b.t.Fatalf("join page: %d %s", code, body)
	}
	return b.do("POST", "/events/summer/queue", url.Values{"course": {"half"}, "pace": {"fcfs"}, "email": {email},
		"altcha": {solve(b.t, body)}})
}

func TestWaitingRoomPages(t *testing.T) {
	s := queueSite(t)
	ctx := context.Background()
	b := newBrowser(s)

	// Step 1 leads the ordered group to its waiting room and keeps the
	// drawn group on the form.
	code, body, _ := b.do("GET", "/events/summer", nil)
	if code != 200 || !strings.Contains(body, `href="/events/summer/queue?course=half&amp;pace=fcfs"`) ||
		!strings.Contains(body, `value="half:open"`) || strings.Contains(body, `value="half:fcfs"`) {
		t.Fatalf("event page: %d %s", code, body)
	}
	// A drawn group is straight to the form; an ordered one is not.
	if code, _, hdr := b.do("GET", "/events/summer/queue?course=half&pace=open", nil); code != http.StatusSeeOther ||
		hdr.Get("Location") != "/events/summer/apply?subqueue=half%3Aopen" {
		t.Errorf("join page of a drawn group: %d %v", code, hdr)
	}
	if code, _, hdr := b.do("GET", "/events/summer/apply?subqueue=half:fcfs", nil); code != http.StatusSeeOther ||
		hdr.Get("Location") != "/events/summer/queue?course=half&pace=fcfs" {
		t.Errorf("form of an ordered group without admission: %d %v", code, hdr)
	}

	code, body, hdr := b.do("GET", "/events/summer/queue?course=half&pace=fcfs", nil)
	if code != 200 || !strings.Contains(body, "First come") || !strings.Contains(body, `name="email"`) ||
		!strings.Contains(body, "10 minutes") || !challengeRe.MatchString(body) || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("join page: %d %v %s", code, hdr, body)
	}

	// Refusals show the form again with the typed address.
	code, body, _ = b.do("POST", "/events/summer/queue", url.Values{"course": {"half"}, "pace": {"fcfs"}, "email": {"ana@example.com"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "browser check") || !strings.Contains(body, `value="ana@example.com"`) {
		t.Errorf("join without proof of work: %d %s", code, body)
	}
	code, body, _ = b.do("POST", "/events/summer/queue", url.Values{"course": {"half"}, "pace": {"fcfs"}, "email": {"not-an-address"},
		"altcha": {solve(t, body)}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `class="field invalid"`) || !strings.Contains(body, `value="not-an-address"`) {
		t.Errorf("join with a bad address: %d %s", code, body)
	}
	code, body, _ = b.do("POST", "/events/summer/queue", url.Values{"course": {"half"}, "pace": {"open"}, "email": {"ana@example.com"},
		"altcha": {solve(t, body)}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "drawn by lottery") {
		t.Errorf("join a drawn group: %d %s", code, body)
	}

	// Ana joins and waits at the front of the line.
	code, _, hdr = b.join("ana@example.com")
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/queue/") {
		t.Fatalf("join: %d %v", code, hdr)
	}
	wait := hdr.Get("Location")
	ticket := strings.TrimPrefix(strings.SplitN(wait, "?", 2)[0], "/queue/")
	code, body, hdr = b.do("GET", wait, nil)
	m := refreshRe.FindStringSubmatch(body)
	if code != 200 || m == nil || m[1] != "5" || !strings.Contains(body, "Your place in line") ||
		!strings.Contains(body, "<strong>1</strong>") || !strings.Contains(body, "less than a minute") ||
		hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("waiting page: %d %v %s", code, hdr, body)
	}
	// Ben joins behind her.
	ben := newBrowser(s)
	code, _, hdr = ben.join("ben@example.com")
	if code != http.StatusSeeOther {
		t.Fatalf("second join: %d", code)
	}
	benWait := hdr.Get("Location")
	if _, body, _ = ben.do("GET", benWait, nil); !strings.Contains(body, "<strong>2</strong>") || !strings.Contains(body, "<dd>1</dd>") {
		t.Errorf("second place: %s", body)
	}
	if code, _, _ := b.do("GET", "/queue/"+ticket[:len(ticket)-2]+"xx", nil); code != http.StatusNotFound {
		t.Errorf("forged ticket: %d", code)
	}
	if code, _, _ := b.do("GET", "/queue/nonsense", nil); code != http.StatusNotFound {
		t.Errorf("nonsense ticket: %d", code)
	}

	// The admission pass lets the line's first joiners in: the page stops
	// reloading and links to the form with the admission and the address.
	if _, err := s.waitroom.AdmitQueues(ctx); err != nil {
		t.Fatal(err)
	}
	code, body, _ = b.do("GET", wait, nil)
	a := applyRe.FindStringSubmatch(body)
	if code != 200 || a == nil || !strings.Contains(body, "It&#39;s your turn") || refreshRe.MatchString(body) ||
		!strings.Contains(body, "data-countdown") {
		t.Fatalf("admitted page: %d %s", code, body)
	}
	apply, _ := url.Parse(html.UnescapeString(a[1]))
	token := apply.Query().Get("admission_token")
	// The address rides along sealed: never in the clear in a URL.
	if token == "" || apply.Query().Get("who") == "" || strings.Contains(a[1], "ana") || apply.Query().Has("email") ||
		apply.Query().Get("subqueue") != "half:fcfs" {
		t.Fatalf("apply link: %s", a[1])
	}
	// The joining browser's cookie stands in for a link without its query.
	if _, body, _ := b.do("GET", "/queue/"+ticket, nil); !strings.Contains(body, "admission_token="+token) ||
		!strings.Contains(body, "who=") {
		t.Errorf("admitted page without the query: %s", body)
	}
	// Without the joining browser's cookie the link still carries the admission.
	if _, body, _ := s.get(wait); !strings.Contains(body, "admission_token="+token) || strings.Contains(body, "who=") {
		t.Errorf("admitted page in another browser: %s", body)
	}

	// The form carries the admission through both steps into the entry.
	code, body, _ = b.do("GET", apply.String(), nil)
	if code != 200 || !strings.Contains(body, `name="admission_token" value="`+token+`"`) || !strings.Contains(body, `value="ana@example.com"`) {
		t.Fatalf("identity form with admission: %d %s", code, body)
	}
	form := url.Values{"subqueue": {"half:fcfs"}, "admission_token": {token}, "name": {"Ana Park"}, "email": {"ana@example.com"},
		"phone": {"010-2345-6789"}, "birth_date": {"1991-05-02"}, "consents.privacy": {"default-2"}, "consents.waiver": {"default-2"}, "website": {""},
		"started": {strconv.FormatInt(time.Now().Add(-time.Minute).UnixMilli(), 10)}, "signals": {""}}
	code, body, _ = b.do("POST", "/events/summer/apply/code", form)
	if code != 200 || !strings.Contains(body, `name="otp"`) {
		t.Fatalf("send code: %d %s", code, body)
	}
	step3 := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		step3.Set(m[1], m[2])
	}
	if step3.Get("admission_token") != token {
		t.Fatalf("step 3 lost the admission: %v", step3)
	}
	msgs, _ := s.store.OutboxFor(ctx, "ana@example.com", 1)
	step3.Set("otp", codeRe.FindStringSubmatch(msgs[0].Body)[1])
	step3.Set("altcha", solve(t, body))
	code, body, hdr = b.do("POST", "/events/summer/apply", step3)
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/entries/") {
		t.Fatalf("submit with admission: %d %s", code, body)
	}
	if _, body, _ = b.do("GET", wait, nil); !strings.Contains(body, "application was submitted") || strings.Contains(body, "admission_token=") {
		t.Errorf("waiting page after applying: %s", body)
	}

	// Ben let his ten minutes pass: his page says so and offers the line again.
	s.store.DB().Exec("UPDATE queue_tickets SET admission_expires_at = now() - interval '1 second' WHERE status = 'admitted'")
	code, body, _ = ben.do("GET", benWait, nil)
	if code != 200 || !strings.Contains(body, "10 minutes to apply ended") || refreshRe.MatchString(body) ||
		!strings.Contains(body, `href="/events/summer/queue?course=half&amp;pace=fcfs"`) {
		t.Errorf("lapsed page: %d %s", code, body)
	}

	if _, body, _ := s.get(wait+"&lang=ko", "Accept-Language", "ko"); !strings.Contains(body, "신청서가 제출되었습니다") {
		t.Errorf("Korean waiting page: %s", body)
	}
}

// An ordered group's form refuses a submit without an admission.
func TestOrderedApplyNeedsAdmission(t *testing.T) {
	s := queueSite(t)
	b := newBrowser(s)
	form := url.Values{"subqueue": {"half:fcfs"}, "name": {"Cho Min"}, "email": {"cho@example.com"},
		"phone": {"010-3456-7890"}, "birth_date": {"1992-06-03"}, "consents.privacy": {"default-2"}, "consents.waiver": {"default-2"}, "website": {""}, "started": {""}, "signals": {""}}
	code, body, _ := b.do("POST", "/events/summer/apply/code", form)
	if code != 200 {
		t.Fatalf("send code: %d %s", code, body)
	}
	step3 := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		step3.Set(m[1], m[2])
	}
	msgs, _ := s.store.OutboxFor(context.Background(), "cho@example.com", 1)
	step3.Set("otp", codeRe.FindStringSubmatch(msgs[0].Body)[1])
	step3.Set("altcha", solve(t, body))
	code, body, _ = b.do("POST", "/events/summer/apply", step3)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "waiting room") {
		t.Errorf("submit without admission: %d %s", code, body)
	}
}

// TestPrequeuePages: before the window, the event page offers the early
// waiting room; a runner joins it and waits without a place, then gets one
// at the opening.
func TestPrequeuePages(t *testing.T) {
	s := newSite(t, true)
	ctx := context.Background()
	opens := time.Now().Add(10 * time.Minute)
	_, err := s.svc.CreateEvent(ctx, s.org, lottery.EventSpec{Slug: "summer", Name: "Summer 10K", TimeZone: "Asia/Seoul",
		OpensAt: opens, ClosesAt: opens.Add(time.Hour), MaxGroupSize: 1, TicketRule: "none",
		Courses: []lottery.CourseSpec{{Code: "half", Name: "Half Marathon", DistanceKM: 21.1, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "fcfs", Label: "First come", Capacity: 50, Mode: "ordered", PrequeueMinutes: new(30)},
			{Code: "open", Label: "Open", Capacity: 100}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Transition(ctx, s.org, "summer", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(s)
	code, body, _ := b.do("GET", "/events/summer", nil)
	if code != 200 || !strings.Contains(body, "Waiting rooms open early") ||
		!strings.Contains(body, `href="/events/summer/queue?course=half&amp;pace=fcfs"`) || strings.Contains(body, `id="step1"`) {
		t.Fatalf("event page before the opening: %d %s", code, body)
	}
	const published = `href="/api/v1/events/summer/prequeue/half:fcfs/artifact.json"`
	if code, body, _ := b.do("GET", "/events/summer/queue?course=half&pace=fcfs", nil); code != 200 ||
		!strings.Contains(body, published) || !strings.Contains(body, "See what is published") {
		t.Fatalf("pre-queue join form: %d %s", code, body)
	}
	code, body, hdr := b.join("ana@example.com")
	if code != http.StatusSeeOther {
		t.Fatalf("pre-queue join: %d %s", code, body)
	}
	wait := hdr.Get("Location")
	ticket := strings.TrimPrefix(wait[:strings.Index(wait, "?")], "/queue/")
	v, err := s.waitroom.QueueStatus(ctx, ticket)
	if err != nil || len(v.PublicID) != 32 || len(v.PrequeueCommitment) != 64 {
		t.Fatalf("pre-queue ticket: %v %+v", err, v)
	}
	code, body, _ = b.do("GET", wait, nil)
	if code != 200 || !strings.Contains(body, "You are in the waiting room") || !strings.Contains(body, "random order") ||
		!strings.Contains(body, "data-countdown") || refreshRe.FindStringSubmatch(body) == nil ||
		!strings.Contains(body, "Check the draw of places") || !strings.Contains(body, v.PublicID) ||
		!strings.Contains(body, v.PrequeueCommitment) || !strings.Contains(body, published) {
		t.Fatalf("pre-queue page: %d %s", code, body)
	}
	// The same in Korean.
	if _, body, _ = b.do("GET", wait+"&lang=ko", nil); !strings.Contains(body, "대기실에 들어왔습니다") ||
		!strings.Contains(body, "순번 추첨 확인") || !strings.Contains(body, "내 공개 티켓 ID") {
		t.Errorf("Korean pre-queue page: %s", body)
	}
	b.do("GET", wait+"&lang=en", nil)

	// The window opens; the admission pass places the pre-queue.
	s.store.DB().Exec(`UPDATE events SET opens_at = now() - interval '1 second' WHERE slug = 'summer'`)
	if _, err := s.waitroom.AdmitQueues(ctx); err != nil {
		t.Fatal(err)
	}
	if _, body, _ = b.do("GET", wait, nil); strings.Contains(body, "You are in the waiting room") ||
		!strings.Contains(body, "It&#39;s your turn") || !strings.Contains(body, "See the published order") ||
		!strings.Contains(body, published) || !strings.Contains(body, v.PublicID) || strings.Contains(body, v.PrequeueCommitment) {
		t.Fatalf("page after the opening: %s", body)
	}
	if _, body, _ = b.do("GET", wait+"&lang=ko", nil); !strings.Contains(body, "공개된 순서 보기") {
		t.Errorf("Korean page after the opening: %s", body)
	}
}
