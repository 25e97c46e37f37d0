package web

import (
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
)

// TestCardChargeSectionOf: what the status page says of a charge follows
// the charge and its offer together.
func TestCardChargeSectionOf(t *testing.T) {
	end := time.Date(2027, 3, 3, 6, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		offer lottery.OfferStatus
		v     offers.CardChargeView
		want  string // "" for no section
	}{
		{"queued, pending offer", lottery.OfferPending, offers.CardChargeView{State: offers.ChargeQueued}, "charging"},
		{"retrying, accepted offer", lottery.OfferAccepted, offers.CardChargeView{State: offers.ChargeRetry}, "charging"},
		{"charged", lottery.OfferPaid, offers.CardChargeView{State: offers.ChargeCharged}, "paid"},
		{"fell back, still held", lottery.OfferPending, offers.CardChargeView{State: offers.ChargeFallback}, "failed"},
		{"fell back, then paid on the page", lottery.OfferPaid, offers.CardChargeView{State: offers.ChargeFallback}, ""},
		{"fell back, then expired", lottery.OfferExpired, offers.CardChargeView{State: offers.ChargeFallback}, ""},
		{"queued, declined meanwhile", lottery.OfferDeclined, offers.CardChargeView{State: offers.ChargeQueued}, ""},
		{"a late capture refunded", lottery.OfferDeclined, offers.CardChargeView{State: offers.ChargeCharged, LastError: "refunded"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cardChargeSectionOf(lottery.Offer{Status: tc.offer, ExpiresAt: end}, tc.v)
			switch {
			case tc.want == "" && got != nil:
				t.Errorf("got a %q section, want none", got.State)
			case tc.want != "" && (got == nil || got.State != tc.want):
				t.Errorf("got %+v, want %q", got, tc.want)
			}
		})
	}
	if s := cardChargeSectionOf(lottery.Offer{Status: lottery.OfferPaid}, offers.CardChargeView{State: offers.ChargeCharged, Brand: "visa", Last4: "4242"}); s.Brand != "Visa" || s.Last4 != "4242" {
		t.Errorf("brand shown: %+v", s)
	}
}
