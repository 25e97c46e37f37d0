package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/startline/startline/internal/browsertest"
)

// TestBrowserQuestions fills an event's questions and consents on a phone
// (390 px) in Korean and in English, submits with one refused answer (the
// emergency contact's phone), finds the error beside that field and every
// input kept, fixes it, applies with the mailed code, edits the answers on
// the status page, and reads the privacy notice.
func TestBrowserQuestions(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang, email, club string
		want                           []string // on the refused form
	}{
		{"ko", "ko-KR", "lee.seoyeon@example.com", "한강 러닝크루", []string{"올바른 전화번호를 입력해 주세요", "비상 연락처", "티셔츠 사이즈", "개인정보 처리방침 보기"}},
		{"en", "en-US", "kim.minjun@example.com", "Han River Runners", []string{"Please give a valid phone number", "Emergency contact", "T-shirt size", "Read the privacy notice"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s := newSite(t, true)
			s.questionsEvent()
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			q := func(name string) string { return `[name="` + name + `"]` }
			b.Open(s.srv.URL + "/events/autumn/apply?subqueue=half:open&lang=" + tc.lang)
			b.WaitFor(q("name"))
			b.Do(chromedp.SendKeys(chromedp.CSS(q("name")), "Kim Minjun"),
				chromedp.SendKeys(chromedp.CSS(q("email")), tc.email),
				chromedp.SendKeys(chromedp.CSS(q("phone")), "+82 10 1234 5678"),
				chromedp.SetValue(chromedp.CSS(q("birth_date")), "1990-04-01"),
				chromedp.SendKeys(chromedp.CSS(q("answers.emergency.name")), "Park Jiwoo"),
				chromedp.SendKeys(chromedp.CSS(q("answers.emergency.phone")), "12"), // too short: refused
				chromedp.SetValue(chromedp.CSS(q("answers.tshirt")), "M"),
				chromedp.SendKeys(chromedp.CSS(q("answers.club")), tc.club),
				chromedp.SetValue(chromedp.CSS(q("answers.category")), "f"),
				chromedp.SendKeys(chromedp.CSS(q("answers.medical")), "Inhaler"),
				chromedp.Click(chromedp.CSS(q("answers.rules"))),
				chromedp.Click(chromedp.CSS(q("consents.privacy"))),
				chromedp.Click(chromedp.CSS(q("consents.waiver"))))
			b.Check("filled", tc.lang)
			b.Do(chromedp.Click(chromedp.CSS(`form.panel button[type=submit]`)))
			b.WaitFor(`small.error`)
			b.Check("refused", tc.lang)
			page := b.Text("main")
			for _, w := range tc.want {
				if !strings.Contains(page, w) {
					t.Errorf("refused form lacks %q", w)
				}
			}
			near := browsertest.Eval[string](b, `document.querySelector('[name="answers.emergency.phone"]').closest("label").innerText`)
			if !strings.Contains(near, tc.want[0]) {
				t.Errorf("the error is not beside the phone field: %q", near)
			}
			kept := browsertest.Eval[string](b, `["name", "answers.emergency.name", "answers.emergency.phone", "answers.tshirt", "answers.club", "answers.category", "answers.medical"]
				.map(n => document.querySelector('[name="' + n + '"]').value).join("|") + "|" +
				["answers.rules", "consents.privacy", "consents.waiver"].map(n => document.querySelector('[name="' + n + '"]').checked).join("|")`)
			if want := "Kim Minjun|Park Jiwoo|12|M|" + tc.club + "|f|Inhaler|true|true|true"; kept != want {
				t.Errorf("input after the refusal: %q, want %q", kept, want)
			}

			// Fixed, the code is mailed and the entry taken.
			browsertest.Eval[string](b, `document.querySelector('[name="answers.emergency.phone"]').value = ""`)
			b.Do(chromedp.SendKeys(chromedp.CSS(q("answers.emergency.phone")), "010-9876-5432"),
				chromedp.Click(chromedp.CSS(`form.panel button[type=submit]`)))
			b.WaitFor(q("otp"))
			b.Check("code", tc.lang)
			msgs, err := s.store.OutboxFor(context.Background(), tc.email, 1)
			if err != nil || len(msgs) != 1 {
				t.Fatalf("code mail: %v %d", err, len(msgs))
			}
			code := anyCodeRe.FindStringSubmatch(msgs[0].Body)
			if code == nil {
				t.Fatalf("no code in the mail: %q", msgs[0].Body)
			}
			b.Keys(code[1] + "\r")
			b.WaitFor(".status")
			b.Check("receipt", tc.lang)

			// Edit my details: the answers are there; the size changes.
			b.WaitFor(`#details`)
			if got := browsertest.Eval[string](b, `document.querySelector('#details [name="answers.emergency.phone"]').value`); got != "+821098765432" {
				t.Errorf("stored phone shown as %q", got)
			}
			b.Do(chromedp.SetValue(chromedp.CSS(`#details `+q("answers.tshirt")), "L"),
				chromedp.Click(chromedp.CSS(`#details button[type=submit]`)))
			b.WaitFor(`#details .notice`)
			b.Check("details-saved", tc.lang)
			if got := browsertest.Eval[string](b, `document.querySelector('#details [name="answers.tshirt"]').value`); got != "L" {
				t.Errorf("saved size shown as %q", got)
			}

			// The privacy notice the form links to.
			b.Open(s.srv.URL + "/events/autumn/privacy")
			b.WaitFor(`[data-retention]`)
			b.Check("privacy", tc.lang)
			if got := b.Text("[data-version]"); got != "p-7" {
				t.Errorf("privacy version %q", got)
			}
		})
	}
}
