package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/startline/startline/internal/browsertest"
)

// TestBrowserTransfer walks a face-value transfer on a 390 px phone, in
// English and Korean: the giver names a friend on the status page; the
// friend opens the mailed link, asks for a code, fills the form with the
// code from the mail, pays the place's price in the sandbox checkout and
// sees the place confirmed; the giver's page then says transferred. Every
// page fits the screen and labels its controls (b.Check).
func TestBrowserTransfer(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang string
		giverDone         string // the giver's page once the friend paid
	}{
		{"en", "en-US", "Transferred"},
		{"ko", "ko-KR", "양도됨"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s, _, sel := drawnSite(t, siteOptions{}, 12, 4)
			s.withFees(time.Now())
			s.store.DB().Exec("UPDATE events SET transfer_max = 1, transfer_fee_minor = 5000")
			giver := sel[0]
			checkout := s.startPay(giver, nil)
			if res := s.outcome(checkout.Path, "pay", s.checkoutForm(checkout, nil), nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("giver pays: %d", res.StatusCode)
			}
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			b.WatchConsole()
			check := func(label string) {
				t.Helper()
				b.Check(label, tc.lang)
				if wide := b.OffScreen(); len(wide) > 0 {
					t.Errorf("%s: elements wider than the screen: %v", label, wide)
				}
			}

			// The giver names the friend.
			status := s.srv.URL + "/entries/" + giver + "?token=" + url.QueryEscape(s.receipt(giver))
			b.Open(status)
			b.WaitFor("#transfer-to")
			check("giver")
			const to = "friend@example.org"
			b.Do(chromedp.SendKeys(chromedp.CSS("#transfer-to"), to), chromedp.Click(chromedp.CSS("[data-offer-transfer]")))
			b.WaitFor("[data-transfer-open]")
			check("giver-sent")

			// The friend: the link from the mail, a code, the form, the payment.
			msgs, _ := s.store.OutboxFor(context.Background(), to, 1)
			if len(msgs) != 1 || transferPathRe.FindStringSubmatch(msgs[0].Body) == nil {
				t.Fatalf("no transfer mail to %s", to)
			}
			b.Open(s.srv.URL + "/transfers/" + transferPathRe.FindStringSubmatch(msgs[0].Body)[1])
			b.WaitFor("[data-transfer-code]")
			check("recipient")
			if got := b.Text("main"); !strings.Contains(got, "₩50,000") {
				t.Errorf("the recipient's page does not say the price:\n%s", got)
			}
			b.Do(chromedp.Click(chromedp.CSS("[data-transfer-code]")))
			b.WaitFor("[data-transfer-form]")
			check("recipient-form")
			msgs, _ = s.store.OutboxFor(context.Background(), to, 1)
			code := codeRe.FindStringSubmatch(msgs[0].Body)
			if code == nil {
				t.Fatalf("no code in %q", msgs[0].Body)
			}
			q := func(name string) chromedp.CSS { return chromedp.CSS(`[data-transfer-form] [name="` + name + `"]`) }
			b.Do(chromedp.SendKeys(q("otp"), code[1]),
				chromedp.SendKeys(q("name"), "Lee Seoyeon"),
				chromedp.SendKeys(q("phone"), "010-9876-5432"),
				chromedp.SetValue(q("birth_date"), "1992-05-06"))
			browsertest.Eval[int](b, `Array.from(document.querySelectorAll("[data-transfer-form] input[type=checkbox]")).map(c => c.checked = true).length`)
			b.Do(chromedp.Click(chromedp.CSS("[data-transfer-accept]")))
			b.WaitFor("[data-transfer-pay]")
			check("recipient-pay")
			b.Do(chromedp.Click(chromedp.CSS("[data-transfer-pay]")))
			b.WaitFor(`button[formaction$="/pay"]`)
			check("checkout")
			b.Do(chromedp.Click(chromedp.CSS(`button[formaction$="/pay"]`)))
			b.WaitFor("[data-transfer-done]")
			check("recipient-done")
			if st := s.standing(giver); st.Entry != "transferred" || st.Offer != "void" {
				t.Errorf("giver after the transfer: %+v", st)
			}

			b.Open(status)
			b.WaitFor("main")
			check("giver-transferred")
			if got := b.Text("main"); !strings.Contains(got, tc.giverDone) {
				t.Errorf("the giver's page lacks %q:\n%s", tc.giverDone, got)
			}
			if errs := b.ConsoleErrors(); len(errs) > 0 {
				t.Errorf("console errors: %v", errs)
			}
		})
	}
}
