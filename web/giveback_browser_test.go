package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/startline/startline/internal/browsertest"
)

// TestBrowserFeesAndGiveBack walks, on a 390 px phone in English and in
// Korean, the event page with the race day, place and prices, then a paid
// runner's status page, the give-back confirmation that states the refund,
// and the status page after giving the place back.
func TestBrowserFeesAndGiveBack(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang string
		want              map[string][]string // page → texts it must show
	}{
		{"en", "en-US", map[string][]string{
			"event":   {"Race details", "Race day", "Yeouido Park, Seoul", "07:30 KST", "₩50,000", "Given back through", "full refund"},
			"status":  {"Give back my place", "you get back ₩50,000 (100% of the ₩50,000 you paid)"},
			"confirm": {"Give back your place?", "Half Marathon · Open", "you get back ₩50,000", "Yes, give back my place"},
			"after":   {"You gave your place back", "A refund of ₩50,000 was sent"},
		}},
		{"ko", "ko-KR", map[string][]string{
			"event":   {"대회 정보", "대회일", "Yeouido Park, Seoul", "07:30 KST", "₩50,000", "전액 환불"},
			"status":  {"내 자리 반납하기", "₩50,000(결제하신 ₩50,000의 100%)를 돌려받습니다"},
			"confirm": {"자리를 반납할까요?", "Half Marathon · Open", "네, 자리를 반납합니다"},
			"after":   {"자리를 반납했습니다", "₩50,000을(를) 결제 수단으로 환불했습니다"},
		}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s, _, sel := drawnSite(t, siteOptions{}, 12, 4)
			s.withFees(s.svc.Now())
			entry := sel[0]
			checkout := s.startPay(entry, nil)
			if res := s.outcome(checkout.Path, "pay", s.checkoutForm(checkout, nil), nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("authorize: %d", res.StatusCode)
			}
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

			b.Open(s.srv.URL + "/events/spring")
			b.Check("event", tc.lang)
			expect("event")
			if d := b.Text("dd[data-race-date]"); d == "" {
				t.Error("no race day on the event page")
			}

			b.Open(s.srv.URL + "/entries/" + entry + "?token=" + url.QueryEscape(s.receipt(entry)))
			b.WaitFor("#giveback")
			b.Check("status", tc.lang)
			expect("status")

			b.Do(chromedp.Click(chromedp.CSS(`#giveback a.button`), chromedp.NodeVisible))
			b.WaitFor("button[data-confirm-give-back]")
			b.Check("giveback-confirm", tc.lang)
			expect("confirm")

			b.Do(chromedp.Click(chromedp.CSS(`button[data-confirm-give-back]`), chromedp.NodeVisible))
			b.WaitFor("[data-given-back]")
			b.Check("given-back", tc.lang)
			expect("after")
			if st := s.standing(entry); st.Offer != "void" || st.Entry != "withdrawn" {
				t.Errorf("after the browser gave the place back: %+v", st)
			}
		})
	}
}
