package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/startline/startline/internal/browsertest"
)

// TestBrowserDefer walks, on a 390 px phone in English and in Korean, a
// confirmed runner's status page with "Defer to next year", the
// confirmation that names the fee, the fee's checkout (the sandbox) and the
// status page after deferring.
func TestBrowserDefer(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang string
		want              map[string][]string // page → texts it must show
	}{
		{"en", "en-US", map[string][]string{
			"status":   {"Defer to next year", "Deferral fee: ₩20,000"},
			"confirm":  {"Defer your place to next year?", "Half Marathon · Open", "Deferral fee: ₩20,000", "Next you pay the deferral fee", "Yes, defer to next year"},
			"checkout": {"₩20,000"},
			"after":    {"Deferred", "A place is held for you there"},
		}},
		{"ko", "ko-KR", map[string][]string{
			"status":   {"내년 대회로 연기하기", "연기 수수료: ₩20,000"},
			"confirm":  {"자리를 내년으로 연기할까요?", "Half Marathon · Open", "연기 수수료를 결제하며", "네, 내년으로 연기합니다"},
			"checkout": {"₩20,000"},
			"after":    {"연기됨", "자리가 확보되어 있으며"},
		}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s, entry, _ := deferSite(t)
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			expect := func(page string) {
				t.Helper()
				text := b.Text("main")
				for _, w := range tc.want[page] {
					if !strings.Contains(text, w) {
						t.Errorf("%s page lacks %q:\n%s", page, w, text)
					}
				}
			}
			b.Open(s.srv.URL + "/entries/" + entry + "?token=" + url.QueryEscape(s.receipt(entry)))
			b.WaitFor("#defer")
			b.Check("defer-status", tc.lang)
			expect("status")

			b.Do(chromedp.Click(chromedp.CSS(`#defer a.button`), chromedp.NodeVisible))
			b.WaitFor("button[data-confirm-defer]")
			b.Check("defer-confirm", tc.lang)
			expect("confirm")

			// The fee: on to the (sandbox) checkout, paid, back to the status page.
			b.Do(chromedp.Click(chromedp.CSS(`button[data-confirm-defer]`), chromedp.NodeVisible))
			b.WaitFor(`button[formaction$="/pay"]`)
			expect("checkout")
			b.Do(chromedp.Click(chromedp.CSS(`button[formaction$="/pay"]`), chromedp.NodeVisible))
			b.WaitFor("[data-deferred]")
			b.Check("deferred", tc.lang)
			expect("after")
			if st := s.standing(entry); st.Entry != "deferred" {
				t.Errorf("after the browser deferred: %+v", st)
			}
		})
	}
}
