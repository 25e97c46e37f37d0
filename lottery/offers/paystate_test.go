package offers

import (
	"testing"

	"github.com/startline/startline/lottery"
)

func TestPayStateOf(t *testing.T) {
	for _, tt := range []struct {
		name  string
		offer lottery.OfferStatus
		pay   lottery.PaymentStatus
		found bool
		want  PayState
	}{
		{"no payment yet", lottery.OfferPending, "", false, PayNone},
		{"checkout started", lottery.OfferAccepted, lottery.PaymentCreated, true, PayNone},
		{"card declined, offer pending", lottery.OfferPending, lottery.PaymentFailed, true, PayDeclined},
		{"card declined, offer accepted", lottery.OfferAccepted, lottery.PaymentFailed, true, PayDeclined},
		{"declined, then authorized", lottery.OfferAccepted, lottery.PaymentAuthorized, true, PayNone},
		{"paid", lottery.OfferPaid, lottery.PaymentCaptured, true, PayNone},
		{"declined, hold ended", lottery.OfferExpired, lottery.PaymentFailed, true, PayNone},
		{"declined, offer declined", lottery.OfferDeclined, lottery.PaymentFailed, true, PayNone},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := PayStateOf(lottery.Offer{Status: tt.offer}, lottery.Payment{Status: tt.pay}, tt.found)
			if got != tt.want {
				t.Errorf("PayStateOf(%s, %s) = %q, want %q", tt.offer, tt.pay, got, tt.want)
			}
		})
	}
}
