package web

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
)

// i15-cardcharge: where a saved card's off-session charge stands, on the
// runner's status page and in the organizer's event overview.

// cardChargeSection is the status page's line about the charge: State is
// charging, paid or failed; Brand and Last4 name the card (never more).
type cardChargeSection struct {
	State    string
	Brand    string // a network's name; empty: a card of an unknown network
	Last4    string
	Deadline time.Time // failed: pay by then (the hold's end)
}

// cardBrands are the networks' own names (not translated).
var cardBrands = map[string]string{"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express"}

// cardChargeSectionOf says how an offer's charge stands for its runner:
// nil when the offer has no charge, or when nothing about it is left to
// say (the offer ended unpaid, or was paid another way).
func cardChargeSectionOf(o lottery.Offer, v offers.CardChargeView) *cardChargeSection {
	st := offers.ChargeStanding(o, v)
	if st == "" {
		return nil
	}
	return &cardChargeSection{State: st, Brand: cardBrands[v.Brand], Last4: v.Last4, Deadline: o.ExpiresAt}
}

// cardChargeSection reads the charge of the entry's offer; a read that
// fails leaves the line out (the offer's own status is still shown).
func (p *pages) cardChargeSection(c *gin.Context, v lottery.EntryView) *cardChargeSection {
	if p.Cards == nil || v.Offer == nil {
		return nil
	}
	ch, ok, err := p.Cards.ChargeOf(c.Request.Context(), v.Offer.ID)
	if err != nil {
		p.Log.WarnContext(c.Request.Context(), "card charge state not shown", "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	return cardChargeSectionOf(*v.Offer, ch)
}

// cardCounts are the event's charge numbers for the overview; nil when the
// event has no card on file (or no charge pass runs).
func (p *pages) cardCounts(c *gin.Context, ev lottery.Event) (*offers.CardChargeCounts, error) {
	if p.Cards == nil || ev.ID == 0 {
		return nil, nil
	}
	n, err := p.Cards.Counts(c.Request.Context(), ev.ID)
	if err != nil || !n.Enabled {
		return nil, err
	}
	return &n, nil
}
