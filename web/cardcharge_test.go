package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/payments/sandbox"
)

// TestCardChargePages: the status page says where a saved card's charge
// stands (charging, paid with the card, could not charge: pay by), in
// English and Korean, and the organizer's overview counts the charges.
func TestCardChargePages(t *testing.T) {
	s, _, selected := drawnSite(t, siteOptions{cards: true}, 6, 3)
	ctx := context.Background()
	s.store.DB().Exec(`INSERT INTO event_card_settings (event_id, charge_per_minute) SELECT id, 100000 FROM events WHERE slug = 'spring'`)
	for i, number := range []string{sandbox.CardOK, sandbox.CardDeclined} {
		st, err := s.sandbox.StartCardSetup(ctx, lottery.CardSetupRequest{EventSlug: "spring", ReturnURL: "/", IdempotencyKey: selected[i]})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.sandbox.ConfirmSetup(st.ID, number); err != nil {
			t.Fatal(err)
		}
		c, _ := s.sandbox.CardSetupResult(ctx, st.ID)
		s.store.DB().Exec(`INSERT INTO entry_cards (entry_id, event_id, provider, setup_id, payment_method, brand, last4)
			SELECT id, event_id, 'sandbox', ?, ?, ?, ? FROM entries WHERE id = ?`, c.SetupID, c.PaymentMethod, c.Brand, c.Last4, selected[i])
		// As publish-results queues it for an entry with a saved card.
		s.store.DB().Exec(`INSERT INTO card_charges (offer_id, entry_id, event_id, next_at)
			SELECT id, entry_id, event_id, issued_at FROM offers WHERE entry_id = ?`, selected[i])
	}
	page := func(entry, lang string) string {
		t.Helper()
		st, body, _ := s.get("/entries/" + entry + "?token=" + s.receipt(entry) + "&lang=" + lang)
		if st != http.StatusOK {
			t.Fatalf("status page: %d", st)
		}
		return body
	}
	for lang, want := range map[string]string{"en": "We are charging your saved card.", "ko": "등록하신 카드로 결제하는 중입니다."} {
		if b := page(selected[0], lang); !strings.Contains(b, `data-card-charge="charging"`) || !strings.Contains(b, want) ||
			!strings.Contains(b, "4242") {
			t.Errorf("%s: before the charge, the page lacks %q", lang, want)
		}
	}
	if b := page(selected[2], "en"); strings.Contains(b, "data-card-charge") {
		t.Error("an offer with no saved card shows a card charge")
	}

	if _, err := s.cards.ChargeDue(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"en": "Paid with Visa •4242", "ko": "Visa •4242 카드로 결제 완료"} {
		if b := page(selected[0], lang); !strings.Contains(b, `data-card-charge="paid"`) || !strings.Contains(b, want) {
			t.Errorf("%s: after the charge, the page lacks %q", lang, want)
		}
	}
	for lang, want := range map[string]string{"en": "We could not charge your card. Pay by ", "ko": "등록된 카드로 결제하지 못했습니다. 자리를 지키려면 "} {
		b := page(selected[1], lang)
		if !strings.Contains(b, `data-card-charge="failed"`) || !strings.Contains(b, want) || !strings.Contains(b, "/pay\"") {
			t.Errorf("%s: after a declined charge, the page lacks %q or the pay button", lang, want)
		}
	}

	cookie := s.consoleLogin("", "cards-boss@example.com", lottery.RoleOrganizer)
	for lang, title := range map[string]string{"en": "Saved cards", "ko": "등록 카드 결제"} {
		st, b, _ := s.get("/admin/events/spring?lang="+lang, "Cookie", cookie)
		if st != http.StatusOK {
			t.Fatalf("overview: %d", st)
		}
		for _, want := range []string{title, `data-field="cards-charged">1<`, `data-field="cards-fallback">1<`, `data-field="cards-retrying">0<`} {
			if !strings.Contains(b, want) {
				t.Errorf("%s overview lacks %q", lang, want)
			}
		}
	}
}
