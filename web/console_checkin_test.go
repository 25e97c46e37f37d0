package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/checkin"
)

// checkinCode is an entry's check-in code as the site signs it.
func (s *site) checkinCode(entryID string) string {
	s.t.Helper()
	c, err := checkin.NewSigner(s.keys.Derive("checkin")).Code(entryID)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// TestCheckinPage walks the no-script check-in page: a reviewer checks a
// confirmed entry in (name, birth year, bib, pace group, OK), the same code
// again is refused with the time, a withdrawn entry's code is refused with
// its reason, a mistyped code is kept on the form with its error, in
// Korean too; another organization's staff get 404; a forged form 403.
func TestCheckinPage(t *testing.T) {
	s := newSite(t, true)
	ids := s.seedEntries(5)
	s.store.DB().Exec(`UPDATE entries SET bib = 4321 WHERE id = ?`, ids[2])
	s.store.DB().Exec(`UPDATE entries SET status = 'withdrawn' WHERE id = ?`, ids[3])
	// The runner's status page shows the code (QR and text) while confirmed.
	_, status, _ := s.get("/entries/" + ids[2] + "?token=" + url.QueryEscape(s.receipt(ids[2])))
	m := regexp.MustCompile(`data-checkin-code>([0-9A-Z ]+)<`).FindStringSubmatch(status)
	if m == nil || !strings.Contains(status, `src="data:image/png;base64,`) {
		t.Fatalf("confirmed entry's status page has no check-in code: %s", status)
	}
	if strings.ReplaceAll(m[1], " ", "") != s.checkinCode(ids[2]) {
		t.Fatalf("status page code %q, want %q", m[1], s.checkinCode(ids[2]))
	}
	if _, withdrawn, _ := s.get("/entries/" + ids[3] + "?token=" + url.QueryEscape(s.receipt(ids[3]))); strings.Contains(withdrawn, "data-checkin-code") {
		t.Error("a withdrawn entry's status page shows a check-in code")
	}
	// The paid mail's QR link: the receipt token guards it.
	if st, png, h := s.get("/entries/" + ids[2] + "/checkin.png?token=" + url.QueryEscape(s.receipt(ids[2]))); st != 200 ||
		h.Get("Content-Type") != "image/png" || !strings.HasPrefix(png, "\x89PNG") {
		t.Errorf("QR image: %d %s", st, h.Get("Content-Type"))
	}
	for _, q := range []string{ids[2] + "/checkin.png?token=wrong", ids[3] + "/checkin.png?token=" + url.QueryEscape(s.receipt(ids[3]))} {
		if st, _, _ := s.get("/entries/" + q); st != 404 {
			t.Errorf("QR image %s: %d, want 404", q, st)
		}
	}
	cookie := s.staffLogin("rev2@example.com", lottery.RoleReviewer)
	code, page, _ := s.get("/checkin", "Cookie", cookie)
	if code != 200 || !strings.Contains(page, `name="code"`) || !strings.Contains(page, "Spring Marathon") {
		t.Fatalf("check-in page: %d %s", code, page)
	}
	post := func(c string, lang string) (int, string) {
		st, _, body := s.consolePost(cookie+"; sl_lang="+lang, page, "/checkin", url.Values{"event": {"spring"}, "code": {c}})
		return st, body
	}
	st, body := post(strings.ToLower(m[1]), "en") // typed as read, in lower case
	for _, want := range []string{"OK: hand out the bib", "Runner 002", "1990", "4321", "Half Marathon · Open"} {
		if st != 200 || !strings.Contains(body, want) {
			t.Fatalf("first check-in: %d, no %q in %s", st, want, body)
		}
	}
	st, body = post(s.checkinCode(ids[2]), "en")
	if st != 409 || !strings.Contains(body, "Do not hand out a bib") || !strings.Contains(body, "already picked up at") {
		t.Fatalf("second check-in: %d %s", st, body)
	}
	st, body = post(s.checkinCode(ids[2]), "ko")
	if st != 409 || !strings.Contains(body, "배번을 지급하지 마세요") || !strings.Contains(body, "이미 수령") {
		t.Fatalf("second check-in, Korean: %d %s", st, body)
	}
	// The page's script posts the same form for JSON: a refusal is a 200 answer.
	form := url.Values{"event": {"spring"}, "code": {s.checkinCode(ids[2])}, "csrf": {csrfRe.FindStringSubmatch(page)[1]}}
	res, js := s.send("POST", "/checkin", "application/x-www-form-urlencoded", []byte(form.Encode()),
		http.Header{"Cookie": {cookie}, "Accept": {"application/json"}, "Origin": {s.srv.URL}})
	if res.StatusCode != 200 || !strings.Contains(js, `"ok":false`) || !strings.Contains(js, "already picked up at") ||
		!strings.Contains(js, `"bib":"4321"`) {
		t.Fatalf("script's check-in: %d %s", res.StatusCode, js)
	}
	st, body = post(s.checkinCode(ids[3]), "en")
	if st != 409 || !strings.Contains(body, "withdrawn, given back or transferred away") {
		t.Fatalf("withdrawn entry: %d %s", st, body)
	}
	st, body = post("1ABC", "en")
	if st != 422 || !strings.Contains(body, "not a check-in code") || !strings.Contains(body, `aria-invalid="true"`) {
		t.Fatalf("mistyped code: %d %s", st, body)
	}
	other := s.consoleLogin("elsewhere", "rival@example.com", lottery.RoleOrganizer)
	_, otherPage, _ := s.get("/checkin", "Cookie", other)
	if st, _, _ := s.consolePost(other, otherPage, "/checkin", url.Values{"code": {s.checkinCode(ids[2])}}); st != 404 {
		t.Errorf("another organization's staff: %d", st)
	}
	if st, _, _ := s.consolePost(cookie, `name="csrf" value="forged"`, "/checkin", url.Values{"code": {s.checkinCode(ids[2])}}); st != 403 {
		t.Errorf("forged form: %d", st)
	}
	// The runner's page after the pickup says so, and offers no transfer
	// or deferral of a place whose bib is with them.
	for lang, want := range map[string]string{"en": "You picked up your bib on", "ko": "배번을 수령하셨습니다"} {
		_, after, _ := s.get("/entries/" + ids[2] + "?token=" + url.QueryEscape(s.receipt(ids[2])) + "&lang=" + lang)
		if !strings.Contains(after, `id="checkin-picked-up"`) || !strings.Contains(after, want) {
			t.Errorf("%s: status page after the pickup lacks %q", lang, want)
		}
		if strings.Contains(after, "/transfer\"") || strings.Contains(after, `action="/entries/`+ids[2]+`/defer`) {
			t.Errorf("%s: status page after the pickup still offers a transfer or a deferral", lang)
		}
	}
}
