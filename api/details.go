package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
)

// Race details, prices and the refund policy (issue 13) in the event's
// JSON, the spec, and the organizer's edit route.

// detailsJSON is the race details part of an event's JSON: race_date,
// place and currency are API.md's; the rest is this service's design.
type detailsJSON struct {
	RaceDate     *string          `json:"race_date"`  // "YYYY-MM-DD", null when not announced
	RaceStart    *string          `json:"race_start"` // "HH:MM" in time_zone
	Place        string           `json:"place"`
	Description  string           `json:"description"`
	DrawDate     *string          `json:"draw_date"` // a date or an RFC 3339 time: when results are expected
	Currency     string           `json:"currency"`  // ISO 4217, upper case
	RefundPolicy refundPolicyJSON `json:"refund_policy"`
}

// refundPolicyJSON lists the tiers in time order; none: no refunds.
type refundPolicyJSON struct {
	Tiers []refundTierJSON `json:"tiers"`
}

type refundTierJSON struct {
	Until   string    `json:"until"`   // as the organizer gave it: a date (through its end) or a time
	EndsAt  time.Time `json:"ends_at"` // the instant the tier ends
	Percent int       `json:"percent"`
}

// priceJSON is API.md's price: minor units and the upper-case code.
type priceJSON struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

func moneyJSON(m lottery.Money) priceJSON { return priceJSON{Amount: m.Amount, Currency: m.Code()} }

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func detailsView(e lottery.Event) detailsJSON {
	d := e.Details()
	v := detailsJSON{RaceDate: optString(e.RaceDate), RaceStart: optString(e.RaceStart), Place: e.Place,
		Description: e.Description, DrawDate: optString(d.DrawDate), Currency: lottery.Money{Currency: e.Currency}.Code(),
		RefundPolicy: refundPolicyJSON{Tiers: []refundTierJSON{}}}
	for i, t := range e.RefundPolicy.Tiers {
		v.RefundPolicy.Tiers = append(v.RefundPolicy.Tiers, refundTierJSON{Until: d.RefundPolicy.Tiers[i].Until,
			EndsAt: t.Until, Percent: t.Percent})
	}
	return v
}

// detailsSpecJSON is the race details part of the create-event body.
type detailsSpecJSON struct {
	RaceDate     string                `json:"race_date"`
	RaceStart    string                `json:"race_start"`
	Place        string                `json:"place"`
	Description  string                `json:"description"`
	DrawDate     string                `json:"draw_date"`
	Currency     string                `json:"currency"`
	RefundPolicy *refundPolicySpecJSON `json:"refund_policy"`
}

type refundPolicySpecJSON struct {
	Tiers []struct {
		Until   string `json:"until"`
		Percent int    `json:"percent"`
	} `json:"tiers"`
}

func (r *refundPolicySpecJSON) spec() *lottery.RefundPolicySpec {
	if r == nil {
		return nil
	}
	out := &lottery.RefundPolicySpec{Tiers: []lottery.RefundTierSpec{}}
	for _, t := range r.Tiers {
		out.Tiers = append(out.Tiers, lottery.RefundTierSpec{Until: t.Until, Percent: t.Percent})
	}
	return out
}

func (d detailsSpecJSON) spec() lottery.DetailsSpec {
	return lottery.DetailsSpec{RaceDate: d.RaceDate, RaceStart: d.RaceStart, Place: d.Place, Description: d.Description,
		DrawDate: d.DrawDate, Currency: d.Currency, RefundPolicy: d.RefundPolicy.spec()}
}

// eventPatchJSON is PATCH /api/v1/admin/events/{slug}: every field is
// optional; "" clears a detail; prices maps a sub-queue key to its price in
// minor units. Prices, currency and refund_policy are fixed once
// registration opens (409 terms_fixed).
type eventPatchJSON struct {
	RaceDate     *string               `json:"race_date"`
	RaceStart    *string               `json:"race_start"`
	Place        *string               `json:"place"`
	Description  *string               `json:"description"`
	DrawDate     *string               `json:"draw_date"`
	Currency     *string               `json:"currency"`
	RefundPolicy *refundPolicySpecJSON `json:"refund_policy"`
	Prices       map[string]int64      `json:"prices"`
}

func (h *handler) editEvent(c *gin.Context) {
	var b eventPatchJSON
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	p := lottery.EventPatch{RaceDate: b.RaceDate, RaceStart: b.RaceStart, Place: b.Place, Description: b.Description,
		DrawDate: b.DrawDate, Currency: b.Currency, RefundPolicy: b.RefundPolicy.spec(), Prices: b.Prices}
	ev, err := h.Svc.EditEvent(c.Request.Context(), staffOf(c), c.Param("slug"), p)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, eventView(ev, h.Svc.Now()))
}
