package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
)

// publishDraw closes spring's window on the site's clock and runs freeze,
// reveal, the draws and publish-results, so selected entries hold offers.
func (s *site) publishDraw(clk *testClock) {
	s.t.Helper()
	ctx := context.Background()
	s.store.DB().Exec("UPDATE events SET unreviewed_policy = 'exclude'")
	clk.Add(2 * time.Hour)
	for _, a := range []string{lottery.ActionFreeze, lottery.ActionReveal, lottery.ActionDraw} {
		if _, err := s.svc.Transition(ctx, s.org, "spring", a, lottery.TransitionParams{}); err != nil {
			s.t.Fatalf("%s: %v", a, err)
		}
	}
	var subs []int64
	s.store.DB().Raw("SELECT subqueue_id FROM draws").Scan(&subs)
	for _, id := range subs {
		if _, err := s.draws.RunDraw(ctx, id); err != nil {
			s.t.Fatalf("draw %d: %v", id, err)
		}
	}
	if _, err := s.svc.Transition(ctx, s.org, "spring", lottery.ActionPublishResults, lottery.TransitionParams{}); err != nil {
		s.t.Fatal(err)
	}
}

// pressLangSwitch reaches the header's language switch by keyboard (from
// the top of the page) and presses it.
func pressLangSwitch(t *testing.T, b *browsertest.Browser, want string) {
	t.Helper()
	b.Do(chromedp.Focus(chromedp.CSS("a.brand")))
	for range 3 {
		b.Keys("\t")
		if browsertest.Eval[bool](b, `document.activeElement && document.activeElement.hasAttribute("data-lang-switch")`) {
			if got := browsertest.Eval[string](b, `document.activeElement.lang`); got != want {
				b.Keys("\t")
				continue
			}
			b.KeysToPage("\r")
			return
		}
	}
	t.Fatalf("the switch to %s is not reached by keyboard", want)
}

// TestBrowserLanguageSwitchJourney walks the form on a phone screen by
// keyboard, starting in English and in Korean: a form error on step 2 and
// the switch (input kept), the code step and the switch with the code half
// typed (kept), a wrong code and the switch back, the receipt with names,
// the translated status and the absolute link wrapping at 390 px, then the
// offer and its decline confirmation.
func TestBrowserLanguageSwitchJourney(t *testing.T) {
	for _, tc := range []struct {
		lang, other, browserLang string
		email                    string
		received                 string // the receipt's status word, in lang
		declineConfirm, declined string // in lang
	}{
		{"en", "ko", "en-US", "kim.minjun@example.com", "Received", "Yes, decline my place", "You declined"},
		{"ko", "en", "ko-KR", "lee.seoyeon@example.com", "접수됨", "네, 자리를 포기합니다", "거절했습니다"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			clk := &testClock{t: time.Now()}
			s := newSiteWith(t, siteOptions{dev: true, clock: clk})
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			value := func(name string) string {
				return browsertest.Eval[string](b, `(document.querySelector("[name=`+name+`]") || {}).value || ""`)
			}

			b.Open(s.srv.URL + "/events/spring")
			b.Check("event", tc.lang)
			b.TabTo("subqueue", 20)
			b.Keys(" ") // check the (only) drawn group
			b.KeysToPage("\r")
			b.WaitFor(`input[name=name]`)
			b.Check("step2", tc.lang)

			// Step 2 with a mistyped address: the form comes back with the error.
			b.TabTo("name", 20)
			b.Keys("Kim Minjun")
			b.Keys("\t" + "kim.minjun@")
			b.Keys("\t" + "+82 10 1234 5678")
			b.Keys("\t" + "04011990")
			// The browser's own check would stop "kim.minjun@"; the server's
			// answer is the form error under test, so it is sent as is.
			browsertest.Eval[bool](b, `document.getElementById("apply-form").noValidate = true`)
			b.Do(chromedp.Click(chromedp.CSS(`[name="consents.privacy"]`)), chromedp.Click(chromedp.CSS(`[name="consents.waiver"]`)))
			b.Do(chromedp.Focus(chromedp.CSS(`input[name=birth_date]`)))
			b.KeysToPage("\r")
			b.WaitFor(".field.invalid")
			b.Check("step2-error", tc.lang)

			// Switch language: the same step, in the other language, every answer kept.
			pressLangSwitch(t, b, tc.other)
			b.WaitFor(`input[name=name]`)
			b.Check("step2-switched", tc.other)
			for name, want := range map[string]string{"name": "Kim Minjun", "email": "kim.minjun@", "phone": "+82 10 1234 5678", "birth_date": "1990-04-01"} {
				if got := value(name); got != want {
					t.Errorf("after the switch %s reads %q, want %q", name, got, want)
				}
			}

			// Fix the address and ask for the code (in the other language now).
			browsertest.Eval[string](b, `document.querySelector("input[name=email]").value = ""`)
			b.Do(chromedp.Focus(chromedp.CSS(`input[name=email]`)))
			b.Keys(tc.email)
			b.KeysToPage("\r")
			b.WaitFor(`input[name=otp]`)
			b.Check("step3", tc.other)
			msgs, err := s.store.OutboxFor(context.Background(), tc.email, 5)
			if err != nil || len(msgs) != 1 {
				t.Fatalf("code mails: %v %d", err, len(msgs))
			}
			code := anyCodeRe.FindStringSubmatch(msgs[0].Body)[1]

			// Half the code typed, then back to the first language: the code
			// step again, the typed digits and the answers kept, no new mail.
			b.Keys(code[:3])
			pressLangSwitch(t, b, tc.lang)
			b.WaitFor(`input[name=otp]`)
			b.Check("step3-switched", tc.lang)
			if got := value("otp"); got != code[:3] {
				t.Errorf("typed code after the switch: %q, want %q", got, code[:3])
			}
			if got := b.Text("form.panel"); !strings.Contains(got, tc.email) {
				t.Errorf("the code step no longer names the address: %q", got)
			}
			if got := value("name"); got != "Kim Minjun" {
				t.Errorf("the answers were lost: name %q", got)
			}
			if n := s.outboxCount(tc.email); n != 1 {
				t.Errorf("the switch mailed a code: %d mails", n)
			}

			// A wrong code: the error, then the switch keeps the step.
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			browsertest.Eval[string](b, `document.querySelector("input[name=otp]").value = ""`)
			b.Do(chromedp.Focus(chromedp.CSS(`input[name=otp]`)))
			b.Keys(wrong)
			b.KeysToPage("\r")
			b.WaitFor(".alert")
			b.Check("code-error", tc.lang)
			pressLangSwitch(t, b, tc.other)
			b.WaitFor(`input[name=otp]`)
			b.Check("code-error-switched", tc.other)
			if got := b.Text("form.panel"); !strings.Contains(got, tc.email) {
				t.Errorf("the code step after the error lost the address: %q", got)
			}
			pressLangSwitch(t, b, tc.lang)
			b.WaitFor(`input[name=otp]`)

			// The right code: the receipt.
			b.Do(chromedp.Focus(chromedp.CSS(`input[name=otp]`)))
			b.Keys(code)
			b.KeysToPage("\r")
			b.WaitFor(".status")
			b.Check("receipt", tc.lang)
			page := b.Text("main")
			for _, w := range []string{"Half Marathon · Open", tc.received} {
				if !strings.Contains(page, w) {
					t.Errorf("receipt lacks %q:\n%s", w, page)
				}
			}
			if strings.Contains(page, "half:open") {
				t.Errorf("receipt shows the internal key")
			}
			link := browsertest.Eval[string](b, `document.querySelector("a[data-status-link]").textContent`)
			if !strings.HasPrefix(link, s.srv.URL+"/entries/") {
				t.Errorf("status link %q is not absolute", link)
			}
			// The link wraps inside the screen: several lines, nothing wider.
			box := browsertest.Eval[[]float64](b, `(() => { const r = document.querySelector("code.status-link").getBoundingClientRect();
				return [r.right, r.height, parseFloat(getComputedStyle(document.querySelector("code.status-link")).lineHeight) || 20]; })()`)
			if box[0] > browsertest.Width || box[1] < 2*box[2]*0.9 {
				t.Errorf("status link block right %.0f px, height %.0f px (line %.0f): not wrapped inside %d px", box[0], box[1], box[2], browsertest.Width)
			}
			// The copy button (shown by the script) copies the link, by keyboard.
			b.Do(chromedp.Focus(chromedp.CSS("button[data-copy]")))
			b.Keys("\r")
			b.WaitFor("[data-copied]:not(:empty)")
			if got, want := b.Text("[data-copied]"), map[string]string{"en": "Copied", "ko": "복사했습니다"}[tc.lang]; got != want {
				t.Errorf("after copying: %q, want %q", got, want)
			}
			status := browsertest.Eval[string](b, `document.querySelector("a[data-status-link]").href`)

			// After the draw the entry holds an offer; declining asks first.
			s.publishDraw(clk)
			b.Open(status)
			b.WaitFor("#offer")
			b.Check("offer", tc.lang)
			if got := b.Text("#offer"); !strings.Contains(got, "Half Marathon · Open") {
				t.Errorf("offer does not name the group: %q", got)
			}
			if browsertest.Eval[bool](b, `document.querySelector("details.decline").open`) {
				t.Errorf("the decline confirmation is open before asking")
			}
			b.Do(chromedp.Focus(chromedp.CSS("details.decline summary")))
			b.Keys("\r")
			b.WaitFor(`details.decline button.danger`)
			b.Check("decline-confirm", tc.lang)
			if got := b.Text(`details.decline button.danger`); got != tc.declineConfirm {
				t.Errorf("confirm button reads %q", got)
			}
			b.Keys("\t")
			if f := b.Focused(); f != tc.declineConfirm {
				t.Errorf("Tab from the summary reaches %q, want the confirm button", f)
			}
			b.KeysToPage("\r")
			b.WaitFor(".offer")
			b.Check("declined", tc.lang)
			if got := b.Text(".offer"); !strings.Contains(got, tc.declined) {
				t.Errorf("after declining: %q", got)
			}
		})
	}
}
