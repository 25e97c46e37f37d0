package web_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/payments/sandbox"
	"github.com/startline/startline/web"
)

// cardRedisURL is this file's own Redis database (issue 15, card on file).
const cardRedisURL = "redis://127.0.0.1:6379/14"

// cardSite is a site whose spring event keeps a card on file (the policy
// row written directly: the event is open already), the sandbox saving
// cards and hosting its setup page, and the half marathon priced.
func cardSite(t *testing.T) (*site, *sandbox.Provider) {
	t.Helper()
	pay := sandbox.New([]byte("sandbox-test-key"))
	s := newSiteGuard(t, true, guardtest.Options{RedisURL: cardRedisURL}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)),
		func(d *web.Deps) { d.Sandbox = pay })
	s.reg.UseCards(pay)
	db := s.store.DB()
	if err := db.Exec(`INSERT INTO event_card_settings (event_id) SELECT id FROM events WHERE slug = 'spring'`).Error; err != nil {
		t.Fatal(err)
	}
	db.Exec("UPDATE events SET currency = 'krw' WHERE slug = 'spring'")
	db.Exec("UPDATE subqueues SET price_minor = 50000 WHERE key = 'half:sub-130'")
	s.svc.ForgetEvent("spring")
	return s, pay
}

// TestBrowserCardOnFile applies on a phone (390 px) to an event with card
// on file: the event page says the card is charged automatically; the form
// refuses to send a code before a card is saved, beside the card step; the
// runner saves the test card on the sandbox's setup page (a bad number
// refused beside the field) and comes back to the form with everything
// typed kept and "Visa •4242 saved"; the code is mailed, the entry taken,
// and the status page shows the card. The setup page and the form are
// checked in Korean too.
func TestBrowserCardOnFile(t *testing.T) {
	s, _ := cardSite(t)
	b := browsertest.New(t, browsertest.Options{Lang: "en-US"})
	q := func(name string) string { return `[name="` + name + `"]` }
	expect := func(page string, want ...string) {
		t.Helper()
		text := b.Text("main")
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s page lacks %q:\n%s", page, w, text)
			}
		}
	}

	b.Open(s.srv.URL + "/events/spring")
	b.WaitFor(`[data-card-notice]`)
	b.Check("event", "en")
	expect("event", "charged the course price automatically")

	b.Open(s.srv.URL + "/events/spring/apply?subqueue=half:sub-130")
	b.WaitFor(q("name"))
	expect("form", "Save a card", "₩50,000")
	b.Do(chromedp.SendKeys(chromedp.CSS(q("name")), "Kim Minjun"),
		chromedp.SendKeys(chromedp.CSS(q("email")), "card.runner@example.com"),
		chromedp.SendKeys(chromedp.CSS(q("phone")), "+82 10 2345 6789"),
		chromedp.SetValue(chromedp.CSS(q("birth_date")), "1990-04-01"),
		chromedp.Click(chromedp.CSS(q("consents.privacy"))),
		chromedp.Click(chromedp.CSS(q("consents.waiver"))))
	// Sending the code without a card: refused beside the card step.
	b.Do(chromedp.Click(chromedp.CSS(`#apply-form > button[type=submit]`)))
	b.WaitFor(`#card-step-error`)
	b.Check("no-card", "en")
	expect("no-card", "Save a card first")

	// Save a card: off to the sandbox's page.
	b.Do(chromedp.Click(chromedp.CSS(`button[data-card-save]`)))
	b.WaitFor(q("card_number"))
	b.Check("setup", "en")
	expect("setup", "4242 4242 4242 4242", "Works: every charge succeeds", "Insufficient funds", "Needs authentication")
	if auto := browsertest.Eval[string](b, `document.querySelector('[name=card_number]').autocomplete + "|" + document.querySelector('[name=card_number]').inputMode`); auto != "cc-number|numeric" {
		t.Errorf("card number field: %s", auto)
	}
	b.Do(chromedp.SendKeys(chromedp.CSS(q("card_number")), "4242 4242 4242 4241"),
		chromedp.Click(chromedp.CSS(`#setup-form button[type=submit]`)))
	b.WaitFor(`#card-number-error`)
	b.Check("setup-refused", "en")
	browsertest.Eval[string](b, `document.querySelector('[name=card_number]').value = ""`)
	b.Do(chromedp.SendKeys(chromedp.CSS(q("card_number")), "4242 4242 4242 4242"),
		chromedp.Click(chromedp.CSS(`#setup-form button[type=submit]`)))

	// Back on the form: what was typed is kept, the card saved.
	b.WaitFor(`[data-card-saved]`)
	b.Check("card-saved", "en")
	expect("card-saved", "Visa •4242 saved")
	kept := browsertest.Eval[string](b, `["name", "email", "phone", "birth_date"].map(n => document.querySelector('[name="' + n + '"]').value).join("|") + "|" +
		["consents.privacy", "consents.waiver"].map(n => document.querySelector('[name="' + n + '"]').checked).join("|")`)
	if want := "Kim Minjun|card.runner@example.com|+82 10 2345 6789|1990-04-01|true|true"; kept != want {
		t.Errorf("form after saving the card: %q, want %q", kept, want)
	}

	// In Korean, the same step with the card.
	b.Do(chromedp.Click(chromedp.CSS(`[data-lang-switch]`)))
	b.WaitFor(`html[lang=ko] [data-card-saved]`)
	b.Check("card-saved-ko", "ko")
	expect("card-saved-ko", "Visa •4242 등록됨", "카드 등록")

	b.Do(chromedp.Click(chromedp.CSS(`#apply-form > button[type=submit]`)))
	b.WaitFor(q("otp"))
	b.Check("code-ko", "ko")
	expect("code-ko", "Visa •4242 등록됨")
	msgs, err := s.store.OutboxFor(context.Background(), "card.runner@example.com", 1)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("code mail: %v %d", err, len(msgs))
	}
	code := anyCodeRe.FindStringSubmatch(msgs[0].Body)
	if code == nil {
		t.Fatalf("no code in the mail: %q", msgs[0].Body)
	}
	b.Do(chromedp.SendKeys(chromedp.CSS(q("otp")), code[1]), chromedp.Click(chromedp.CSS(`#apply-form > button[type=submit]`)))
	b.WaitFor(`[data-entry-card]`)
	b.Check("receipt-ko", "ko")
	if got := b.Text(`[data-entry-card]`); got != "Visa •4242" {
		t.Errorf("card on the status page: %q", got)
	}
	var n int64
	s.store.DB().Raw(`SELECT count(*) FROM entry_cards c JOIN entries e ON e.id = c.entry_id WHERE e.email = 'card.runner@example.com' AND c.last4 = '4242'`).Scan(&n)
	if n != 1 {
		t.Errorf("entry cards stored: %d", n)
	}
}

// TestBrowserConsoleCards: an organizer, in Korean on a phone (390 px),
// signs in with the keyboard, opens the event's Payment tab, turns card on
// file on with two entries per card and saves.
func TestBrowserConsoleCards(t *testing.T) {
	s, _ := cardSite(t)
	ctx := context.Background()
	if _, err := s.svc.CreateEvent(ctx, s.org, lottery.EventSpec{Slug: "autumn", Name: "Autumn Run", TimeZone: "Asia/Seoul",
		OpensAt: time.Now().Add(24 * time.Hour), ClosesAt: time.Now().Add(48 * time.Hour), MaxGroupSize: 1,
		Courses: []lottery.CourseSpec{{Code: "10k", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "open", Label: "Open", Capacity: 10}}}}}); err != nil {
		t.Fatal(err)
	}
	code := s.enrol("", "boss@example.com", lottery.RoleOrganizer)
	b := browsertest.New(t, browsertest.Options{Lang: "ko-KR"})
	s.keyboardSignIn(b, "boss@example.com", code, "/admin/events/autumn/cards")
	b.WaitFor("#cards-form")
	b.Check("payment-tab", "ko")
	if text := b.Text("main"); !strings.Contains(text, "카드 등록") || !strings.Contains(text, "카드 한 장당 신청 수") {
		t.Errorf("payment tab:\n%s", text)
	}
	b.Do(chromedp.Click(chromedp.CSS(`[name=enabled]`)), chromedp.SetValue(chromedp.CSS(`[name=entries_per_card]`), "2"),
		chromedp.Click(chromedp.CSS(`#cards-form button[type=submit]`)))
	b.WaitFor("[data-saved]")
	b.Check("payment-saved", "ko")
	pol, err := s.svc.CardPolicy(ctx, s.org, "autumn")
	if err != nil || !pol.Enabled || pol.EntriesPerCard != 2 {
		t.Errorf("saved policy: %+v %v", pol, err)
	}
}
