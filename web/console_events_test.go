package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/lottery"
)

// orgLogin signs a new staff account of org in (no next) and returns its
// cookie and where the login sent it.
func (s *site) orgLogin(org, email string, role lottery.Role) (cookie, landing string) {
	s.t.Helper()
	code := s.enrol(org, email, role)
	st, _, hdr := s.post("/staff/login", url.Values{"email": {email}, "password": {"correct horse battery staple"}, "otp": {code}})
	if st != http.StatusSeeOther {
		s.t.Fatalf("login %s: %d", email, st)
	}
	return strings.Split(hdr.Get("Set-Cookie"), ";")[0], hdr.Get("Location")
}

// enrol adds a staff account of org (the default organization when "")
// and returns a TOTP code for its first login.
func (s *site) enrol(org, email string, role lottery.Role) string {
	s.t.Helper()
	enr, err := s.staff.AddTo(context.Background(), org, email, role, "correct horse battery staple")
	if err != nil {
		s.t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(enr.TOTPURL)
	code, _ := totp.GenerateCode(key.Secret(), time.Now())
	return code
}

// twoCourses is a new event's form: two courses, each with pace groups.
func twoCourses(csrf, slug string) url.Values {
	return url.Values{"csrf": {csrf}, "slug": {slug}, "name": {"Han River Run"}, "time_zone": {"Asia/Seoul"},
		"opens_at": {"2031-04-01T09:00"}, "closes_at": {"2031-04-08T18:00"}, "offer_hold": {"48h"}, "max_group_size": {"2"},
		"ticket_rule": {"none"}, "unreviewed_policy": {"block"}, "currency": {"KRW"},
		"race_date": {"2031-05-10"}, "race_start": {"08:00"}, "place": {"Yeouido"},
		"refund_policy.tiers[0].until": {"2031-04-30"}, "refund_policy.tiers[0].percent": {"100"},
		"refund_policy.tiers[1].until": {""}, "refund_policy.tiers[1].percent": {""},
		"courses[0].code": {"10k"}, "courses[0].name": {"10 km"}, "courses[0].distance_km": {"10"},
		"courses[0].pace_groups[0].code": {"fast"}, "courses[0].pace_groups[0].label": {"Under 45 min"},
		"courses[0].pace_groups[0].pace_max": {"4:30"}, "courses[0].pace_groups[0].capacity": {"300"},
		"courses[0].pace_groups[0].mode": {"lottery"}, "courses[0].pace_groups[0].price": {"40000"},
		"courses[0].pace_groups[1].code": {"open"}, "courses[0].pace_groups[1].label": {"Open"},
		"courses[0].pace_groups[1].capacity": {"700"}, "courses[0].pace_groups[1].mode": {"ordered"},
		"courses[0].pace_groups[1].price": {"35000"}, "courses[0].pace_groups[1].prequeue_minutes": {"30"},
		"courses[1].code": {"half"}, "courses[1].name": {"Half Marathon"}, "courses[1].distance_km": {"21.1"},
		"courses[1].pace_groups[0].code": {"open"}, "courses[1].pace_groups[0].label": {"Open"},
		"courses[1].pace_groups[0].capacity": {"500"}, "courses[1].pace_groups[0].mode": {"lottery"},
		"courses[1].pace_groups[0].price": {"60000"},
		// A blank pace group row, as the form shows one: left out.
		"courses[1].pace_groups[1].code": {""}, "courses[1].pace_groups[1].mode": {"lottery"}, "courses[1].pace_groups[1].price": {""},
		"questions[0].id": {"tshirt"}, "questions[0].kind": {"tshirt_size"}, "questions[0].options": {"S\nM | Medium | 중간\nL"},
		"questions[0].required": {"1"},
		"privacy.version":       {lottery.DefaultPrivacy.Version}, "privacy.purpose": {lottery.DefaultPrivacy.Purpose.EN},
		"privacy.purpose_ko": {lottery.DefaultPrivacy.Purpose.KO}, "privacy.retention": {lottery.DefaultPrivacy.Retention.EN},
		"privacy.retention_ko": {lottery.DefaultPrivacy.Retention.KO}, "waiver.version": {lottery.DefaultWaiver.Version},
		"waiver.text": {lottery.DefaultWaiver.Text.EN}, "waiver.text_ko": {lottery.DefaultWaiver.Text.KO}}
}

// TestConsoleEvents: who may see the events list; an organizer lands on
// it after signing in and sees their organization's events with status
// names and numbers, in English and Korean.
func TestConsoleEvents(t *testing.T) {
	s := newSite(t, true)
	if code, _, hdr := s.get("/admin"); code != http.StatusFound || !strings.HasPrefix(hdr.Get("Location"), "/staff/login") {
		t.Fatalf("anonymous /admin: %d %v", code, hdr)
	}
	rev, landing := s.orgLogin("", "rev@example.com", lottery.RoleReviewer)
	if landing != "/review" {
		t.Errorf("reviewer lands on %q, want /review", landing)
	}
	for _, path := range []string{"/admin", "/admin/events/new", "/admin/events/spring/edit", "/admin/events/spring/preview"} {
		if code, _, _ := s.get(path, "Cookie", rev); code != http.StatusForbidden {
			t.Errorf("reviewer GET %s: %d, want 403", path, code)
		}
	}
	s.applyViaForm("1001@example.com", `{"fill_ms":30000}`)
	org, landing := s.orgLogin("", "boss@example.com", lottery.RoleOrganizer)
	if landing != "/admin" {
		t.Errorf("organizer lands on %q, want /admin", landing)
	}
	code, body, _ := s.get("/admin", "Cookie", org)
	for _, w := range []string{"Your events", "Spring Marathon", "Open", "Entries so far", `href="/admin/events/spring"`,
		`href="/admin/events/new"`, `data-capacity>300<`, `data-entries>1<`, `data-paid>0<`} {
		if code != 200 || !strings.Contains(body, w) {
			t.Errorf("events list (%d) lacks %q", code, w)
		}
	}
	code, body, _ = s.get("/admin?lang=ko", "Cookie", org)
	for _, w := range []string{"우리 대회", "접수 중", "지금까지 신청", "새 대회"} {
		if code != 200 || !strings.Contains(body, w) {
			t.Errorf("Korean events list (%d) lacks %q", code, w)
		}
	}
	other, _ := s.orgLogin("rival-club", "rival@example.com", lottery.RoleOrganizer)
	code, body, _ = s.get("/admin", "Cookie", other)
	if code != 200 || strings.Contains(body, "Spring Marathon") || !strings.Contains(body, "data-empty") {
		t.Errorf("another organization's list: %d, shows spring or no empty state", code)
	}
}

// TestConsoleEventForm: an organizer creates an event with two courses
// through the form (a refused field is shown in place with what was typed
// kept, and nothing stored), edits the draft in full (name, window, a third
// course; a refused capacity shown in place, nothing stored), publishes it,
// edits its details (the structure now read-only), previews it; another
// organization's organizer gets 404 for all of it.
func TestConsoleEventForm(t *testing.T) {
	s := newSite(t, true)
	ctx := context.Background()
	org, _ := s.orgLogin("", "boss@example.com", lottery.RoleOrganizer)
	acct, err := s.store.StaffByEmail(ctx, "boss@example.com")
	if err != nil {
		t.Fatal(err)
	}
	code, body, _ := s.get("/admin/events/new", "Cookie", org)
	if code != 200 || !strings.Contains(body, `name="courses[0].pace_groups[1].capacity"`) {
		t.Fatalf("new event form: %d", code)
	}
	csrf := csrfRe.FindStringSubmatch(body)[1]

	// "Add another course" re-renders with one more course, storing nothing.
	form := twoCourses(csrf, "han-river")
	form.Set("add", "course")
	code, body, _ = s.postForm("/admin/events/new", form, "Cookie", org)
	if code != 200 || !strings.Contains(body, `name="courses[2].code"`) || !strings.Contains(body, `value="Half Marathon"`) {
		t.Fatalf("add a course: %d", code)
	}
	form.Del("add")

	// A refused field: the error beside its input, the values kept.
	form.Set("courses[1].pace_groups[0].capacity", "-5")
	code, body, _ = s.postForm("/admin/events/new", form, "Cookie", org)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad capacity: %d", code)
	}
	for _, w := range []string{`id="f-courses-1-pace-groups-0-capacity" name="courses[1].pace_groups[0].capacity" type="number" value="-5"`,
		`aria-invalid="true"`, `id="f-courses-1-pace-groups-0-capacity-err">give a capacity from 0 to 1000000`,
		`href="#f-courses-1-pace-groups-0-capacity">Course 2 · pace group 1 · Places: give a capacity`, `value="Han River Run"`,
		`value="Under 45 min"`} {
		if !strings.Contains(body, w) {
			t.Errorf("refused form lacks %q", w)
		}
	}
	if _, err := s.svc.ManagedEvent(ctx, acct, "han-river"); lottery.CodeOf(err) != lottery.CodeNotFound {
		t.Fatalf("a refused form stored the event: %v", err)
	}
	// In Korean the field says so in Korean.
	code, body, _ = s.postForm("/admin/events/new?lang=ko", form, "Cookie", org)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "이 항목을 고쳐 주세요") {
		t.Errorf("Korean refused form: %d", code)
	}

	form.Set("courses[1].pace_groups[0].capacity", "500")
	// A slug taken (by any organization) is the slug field's error.
	form.Set("slug", "spring")
	code, body, _ = s.postForm("/admin/events/new", form, "Cookie", org)
	if code != http.StatusConflict || !strings.Contains(body, `id="f-slug-err"`) {
		t.Errorf("taken slug: %d", code)
	}
	form.Set("slug", "han-river")
	code, _, hdr := s.postForm("/admin/events/new", form, "Cookie", org)
	if code != http.StatusSeeOther || hdr.Get("Location") != "/admin/events/han-river/edit?saved=1" {
		t.Fatalf("create: %d %v", code, hdr)
	}
	ev, err := s.svc.ManagedEvent(ctx, acct, "han-river")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, sq := range ev.SubQueues() {
		keys = append(keys, sq.Key)
	}
	if got := strings.Join(keys, " "); got != "10k:fast 10k:open half:open" || ev.Status != lottery.EventDraft ||
		ev.OrgID != acct.OrgID || ev.OpensAt.Format(time.RFC3339) != "2031-04-01T00:00:00Z" {
		t.Errorf("created: %s %s org %d opens %v", got, ev.Status, ev.OrgID, ev.OpensAt)
	}
	if q, ok := ev.Form.Question("tshirt"); !ok || len(q.Options) != 3 || q.Options[1].Label.KO != "중간" || !q.Required {
		t.Errorf("question: %+v", ev.Form.Questions)
	}
	if sq, _ := ev.SubQueue("10k", "open"); sq.Mode != lottery.ModeOrdered || sq.PrequeueMinutes != 30 || sq.Price != 35000 {
		t.Errorf("10k:open: %+v", sq)
	}

	// Edit the draft: every field but the slug, as when creating.
	code, body, _ = s.get("/admin/events/han-river/edit?saved=1", "Cookie", org)
	if code != 200 || strings.Contains(body, `data-fixed="structure"`) || !strings.Contains(body, "data-saved") ||
		!strings.Contains(body, "data-draft") || !strings.Contains(body, `name="name" type="text" value="Han River Run" autocomplete="off">`) ||
		!strings.Contains(body, `name="slug" type="text" value="han-river" autocomplete="off" disabled`) {
		t.Fatalf("draft's edit form: %d", code)
	}
	draft := url.Values{}
	for k, v := range form {
		draft[k] = v
	}
	draft.Del("slug") // disabled: not posted
	draft.Set("add", "course")
	code, body, _ = s.postForm("/admin/events/han-river/edit", draft, "Cookie", org)
	if code != 200 || !strings.Contains(body, `name="courses[2].code"`) || !strings.Contains(body, `value="han-river"`) {
		t.Fatalf("draft, add a course: %d", code)
	}
	draft.Del("add")
	draft.Set("name", "Han River Run 2031")
	draft.Set("opens_at", "2031-04-02T09:00")
	draft.Set("courses[0].pace_groups[0].price", "42000")
	for k, v := range map[string]string{"code": "5k", "name": "5 km", "distance_km": "5", "pace_groups[0].code": "open",
		"pace_groups[0].capacity": "-1", "pace_groups[0].mode": "ordered", "pace_groups[0].price": "20000"} {
		draft.Set("courses[2]."+k, v)
	}
	code, body, _ = s.postForm("/admin/events/han-river/edit", draft, "Cookie", org)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("draft, bad capacity: %d", code)
	}
	for _, w := range []string{`id="f-courses-2-pace-groups-0-capacity" name="courses[2].pace_groups[0].capacity" type="number" value="-1"`,
		`id="f-courses-2-pace-groups-0-capacity-err">give a capacity from 0 to 1000000`, `value="Han River Run 2031"`, `value="5 km"`} {
		if !strings.Contains(body, w) {
			t.Errorf("refused draft form lacks %q", w)
		}
	}
	if ev, _ := s.svc.ManagedEvent(ctx, acct, "han-river"); ev.Name != "Han River Run" || len(ev.Courses) != 2 {
		t.Fatalf("a refused draft form stored: %q, %d courses", ev.Name, len(ev.Courses))
	}
	draft.Set("courses[2].pace_groups[0].capacity", "50")
	if code, _, hdr := s.postForm("/admin/events/han-river/edit", draft, "Cookie", org); code != http.StatusSeeOther ||
		hdr.Get("Location") != "/admin/events/han-river/edit?saved=1" {
		t.Fatalf("draft edit: %d %v", code, hdr)
	}
	ev, _ = s.svc.ManagedEvent(ctx, acct, "han-river")
	keys = nil
	for _, sq := range ev.SubQueues() {
		keys = append(keys, sq.Key)
	}
	if got := strings.Join(keys, " "); got != "10k:fast 10k:open half:open 5k:open" || ev.Name != "Han River Run 2031" ||
		ev.OpensAt.Format(time.RFC3339) != "2031-04-02T00:00:00Z" || ev.PriceOf("10k:fast").Amount != 42000 || ev.Status != lottery.EventDraft {
		t.Errorf("draft after edit: %s %q opens %v price %d", got, ev.Name, ev.OpensAt, ev.PriceOf("10k:fast").Amount)
	}
	if sq, _ := ev.SubQueue("5k", "open"); sq.Mode != lottery.ModeOrdered || sq.Capacity != 50 {
		t.Errorf("5k:open: %+v", sq)
	}
	if code, _, _ := s.get("/events/han-river"); code != http.StatusNotFound {
		t.Errorf("the draft is public: %d", code)
	}
	if _, err := s.svc.Transition(ctx, acct, "han-river", "publish", lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}

	// Published: the structure is read-only with its reason, the details change.
	code, body, _ = s.get("/admin/events/han-river/edit", "Cookie", org)
	if code != 200 || !strings.Contains(body, `data-fixed="structure"`) || strings.Contains(body, "data-draft") ||
		!strings.Contains(body, `name="slug" type="text" value="han-river" autocomplete="off" disabled`) ||
		!strings.Contains(body, `name="name" type="text" value="Han River Run 2031" autocomplete="off" disabled`) {
		t.Fatalf("published event's edit form: %d", code)
	}
	if code, _, _ := s.postForm("/admin/events/han-river/edit", draft, "Cookie", org); code != http.StatusSeeOther {
		t.Fatalf("published, full form: %d", code)
	}
	if ev, _ := s.svc.ManagedEvent(ctx, acct, "han-river"); ev.Name != "Han River Run 2031" || len(ev.Courses) != 3 {
		t.Fatalf("a full form changed the published event's structure: %q, %d courses", ev.Name, len(ev.Courses))
	}
	edit := url.Values{"csrf": {csrf}, "race_date": {"2031-05-10"}, "race_start": {"25:00"}, "place": {"Seoul Forest"},
		"currency": {"KRW"}, "refund_policy.tiers[0].until": {"2031-04-30"}, "refund_policy.tiers[0].percent": {"100"},
		"courses[0].pace_groups[0].price": {"42000"}, "courses[0].pace_groups[1].price": {"35000"},
		"courses[1].pace_groups[0].price": {"60000"}}
	for _, k := range []string{"questions[0].id", "questions[0].kind", "questions[0].options", "questions[0].required", "privacy.version",
		"privacy.purpose", "privacy.purpose_ko", "privacy.retention", "privacy.retention_ko", "waiver.version", "waiver.text", "waiver.text_ko"} {
		edit[k] = form[k]
	}
	code, body, _ = s.postForm("/admin/events/han-river/edit", edit, "Cookie", org)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="f-race-start-err"`) || !strings.Contains(body, `value="Seoul Forest"`) {
		t.Fatalf("bad start time: %d", code)
	}
	if ev, _ := s.svc.ManagedEvent(ctx, acct, "han-river"); ev.Place != "Yeouido" {
		t.Fatalf("a refused edit stored the place: %q", ev.Place)
	}
	edit.Set("race_start", "07:30")
	if code, _, hdr := s.postForm("/admin/events/han-river/edit", edit, "Cookie", org); code != http.StatusSeeOther ||
		hdr.Get("Location") != "/admin/events/han-river/edit?saved=1" {
		t.Fatalf("edit: %d %v", code, hdr)
	}
	ev, _ = s.svc.ManagedEvent(ctx, acct, "han-river")
	if ev.Place != "Seoul Forest" || ev.RaceStart != "07:30" || ev.PriceOf("10k:fast").Amount != 42000 || ev.PriceOf("5k:open").Amount != 20000 {
		t.Errorf("after edit: %q %q %d", ev.Place, ev.RaceStart, ev.PriceOf("10k:fast").Amount)
	}

	// The open event's terms and questions are fixed, with the reasons.
	code, body, _ = s.get("/admin/events/spring/edit", "Cookie", org)
	if code != 200 || !strings.Contains(body, `data-fixed="terms"`) || !strings.Contains(body, `data-fixed="questions"`) ||
		!strings.Contains(body, `name="courses[0].pace_groups[0].price" type="number" value="0" inputmode="numeric" autocomplete="off" disabled`) {
		t.Errorf("open event's edit form: %d", code)
	}

	// The preview: the public page with its banner, nothing usable.
	code, body, _ = s.get("/admin/events/han-river/preview", "Cookie", org)
	if code != 200 || !strings.Contains(body, "data-preview") || !strings.Contains(body, "Preview — not public") ||
		!strings.Contains(body, "Half Marathon") || !strings.Contains(body, "disabled>") {
		t.Errorf("preview: %d", code)
	}

	// Another organization's organizer: every page and post is a 404.
	other, _ := s.orgLogin("rival-club", "rival@example.com", lottery.RoleOrganizer)
	for _, path := range []string{"/admin/events/han-river/edit", "/admin/events/han-river/preview", "/admin/events/spring/edit"} {
		if code, _, _ := s.get(path, "Cookie", other); code != http.StatusNotFound {
			t.Errorf("other org GET %s: %d, want 404", path, code)
		}
	}
	_, body, _ = s.get("/admin/events/new", "Cookie", other)
	edit.Set("csrf", csrfRe.FindStringSubmatch(body)[1])
	edit.Set("place", "Hijacked")
	if code, _, _ := s.postForm("/admin/events/han-river/edit", edit, "Cookie", other); code != http.StatusNotFound {
		t.Errorf("other org POST edit: %d, want 404", code)
	}
	if ev, _ := s.svc.ManagedEvent(ctx, acct, "han-river"); ev.Place != "Seoul Forest" {
		t.Errorf("another organization changed the place: %q", ev.Place)
	}
	// A forged form (no CSRF token) is refused.
	edit.Del("csrf")
	if code, _, _ := s.postForm("/admin/events/han-river/edit", edit, "Cookie", org); code != http.StatusForbidden {
		t.Errorf("edit without the CSRF token: %d", code)
	}
}
