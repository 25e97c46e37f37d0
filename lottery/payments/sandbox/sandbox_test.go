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
