package sandbox

import (
	"context"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

// TestEventIsBoundToItsSession: the sandbox signs a webhook only for a
// session CreatePayment issued, and only for that session's offer.
func TestEventIsBoundToItsSession(t *testing.T) {
	p := New([]byte("sandbox-test-key"))
	now := time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)
	const offer, other = "7d6f2a3e-1c1b-4c55-9a0e-4b8c2f7e9d01", "0b7e9f7c-5a43-4e8f-a2d1-3c6b5e4f7a92"
	pay, err := p.CreatePayment(context.Background(), lottery.PaymentRequest{OfferID: offer, AmountMinor: 80000,
		Currency: "KRW", IdempotencyKey: "pay:" + offer})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, session, offer, outcome, want string // want: error code, "" for a signed webhook
	}{
		{"its own offer", pay.ID, offer, "pay", ""},
		{"cancel", pay.ID, offer, "cancel", ""},
		{"another offer", pay.ID, other, "pay", lottery.CodeNotFound},
		{"empty offer", pay.ID, "", "pay", lottery.CodeInvalidField},
		{"a session never issued", "sbx_madeup", offer, "pay", lottery.CodeNotFound},
		{"unknown outcome", pay.ID, offer, "refund", lottery.CodeInvalidField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, hdr, err := p.Event(tt.session, tt.offer, tt.outcome, now)
			got := ""
			if err != nil {
				got = lottery.CodeOf(err)
			}
			if got != tt.want {
				t.Fatalf("Event = %v (code %q), want code %q", err, got, tt.want)
			}
			if err != nil {
				return
			}
			ev, err := p.ParseWebhook(body, hdr, now)
			if err != nil || ev.OfferID != offer || ev.PaymentID != pay.ID {
				t.Errorf("webhook: %+v, %v; want offer %s, payment %s", ev, err, offer, pay.ID)
			}
		})
	}
}

// TestRefund: the sandbox refunds a captured payment in part or in full,
// once per idempotency key, and refuses what was never captured or is more
// than is left.
func TestRefund(t *testing.T) {
	ctx := context.Background()
	p := New([]byte("sandbox-test-key"))
	const offer = "7d6f2a3e-1c1b-4c55-9a0e-4b8c2f7e9d01"
	pay, err := p.CreatePayment(ctx, lottery.PaymentRequest{OfferID: offer, AmountMinor: 50000, Currency: "krw", IdempotencyKey: "pay:" + offer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Refund(ctx, pay.ID, 10000, "r0"); lottery.CodeOf(err) != lottery.CodeInvalidTransition {
		t.Errorf("refund before capture: %v", err)
	}
	p.Capture(ctx, pay.ID, "")
	got, err := p.Refund(ctx, pay.ID, 20000, "r1")
	if err != nil || got.RefundedMinor != 20000 || got.Status != lottery.PaymentRefunded {
		t.Fatalf("partial refund: %+v %v", got, err)
	}
	if again, err := p.Refund(ctx, pay.ID, 20000, "r1"); err != nil || again.RefundedMinor != 20000 || p.Refunded(pay.ID) != 20000 {
		t.Errorf("same key again: %+v %v, refunded %d", again, err, p.Refunded(pay.ID))
	}
	if _, err := p.Refund(ctx, pay.ID, 30001, "r2"); lottery.CodeOf(err) != lottery.CodeInvalidField {
		t.Errorf("more than is left: %v", err)
	}
	if _, err := p.Refund(ctx, pay.ID, 30000, "r3"); err != nil || p.Refunded(pay.ID) != 50000 {
		t.Errorf("the rest: %v, refunded %d", err, p.Refunded(pay.ID))
	}
}
