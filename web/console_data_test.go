package web_test

import (
	"encoding/csv"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/exports"
)

// seedEntries adds n entries to spring straight in the store (one in
// review, two confirmed, the rest received) and returns their ids, oldest
// first; the entries are named "Runner 000"...
func (s *site) seedEntries(n int) []string {
	s.t.Helper()
	var ids []string
	if err := s.store.DB().Raw(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, status,
			risk_score, risk_decision, answers, created_at)
		SELECT gen_random_uuid(), e.id, q.id, 'Runner ' || lpad(g::text, 3, '0'), 'runner' || g || '@example.com',
			'runner' || g || '@example.com', '+82105555' || lpad(g::text, 4, '0'), date '1990-04-01',
			CASE WHEN g = 1 THEN 'in_review' WHEN g IN (2, 3) THEN 'confirmed' ELSE 'received' END,
			CASE WHEN g = 1 THEN 700 ELSE 10 END, CASE WHEN g = 1 THEN 'review' ELSE 'accept' END, '{}',
			now() - ((? - g) || ' minutes')::interval
		FROM events e JOIN subqueues q ON q.event_id = e.id AND q.key = 'half:open', generate_series(0, ? - 1) g
		WHERE e.slug = 'spring' ORDER BY g RETURNING id`, n, n).Scan(&ids).Error; err != nil {
		s.t.Fatal(err)
	}
	return ids
}

// TestConsoleEntriesAndExports walks the data pages with plain requests:
// the entries list pages by keyset, searches and filters, links flagged
// entries to review; the exports page keeps a refused range with its
// error in place, saves ranges, confirms and assigns bibs, and downloads
// a CSV; Korean; a reviewer is 403, another organization's organizer 404.
func TestConsoleEntriesAndExports(t *testing.T) {
	s := newSite(t, true)
	ids := s.seedEntries(60)
	cookie := s.staffLogin("boss@example.com", lottery.RoleOrganizer)
	get := func(path string, want int) string {
		t.Helper()
		code, body, _ := s.get(path, "Cookie", cookie)
		if code != want {
			t.Fatalf("GET %s: %d, want %d\n%s", path, code, want, body)
		}
		return body
	}
	body := get("/admin/events/spring/entries", 200)
	for _, w := range []string{"Runner 059", "Half Marathon · Open", "Not flagged", `class="table-wrap"`, "Next page", `aria-current="page">Entries`} {
		if !strings.Contains(body, w) {
			t.Errorf("entries page lacks %q", w)
		}
	}
	if strings.Contains(body, "Runner 009") || strings.Contains(body, ">half:open<") {
		t.Errorf("the first page shows more than 50 entries, or a key")
	}
	m := regexp.MustCompile(`href="(/admin/events/spring/entries\?after=[^"]+)" rel="next"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no next page link")
	}
	next := strings.ReplaceAll(m[1], "&amp;", "&")
	body = get(next, 200)
	if !strings.Contains(body, "Runner 009") || strings.Contains(body, "Runner 059") || strings.Contains(body, "Next page") ||
		!strings.Contains(body, `href="/review/entries/`+ids[1]+`"`) {
		t.Errorf("second page:\n%s", body)
	}
	body = get("/admin/events/spring/entries?q="+url.QueryEscape("runner42@example.com"), 200)
	if !strings.Contains(body, "Runner 042") || strings.Contains(body, "Runner 041") {
		t.Errorf("search by e-mail")
	}
	body = get("/admin/events/spring/entries?status=confirmed", 200)
	if !strings.Contains(body, "Runner 002") || !strings.Contains(body, "Runner 003") || strings.Contains(body, "Runner 004") {
		t.Errorf("filter by status")
	}
	body = get("/admin/events/spring/entries?status=won", 422)
	if !strings.Contains(body, "Choose a status from the list.") {
		t.Errorf("bad filter")
	}
	body = get("/admin/events/spring/entries?lang=ko", 200)
	for _, w := range []string{"검색", "모든 상태", "검토 대상 아님", "다음 페이지"} {
		if !strings.Contains(body, w) {
			t.Errorf("Korean entries page lacks %q", w)
		}
	}

	body = get("/admin/events/spring/exports", 200)
	for _, w := range []string{"/admin/events/spring/exports/entries.csv", "Start list with bibs", "Half Marathon · Under 1:30", "(2 confirmed)", "Assign bibs…"} {
		if !strings.Contains(body, w) {
			t.Errorf("exports page lacks %q", w)
		}
	}
	csrf := csrfRe.FindStringSubmatch(body)[1]
	form := url.Values{"csrf": {csrf}, "bibs.half:sub-130.first": {"1"}, "bibs.half:sub-130.last": {"100"},
		"bibs.half:open.first": {"50"}, "bibs.half:open.last": {"150"}}
	code, body := s.sendRaw("POST", "/admin/events/spring/exports/bibs", form.Encode(), "Cookie", cookie)
	if code != 422 || !strings.Contains(body, `value="50"`) || !strings.Contains(body, "This range overlaps another pace group&#39;s range.") ||
		!strings.Contains(body, `aria-invalid="true"`) {
		t.Errorf("the refused form is not shown with its input and the error in place: %d", code)
	}
	form.Set("bibs.half:open.first", "101")
	if code, hdr := s.postWith("/admin/events/spring/exports/bibs", form, "Cookie", cookie); code != 303 ||
		hdr.Get("Location") != "/admin/events/spring/exports?saved=1#bibs" {
		t.Fatalf("save ranges: %d %v", code, hdr)
	}
	body = get("/admin/events/spring/exports?step=assign", 200)
	if !strings.Contains(body, "Assign bibs now?") || !strings.Contains(body, "2 confirmed runners") {
		t.Errorf("no confirmation step")
	}
	code, hdr := s.postWith("/admin/events/spring/exports/bibs/assign", url.Values{"csrf": {csrf}}, "Cookie", cookie)
	if code != 303 || !strings.Contains(hdr.Get("Location"), "assigned=2&numbered=2") {
		t.Fatalf("assign: %d %v", code, hdr)
	}
	body = get(hdr.Get("Location"), 200)
	if !strings.Contains(body, "Bibs assigned: 2 new, 2 runners hold a bib.") {
		t.Errorf("no result after assigning")
	}
	if code, _ := s.postWith("/admin/events/spring/exports/bibs/assign", url.Values{"csrf": {"forged"}}, "Cookie", cookie); code != 403 {
		t.Errorf("forged form: %d", code)
	}
	body = get("/admin/events/spring/exports/start-list.csv", 200)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, exports.BOM))).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "Bib" || rows[1][0] != "101" || rows[2][0] != "102" {
		t.Errorf("start list: %q %v", rows, err)
	}

	rev := s.staffLogin("rev@example.com", lottery.RoleReviewer)
	for _, p := range []string{"/admin/events/spring/entries", "/admin/events/spring/exports", "/admin/events/spring/exports/entries.csv"} {
		if code, _, _ := s.get(p, "Cookie", rev); code != 403 {
			t.Errorf("reviewer %s: %d", p, code)
		}
		if code, _, hdr := s.get(p); code != 302 || !strings.HasPrefix(hdr.Get("Location"), "/staff/login") {
			t.Errorf("anonymous %s: %d", p, code)
		}
	}
	other, _ := s.orgLogin("rivals", "rival@example.com", lottery.RoleOrganizer)
	for _, p := range []string{"/admin/events/spring/entries", "/admin/events/spring/exports", "/admin/events/spring/exports/entries.csv"} {
		if code, _, _ := s.get(p, "Cookie", other); code != 404 {
			t.Errorf("another organization's organizer %s: %d", p, code)
		}
	}
}

// totpNow is the current code of an enrolment's TOTP URL.
func totpNow(t testing.TB, totpURL string) string {
	t.Helper()
	key, err := otp.NewKeyFromURL(totpURL)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(key.Secret(), time.Now())
	return code
}
