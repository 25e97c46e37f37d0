package sandbox

import (
	"context"
	"errors"
	"testing"

	"github.com/startline/startline/lottery"
)

func TestValidCardNumber(t *testing.T) {
	tests := []struct {
		n    string
		want bool
	}{
		{CardOK, true}, {CardInsufficientFunds, true}, {CardDeclined, true}, {CardAuthRequired, true},
		{CardProcessingError, true}, {"4242424242424241", false}, {"4242", false}, {"42424242424242x2", false},
		{"", false}, {"12345678901234567890", false},
	}
	for _, tt := range tests {
		if got := ValidCardNumber(tt.n); got != tt.want {
			t.Errorf("ValidCardNumber(%q) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestCardOnFile(t *testing.T) {
	ctx := context.Background()
	p := New([]byte("k"))
	save := func(key, number string) lottery.SavedCard {
		t.Helper()
		s, err := p.StartCardSetup(ctx, lottery.CardSetupRequest{EventSlug: "e", ReturnURL: "/back", IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.CardSetupResult(ctx, s.ID); lottery.CodeOf(err) != lottery.CodeInvalidTransition {
			t.Fatalf("unconfirmed setup: %v", err)
		}
		if err := p.ConfirmSetup(s.ID, number); err != nil {
			t.Fatal(err)
		}
		c, err := p.CardSetupResult(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b, c := save("a", CardOK), save("b", "4242 4242 4242 4242"), save("c", CardInsufficientFunds)
	if a.Fingerprint != b.Fingerprint || a.Fingerprint == c.Fingerprint || a.PaymentMethod == b.PaymentMethod {
		t.Errorf("fingerprints: same card %q %q, other %q; methods %q %q", a.Fingerprint, b.Fingerprint, c.Fingerprint,
			a.PaymentMethod, b.PaymentMethod)
	}
	if a.Last4 != "4242" || a.Brand != "visa" {
		t.Errorf("shown as %s •%s", a.Brand, a.Last4)
	}
	charge := func(card lottery.SavedCard, key string) (lottery.Payment, lottery.CardDecline, error) {
		return p.ChargeCard(ctx, lottery.CardCharge{OfferID: "o", Card: card, AmountMinor: 50000, Currency: "krw", IdempotencyKey: key})
	}
	if pay, d, err := charge(a, "1"); err != nil || pay.Status != lottery.PaymentCaptured || d.Code != "" {
		t.Errorf("good card: %+v %+v %v", pay, d, err)
	}
	if pay, d, err := charge(c, "2"); err != nil || pay.Status != lottery.PaymentFailed || !d.Retry || d.Code != "insufficient_funds" {
		t.Errorf("short of funds: %+v %+v %v", pay, d, err)
	}
	p.Busy(1)
	if _, _, err := charge(a, "3"); !errors.Is(err, lottery.ErrProviderBusy) {
		t.Errorf("busy: %v", err)
	}
	p.DeclineNext(a.PaymentMethod, lottery.CardDecline{Code: "processing_error", Retry: true})
	if pay, _, _ := charge(a, "3"); pay.Status != lottery.PaymentFailed {
		t.Errorf("queued decline: %+v", pay)
	}
	if pay, _, _ := charge(a, "3"); pay.Status != lottery.PaymentFailed {
		t.Errorf("same key answers the same: %+v", pay)
	}
	if pay, _, _ := charge(a, "4"); pay.Status != lottery.PaymentCaptured {
		t.Errorf("after the queued decline: %+v", pay)
	}
	if err := p.ConfirmSetup("nope", CardOK); !errors.Is(err, lottery.ErrNotFound) {
		t.Errorf("unknown setup: %v", err)
	}
	if err := p.ConfirmSetup("nope", "1234"); lottery.CodeOf(err) != lottery.CodeInvalidField {
		t.Errorf("bad number: %v", err)
	}
}
