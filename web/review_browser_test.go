package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"

	"github.com/startline/startline/internal/browsertest"
)

// TestBrowserReviewConsole: a reviewer signs in with TOTP on a 390 px phone,
// filters the queue by a reason chosen by its translated name, and opens the
// flagged entry, all by keyboard, in English and Korean. Every page fits the
// screen and labels its controls (b.Check).
func TestBrowserReviewConsole(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang string
		queue, entry      []string // words the queue and the entry page show
	}{
		{"en", "en-US", []string{"Review queue", "Automated browser (webdriver)", "Form filled too fast", "Half Marathon · Open"},
			[]string{"Why it was flagged", "Automated browser (webdriver)", "In review", "Device and network", "Approve into the draw"}},
		{"ko", "ko-KR", []string{"검토 대기열", "자동화 브라우저 (webdriver)", "너무 빠른 양식 작성", "Half Marathon · Open"},
			[]string{"검토 대상이 된 이유", "자동화 브라우저 (webdriver)", "검토 중", "기기와 네트워크", "승인하여 추첨에 포함"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s := newSite(t, true)
			receipt := s.applyViaForm("2002@example.com", `{"webdriver":true,"fill_ms":30000}`)
			id := strings.TrimPrefix(strings.Split(receipt, "?")[0], "/entries/")
			code := s.staffCode("rev@example.com")
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})

			s.keyboardSignIn(b, "rev@example.com", code, "/review?event=spring")
			b.WaitFor("table.queue")
			b.Check("queue", tc.lang)
			got := b.Text("main")
			for _, w := range tc.queue {
				if !strings.Contains(got, w) {
					t.Errorf("queue lacks %q:\n%s", w, got)
				}
			}

			// Filter by reason: the options are names; webdriver is the
			// fifth after "any reason" (see reasonCodes in web/staff.go).
			b.TabTo("reason", 20)
			for range 5 {
				b.Keys(kb.ArrowDown)
			}
			b.TabTo("cluster", 2)
			b.KeysToPage("\r")
			b.WaitFor("table.queue")
			if u := b.URL(); !strings.Contains(u, "reason=webdriver") {
				t.Fatalf("filter by keyboard went to %s", u)
			}
			b.Check("queue-filtered", tc.lang)

			b.TabTo(id[:8], 40)
			b.KeysToPage("\r")
			b.WaitFor("ul.reasons")
			b.Check("entry", tc.lang)
			got = b.Text("main")
			for _, w := range tc.entry {
				if !strings.Contains(got, w) {
					t.Errorf("entry page lacks %q:\n%s", w, got)
				}
			}
			b.TabTo("note", 60) // the decision form is reachable by keyboard
		})
	}
}
