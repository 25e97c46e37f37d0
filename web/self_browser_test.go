package web_test

import (
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/startline/startline/internal/browsertest"
)

// TestBrowserMyEntriesAndWithdraw walks a runner who lost the status link,
// on a phone screen in English and in Korean: "my entries" with the
// address, the code from the dev outbox, the list with an absolute status
// link that fits the screen, then the status page's withdrawal with its
// confirmation step.
func TestBrowserMyEntriesAndWithdraw(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang, email string
		want                     []string // on the list, in the page's language
		withdrawn                string
	}{
		{"en", "en-US", "5001.lost.link@example.com", []string{"My entries", "Spring Marathon", "Half Marathon · Open", "Received"}, "Withdrawn"},
		{"ko", "ko-KR", "5002.ireo@example.com", []string{"내 신청 내역", "Spring Marathon", "Half Marathon · Open", "접수됨"}, "철회됨"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s := newSite(t, true)
			receipt := s.applyViaForm(tc.email, `{"webdriver":false,"fill_ms":42000,"timezone":"Asia/Seoul","languages":["ko-KR","en"]}`)
			entryID := strings.TrimPrefix(strings.Split(receipt, "?")[0], "/entries/")
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})

			b.Open(s.srv.URL + "/me?lang=" + tc.lang)
			b.Check("me", tc.lang)
			b.TabTo("email", 20)
			b.Keys(tc.email + "\r")
			b.WaitFor(`input[name=otp]`)
			b.Check("me-code", tc.lang)

			// The code, as a developer reads it: the dev outbox page.
			_, page, _ := s.get("/dev/outbox?to=" + url.QueryEscape(tc.email))
			code := anyCodeRe.FindStringSubmatch(html.UnescapeString(page))
			if code == nil {
				t.Fatalf("no code in the dev outbox:\n%s", page)
			}
			if f := b.Focused(); f != "otp" {
				t.Errorf("focus on %q on the code step, want the code field", f)
			}
			b.Keys(code[1] + "\r")
			b.WaitFor(`[data-me-entry]`)
			b.Check("me-list", tc.lang)
			text := b.Text("main")
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("the list lacks %q:\n%s", w, text)
				}
			}
			link := browsertest.Eval[string](b, `document.querySelector("[data-me-entry] a[data-status-link]").getAttribute("href")`)
			if !strings.HasPrefix(link, s.srv.URL+"/entries/"+entryID+"?token=") {
				t.Fatalf("status link %q is not this entry's absolute link", link)
			}
			if right := browsertest.Eval[float64](b, `document.querySelector("[data-me-entry] a[data-status-link]").getBoundingClientRect().right`); right > browsertest.Width {
				t.Errorf("the status link ends at %.0f px on a %d px screen", right, browsertest.Width)
			}

			b.Open(link)
			b.WaitFor(`button[data-withdraw]`)
			b.Check("status", tc.lang)
			b.Do(chromedp.Click(chromedp.CSS(`button[data-withdraw]`)))
			b.WaitFor(`button[data-confirm]`)
			b.Check("withdraw-confirm", tc.lang)
			if st := s.entryStatus(entryID); st != "received" {
				t.Fatalf("the confirmation step changed the entry: %s", st)
			}
			b.Do(chromedp.Click(chromedp.CSS(`button[data-confirm]`)))
			b.WaitFor(`[data-withdrawn]`)
			b.Check("withdrawn", tc.lang)
			if got := b.Text("main"); !strings.Contains(got, tc.withdrawn) {
				t.Errorf("status page after withdrawing:\n%s", got)
			}
			if st := s.entryStatus(entryID); st != "withdrawn" {
				t.Errorf("entry after withdrawing: %s", st)
			}
		})
	}
}

func (s *site) entryStatus(id string) string {
	var st string
	s.store.DB().Raw("SELECT status FROM entries WHERE id = ?", id).Row().Scan(&st)
	return st
}
