package offers

import (
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

// TestChargeStanding: what a runner is told of a charge follows the charge
// and its offer together.
func TestChargeStanding(t *testing.T) {
	end := time.Date(2027, 3, 3, 6, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		offer lottery.OfferStatus
		v     CardChargeView
		want  string // "" for no section
	}{
		{"queued, pending offer", lottery.OfferPending, CardChargeView{State: ChargeQueued}, "charging"},
		{"retrying, accepted offer", lottery.OfferAccepted, CardChargeView{State: ChargeRetry}, "charging"},
		{"charged", lottery.OfferPaid, CardChargeView{State: ChargeCharged}, "paid"},
		{"fell back, still held", lottery.OfferPending, CardChargeView{State: ChargeFallback}, "failed"},
		{"fell back, then paid on the page", lottery.OfferPaid, CardChargeView{State: ChargeFallback}, ""},
		{"fell back, then expired", lottery.OfferExpired, CardChargeView{State: ChargeFallback}, ""},
		{"queued, declined meanwhile", lottery.OfferDeclined, CardChargeView{State: ChargeQueued}, ""},
		{"a late capture refunded", lottery.OfferDeclined, CardChargeView{State: ChargeCharged, LastError: "refunded"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ChargeStanding(lottery.Offer{Status: tc.offer, ExpiresAt: end}, tc.v); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
