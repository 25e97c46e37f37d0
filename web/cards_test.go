package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/payments/sandbox"
)

// cardForm is step 2 of the application as posted.
func cardForm(email string) url.Values {
	return url.Values{"subqueue": {"half:sub-130"}, "name": {"Kim Minjun"}, "email": {email},
		"phone": {"010-2345-6789"}, "birth_date": {"1990-04-01"}, "group_code": {""}, "previous_applications": {""},
		"website": {""}, "started": {"1"}, "signals": {""}, "consents.privacy": {lottery.DefaultPrivacy.Version}, "consents.waiver": {lottery.DefaultWaiver.Version}}
}

// TestCardStepKeepsTheForm: without a card the code is not sent; "Save a
// card" keeps the form in a sealed cookie (nothing personal in the
// redirect), and coming back shows step 2 with it and the card, once; a
// return without the cookie starts the form again.
func TestCardStepKeepsTheForm(t *testing.T) {
	s, pay := cardSite(t)
	code, body, _ := s.post("/events/spring/apply/code", cardForm("keep@example.com"))
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="card-step-error"`) || !strings.Contains(body, "Save a card first") {
		t.Fatalf("code without a card: %d", code)
	}
	if n := s.outboxCount("keep@example.com"); n != 0 {
		t.Errorf("code mailed without a card: %d", n)
	}
	code, _, hdr := s.post("/events/spring/apply/card", cardForm("keep@example.com"))
	loc := hdr.Get("Location")
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/sandbox/setup/seti_sbx_") || strings.Contains(loc, "keep") {
		t.Fatalf("save a card: %d %s", code, loc)
	}
	ck := hdr.Get("Set-Cookie")
	if !strings.HasPrefix(ck, "sl_card_draft=") || !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "Path=/events/spring/apply") ||
		strings.Contains(ck, "keep") {
		t.Errorf("draft cookie: %s", ck)
	}
	u, _ := url.Parse(loc)
	id := strings.TrimPrefix(u.Path, "/sandbox/setup/")
	back := u.Query().Get("return")
	cookie := strings.Split(ck, ";")[0]

	// Back before the card is confirmed: the form, refused beside the card.
	code, body, _ = s.get(back, "Cookie", cookie)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "The card was not saved") || !strings.Contains(body, `value="keep@example.com"`) {
		t.Errorf("back unconfirmed: %d", code)
	}
	if err := pay.ConfirmSetup(id, sandbox.CardOK); err != nil {
		t.Fatal(err)
	}
	code, body, hdr = s.get(back, "Cookie", cookie)
	if code != http.StatusOK || !strings.Contains(body, "Visa •4242 saved") || !strings.Contains(body, `value="Kim Minjun"`) ||
		!strings.Contains(body, `name="card_setup_id" value="`+id+`"`) {
		t.Fatalf("back with the card: %d %s", code, body)
	}
	if ck := hdr.Get("Set-Cookie"); !strings.HasPrefix(ck, "sl_card_draft=;") {
		t.Errorf("draft not cleared: %q", ck)
	}
	// Without the draft: the form starts again with the group chosen.
	if code, _, hdr := s.get(back); code != http.StatusSeeOther || hdr.Get("Location") != "/events/spring/apply?subqueue=half%3Asub-130" {
		t.Errorf("back without the draft: %d %s", code, hdr.Get("Location"))
	}
	// With the card, the code is sent.
	f := cardForm("keep@example.com")
	f.Set("card_setup_id", id)
	if code, body, _ := s.post("/events/spring/apply/code", f); code != http.StatusOK || !strings.Contains(body, `name="otp"`) {
		t.Errorf("code with a card: %d", code)
	}
}

// TestSandboxSetupPage: the hosted setup page lists the test cards by
// what they do, refuses a bad number beside the field, and only ever sends
// the runner back within the site.
func TestSandboxSetupPage(t *testing.T) {
	s, pay := cardSite(t)
	ctx := context.Background()
	evil, _ := pay.StartCardSetup(ctx, lottery.CardSetupRequest{EventSlug: "spring", ReturnURL: "https://evil.example/x", IdempotencyKey: "evil"})
	id := strings.TrimPrefix(strings.Split(evil.ConfirmURL, "?")[0], "/sandbox/setup/")
	code, body, _ := s.get("/sandbox/setup/" + id + "?lang=ko")
	if code != 200 || !strings.Contains(body, "테스트 카드") || !strings.Contains(body, "4242 4242 4242 4242") || !strings.Contains(body, "잔액 부족") ||
		!strings.Contains(body, `autocomplete="cc-number"`) || strings.Contains(body, "evil.example") {
		t.Fatalf("setup page: %d %s", code, body)
	}
	code, body, _ = s.post("/sandbox/setup/"+id, url.Values{"card_number": {"1234"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="card-number-error"`) || !strings.Contains(body, `value="1234"`) {
		t.Errorf("bad number: %d", code)
	}
	if code, _, hdr := s.post("/sandbox/setup/"+id, url.Values{"card_number": {"4242 4242 4242 4242"}}); code != http.StatusSeeOther ||
		hdr.Get("Location") != "/" {
		t.Errorf("a return elsewhere: %d %s", code, hdr.Get("Location"))
	}
	for _, m := range []string{"GET", "POST"} {
		var code int
		if m == "GET" {
			code, _, _ = s.get("/sandbox/setup/seti_sbx_madeup")
		} else {
			code, _, _ = s.post("/sandbox/setup/seti_sbx_madeup", url.Values{"card_number": {sandbox.CardOK}})
		}
		if code != http.StatusNotFound {
			t.Errorf("%s a made-up setup: %d", m, code)
		}
	}
}

// TestConsoleCards: the organizer's Payment tab sets card on file on an
// event not yet open (CSRF-checked, a bad number beside its field) and
// shows it locked once registration opened; a reviewer may not see it.
func TestConsoleCards(t *testing.T) {
	s, _ := cardSite(t)
	ctx := context.Background()
	if _, err := s.svc.CreateEvent(ctx, s.org, lottery.EventSpec{Slug: "autumn", Name: "Autumn Run", TimeZone: "Asia/Seoul",
		OpensAt: time.Now().Add(24 * time.Hour), ClosesAt: time.Now().Add(48 * time.Hour), MaxGroupSize: 1,
		Courses: []lottery.CourseSpec{{Code: "10k", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "open", Label: "Open", Capacity: 10}}}}}); err != nil {
		t.Fatal(err)
	}
	cookie := s.staffLogin("boss@example.com", lottery.RoleOrganizer)
	code, page, _ := s.get("/admin/events/autumn/cards", "Cookie", cookie)
	if code != 200 || !strings.Contains(page, "Card on file") || !strings.Contains(page, `aria-current="page">Payment`) {
		t.Fatalf("payment tab: %d %s", code, page)
	}
	code, _, body := s.consolePost(cookie, page, "/admin/events/autumn/cards", url.Values{"enabled": {"on"}, "entries_per_card": {"0"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `<small class="error">`) || !strings.Contains(body, `value="0"`) {
		t.Errorf("bad number: %d %s", code, body)
	}
	if code, loc, _ := s.consolePost(cookie, page, "/admin/events/autumn/cards", url.Values{"enabled": {"on"}, "entries_per_card": {"2"}}); code != http.StatusSeeOther ||
		loc != "/admin/events/autumn/cards?saved=1" {
		t.Errorf("save: %d %s", code, loc)
	}
	pol, err := s.svc.CardPolicy(ctx, s.org, "autumn")
	if err != nil || !pol.Enabled || pol.EntriesPerCard != 2 || pol.MaxAttempts != lottery.DefaultMaxAttempts {
		t.Errorf("stored policy: %+v %v", pol, err)
	}
	if code, _ := s.postWith("/admin/events/autumn/cards", url.Values{"enabled": {"on"}}, "Cookie", cookie); code != http.StatusForbidden {
		t.Errorf("without the csrf token: %d", code)
	}
	// spring is open: locked.
	code, page, _ = s.get("/admin/events/spring/cards?lang=ko", "Cookie", cookie)
	if code != 200 || !strings.Contains(page, "data-locked") || !strings.Contains(page, "결제") {
		t.Errorf("open event's tab: %d", code)
	}
	if code, _, _ := s.consolePost(cookie, page, "/admin/events/spring/cards", url.Values{}); code != http.StatusConflict {
		t.Errorf("change after opening: %d", code)
	}
	rev := s.staffLogin("rev@example.com", lottery.RoleReviewer)
	if code, _, _ := s.get("/admin/events/autumn/cards", "Cookie", rev); code != http.StatusForbidden {
		t.Errorf("a reviewer: %d", code)
	}
}

// TestReviewShowsCard: the reviewer's entry page names the saved card
// (brand, last four) and how many entries of the event share it, never
// its fingerprint.
func TestReviewShowsCard(t *testing.T) {
	s := newSite(t, true)
	ids := s.seedEntries(3)[1:]
	for i, id := range ids {
		if err := s.store.DB().Exec(`INSERT INTO entry_cards (entry_id, event_id, provider, setup_id, fingerprint, brand, last4)
			SELECT id, event_id, 'sandbox', ?, 'fp-secret-value', 'visa', '4242' FROM entries WHERE id = ?`, "seti_"+string(rune('a'+i)), id).Error; err != nil {
			t.Fatal(err)
		}
	}
	cookie := s.staffLogin("rev@example.com", lottery.RoleReviewer)
	code, body, _ := s.get("/review/entries/"+ids[0], "Cookie", cookie)
	if code != 200 || !strings.Contains(body, "Visa •4242 · saved for 2 entries of this event") || strings.Contains(body, "fp-secret-value") {
		t.Errorf("review page: %d %s", code, body)
	}
	code, body, _ = s.get("/review?lang=ko&reason=shared_card", "Cookie", cookie)
	if code != 200 || !strings.Contains(body, "같은 카드가") {
		t.Errorf("queue filter: %d", code)
	}
}
