package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"

	"github.com/startline/startline/internal/browsertest"
)

// anyCodeRe finds the six-digit code in the code mail, English or Korean.
var anyCodeRe = regexp.MustCompile(`\b([0-9]{6})\b`)

// TestBrowserRunnerApplies walks a runner's whole application in headless
// Chromium on a phone screen, by keyboard only, in English and in Korean:
// choose a course and pace group, say who is running, get the e-mailed code,
// submit (the page solves the proof of work), and read the entry's status.
func TestBrowserRunnerApplies(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang string
		birth             string // typed into the date field, as headless Chromium lays it out (see below)
		email             string
		want              []string // on the receipt, in the page's language
	}{
		{"en", "en-US", "04011990", "kim.minjun@example.com", []string{"Application received", "Half Marathon · Open", "Received: you are in the draw", "Received\n",
			"How your tickets were counted", "1 earlier application found: 2025 → 2 tickets"}},
		{"ko", "ko-KR", "04011990", "lee.seoyeon@example.com", []string{"신청이 접수되었습니다", "Half Marathon · Open", "접수됨",
			"추첨권 계산 방법", "이전 신청 1회 확인: 2025 → 추첨권 2장"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s := newSite(t, true)
			// Kim Minjun, born 1990-04-01, was not selected in last year's
			// edition: found by name and birth date, whatever the address.
			s.pastEdition("Kim Minjun", time.Date(1990, 4, 1, 0, 0, 0, 0, time.UTC))
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})

			b.Open(s.srv.URL + "/events/spring")
			b.Check("event", tc.lang)
			if got := b.Text("h1"); got != "Spring Marathon" {
				t.Fatalf("event page heading %q", got)
			}
			// Step 1 by keyboard: Tab to the first group, arrow to the second, Enter submits.
			b.TabTo("subqueue", 20)
			b.Keys(kb.ArrowDown)
			b.Keys("\r")
			b.WaitFor(`input[name=name]`)
			b.Check("step2", tc.lang)
			if got := b.Text("p.chosen"); !strings.Contains(got, "Half Marathon · Open") {
				t.Errorf("chosen group reads %q, want the course and group names", got)
			}

			// Step 2 by keyboard.
			b.TabTo("name", 20)
			b.Keys("Kim Minjun")
			b.Keys("\t" + tc.email)
			b.Keys("\t" + "+82 10 1234 5678")
			// Headless Chromium lays a date field out month, day, year in
			// every locale (a Korean phone shows year first), so both
			// languages type it in that order.
			b.Keys("\t" + tc.birth)
			if got := browsertest.Eval[string](b, `document.querySelector("input[name=birth_date]").value`); got != "1990-04-01" {
				t.Fatalf("birth date typed as %q", got)
			}
			// Both consents, by keyboard (Space ticks a box).
			b.TabTo("consents.privacy", 5)
			b.Keys(" ")
			b.TabTo("consents.waiver", 5)
			b.Keys(" ")
			b.TabTo("previous_applications", 8)
			b.Keys("\r")
			b.WaitFor(`input[name=otp]`)
			b.Check("step3", tc.lang)
			if got := b.Text("form.panel"); !strings.Contains(got, tc.email) {
				t.Errorf("code step does not say where the code went: %q", got)
			}

			msgs, err := s.store.OutboxFor(context.Background(), tc.email, 1)
			if err != nil || len(msgs) != 1 {
				t.Fatalf("code mail: %v %d", err, len(msgs))
			}
			code := anyCodeRe.FindStringSubmatch(msgs[0].Body)
			if code == nil {
				t.Fatalf("no code in the mail: %q", msgs[0].Body)
			}
			// The code field has focus (autofocus); Enter submits, and the
			// page waits for its proof of work if it is still working.
			if f := b.Focused(); f != "otp" {
				t.Errorf("focus on %q after the code was sent, want the code field", f)
			}
			b.Keys(code[1] + "\r")
			b.WaitFor(".status")
			b.Check("receipt", tc.lang)
			page := b.Text("main")
			for _, w := range tc.want {
				if !strings.Contains(page, w) {
					t.Errorf("receipt lacks %q:\n%s", w, page)
				}
			}
			// The status link is the runner's way back: it opens the same entry.
			link := browsertest.Eval[string](b, `(document.querySelector("a[data-status-link]") || {}).href || ""`)
			if link == "" {
				t.Fatal("receipt has no status link")
			}
			b.Open(link)
			b.Check("status", tc.lang)
			if got := b.Text("main"); !strings.Contains(got, "Half Marathon · Open") || !strings.Contains(got, tc.want[len(tc.want)-1]) {
				t.Errorf("status page: %q", got)
			}
		})
	}
}

// keyboardSignIn signs a staff member in on the login page by keyboard
// alone (tab to the e-mail, type it, the password and the code, Enter) and
// lands on next ("" for the default page).
func (s *site) keyboardSignIn(b *browsertest.Browser, email, code, next string) {
	s.t.Helper()
	if next == "" {
		b.Open(s.srv.URL + "/staff/login")
	} else {
		b.Open(s.srv.URL + "/staff/login?next=" + url.QueryEscape(next))
	}
	b.TabTo("email", 20)
	b.Keys(email + "\tcorrect horse battery staple\t" + code)
	b.KeysToPage("\r")
}
