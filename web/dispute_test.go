package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
)

// frozenWithWindow closes spring, gives it a 24-hour dispute window and
// freezes it with synthetic entries, and returns one frozen entry (a group
// member, so its line shows a pseudonym) with its status path.
func (s *site) frozenWithWindow() (id, status string) {
	s.t.Helper()
	ctx := context.Background()
	if _, err := s.store.InsertSyntheticEntries(ctx, "spring", 12); err != nil {
		s.t.Fatal(err)
	}
	s.store.DB().Exec("UPDATE events SET closes_at = now() - interval '1 second', dispute_window_seconds = 86400 WHERE slug = 'spring'")
	if _, err := s.svc.Transition(ctx, s.org, "spring", lottery.ActionFreeze, lottery.TransitionParams{}); err != nil {
		s.t.Fatal(err)
	}
	s.store.DB().Raw("SELECT entry_id::text FROM draw_entries WHERE group_code <> '' ORDER BY entry_id LIMIT 1").Scan(&id)
	if id == "" {
		s.t.Fatal("no frozen group entry")
	}
	return id, "/entries/" + id + "?token=" + url.QueryEscape(s.keys.ReceiptToken(id))
}

// TestDisputeOnStatusPage files a dispute from the status page form and
// answers it from the console: the line and root are shown, the refused
// message is kept, the console form needs its CSRF token, and the runner
// reads the answer.
func TestDisputeOnStatusPage(t *testing.T) {
	s := newSite(t, true)
	id, status := s.frozenWithWindow()
	tok := s.keys.ReceiptToken(id)
	code, body, _ := s.get(status)
	var group string
	s.store.DB().Raw("SELECT group_code FROM draw_entries WHERE entry_id = ?", id).Scan(&group)
	for _, want := range []string{"Your line in the frozen list", group, `data-inroot="true"`, "frozen.json", `name="message"`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("status page lacks %q (%d)", want, code)
		}
	}
	var rawGroup string
	s.store.DB().Raw("SELECT group_code FROM entries WHERE id = ?", id).Scan(&rawGroup)
	section := body[strings.Index(body, `id="dispute"`):]
	if rawGroup == "" || rawGroup == group || strings.Contains(section, rawGroup) {
		t.Errorf("the frozen line shows the group code %q rather than its pseudonym %q", rawGroup, group)
	}
	if code, body, _ := s.get("/events/spring/results"); code != 200 || !strings.Contains(body, "/draws/half:open/frozen.json") {
		t.Errorf("results page does not link the frozen list: %d", code)
	}

	// A blank message is refused on the page, in the runner's language.
	code, body, _ = s.post("/entries/"+id+"/disputes", url.Values{"token": {tok}, "message": {"   "}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `role="alert"`) {
		t.Errorf("blank dispute: %d", code)
	}
	if code, _, _ := s.post("/entries/"+id+"/disputes", url.Values{"token": {"forged"}, "message": {"x"}}); code != 404 {
		t.Errorf("forged token: %d", code)
	}
	code, _, hdr := s.post("/entries/"+id+"/disputes", url.Values{"token": {tok}, "message": {"My group should have 3 tickets"}})
	if code != http.StatusSeeOther {
		t.Fatalf("dispute: %d", code)
	}
	if _, body, _ = s.get(hdr.Get("Location")); !strings.Contains(body, "Your dispute was received") || !strings.Contains(body, "Awaiting a reviewer") {
		t.Errorf("after filing: %s", body)
	}

	// The console answers, with the CSRF token; without it the answer is refused.
	enr, err := s.staff.Add(context.Background(), "rev@example.com", lottery.RoleReviewer, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(enr.TOTPURL)
	otpCode, _ := totp.GenerateCode(key.Secret(), s.svc.Now())
	cookie := s.login("rev@example.com", otpCode)
	code, body, _ = s.get("/review/disputes?event=spring", "Cookie", cookie)
	m := csrfRe.FindStringSubmatch(body)
	if code != 200 || m == nil || !strings.Contains(body, "My group should have 3 tickets") || !strings.Contains(body, id) {
		t.Fatalf("console disputes: %d %s", code, body)
	}
	var did string
	s.store.DB().Raw("SELECT id::text FROM disputes").Scan(&did)
	answer := url.Values{"outcome": {"denied"}, "answer": {"Your group holds the tickets of its members."}, "event": {"spring"}}
	if code, _ := s.postWith("/review/disputes/"+did+"/answer", answer, "Cookie", cookie); code != http.StatusForbidden {
		t.Errorf("answer without CSRF: %d", code)
	}
	answer.Set("csrf", m[1])
	if code, _ := s.postWith("/review/disputes/"+did+"/answer", answer, "Cookie", cookie); code != http.StatusSeeOther {
		t.Fatalf("answer: %d", code)
	}
	if _, body, _ = s.get(status + "&lang=ko"); !strings.Contains(body, "기각됨") || !strings.Contains(body, "Your group holds the tickets of its members.") {
		t.Errorf("runner's page after the answer: %s", body)
	}

	// Once the window is over the form is gone and a late post is refused on the page.
	s.store.DB().Exec("UPDATE events SET frozen_at = now() - interval '25 hours' WHERE slug = 'spring'")
	code, body, _ = s.post("/entries/"+id+"/disputes", url.Values{"token": {tok}, "message": {"one more"}})
	if code != http.StatusConflict || !strings.Contains(body, "Disputes are taken only between the freeze") ||
		strings.Contains(body, `name="message"`) || !strings.Contains(body, "The dispute window is closed.") {
		t.Errorf("dispute after the window: %d", code)
	}
}

// TestBrowserDispute: a runner reads their frozen line and files a dispute
// from the status page by keyboard on a phone, a reviewer answers it in the
// console by keyboard, and the runner reads the answer, in English and
// Korean.
func TestBrowserDispute(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang string
		message, answer   string
		want              []string // the runner's page after the answer
	}{
		{"en", "en-US", "My tickets should be 4: I applied in 2025 and 2024.", "The record shows one earlier application.",
			[]string{"Your disputes", "Denied", "The record shows one earlier application."}},
		{"ko", "ko-KR", "추첨권이 4장이어야 합니다. 2025년과 2024년에 신청했습니다.", "기록에는 이전 신청이 한 번 있습니다.",
			[]string{"내 이의 제기", "기각됨", "기록에는 이전 신청이 한 번 있습니다."}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s := newSite(t, true)
			id, status := s.frozenWithWindow()
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})

			b.Open(s.srv.URL + status)
			b.WaitFor("#dispute")
			b.Check("frozen-line", tc.lang)
			if got := b.Text("#dispute"); !strings.Contains(got, id) {
				t.Errorf("the line lacks the entry id: %q", got)
			}
			if got := browsertest.Eval[string](b, `document.querySelector("#dispute [data-inroot]").dataset.inroot`); got != "true" {
				t.Errorf("in the published root: %q", got)
			}
			b.TabTo("message", 40)
			b.Keys(tc.message)
			b.Keys("\t\r")
			b.WaitFor("li.dispute")
			b.Check("dispute-filed", tc.lang)
			if got := b.Text("li.dispute"); !strings.Contains(got, tc.message) {
				t.Errorf("the filed dispute reads %q", got)
			}

			// The reviewer signs in and answers, by keyboard.
			enr, err := s.staff.Add(context.Background(), "rev@example.com", lottery.RoleReviewer, "correct horse battery staple")
			if err != nil {
				t.Fatal(err)
			}
			key, _ := otp.NewKeyFromURL(enr.TOTPURL)
			code, _ := totp.GenerateCode(key.Secret(), s.svc.Now())
			s.keyboardSignIn(b, "rev@example.com", code, "/review/disputes?event=spring")
			b.WaitFor("section.dispute")
			b.Check("console", tc.lang)
			if got := b.Text("section.dispute"); !strings.Contains(got, tc.message) {
				t.Errorf("console shows %q", got)
			}
			b.TabTo("outcome", 40)
			b.Keys(kb.ArrowDown) // upheld → denied
			b.TabTo("answer", 3)
			b.Keys(tc.answer + "\t\r")
			b.WaitFor("p.notice")
			b.Check("answered", tc.lang)

			b.Open(s.srv.URL + status)
			b.WaitFor("li.dispute")
			b.Check("answer-seen", tc.lang)
			got := b.Text("#dispute")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("runner's page lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// login signs a staff member in through the console form and returns the
// session cookie.
func (s *site) login(email, code string) string {
	s.t.Helper()
	st, _, hdr := s.post("/staff/login", url.Values{"email": {email}, "password": {"correct horse battery staple"}, "otp": {code}})
	if st != http.StatusSeeOther {
		s.t.Fatalf("login: %d", st)
	}
	return strings.Split(hdr.Get("Set-Cookie"), ";")[0]
}

// postWith posts a form with extra headers (the staff cookie).
func (s *site) postWith(path string, form url.Values, header ...string) (int, http.Header) {
	s.t.Helper()
	code, _, hdr := s.postForm(path, form, header...)
	return code, hdr
}
