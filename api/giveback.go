package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
)

// giveBackJSON answers POST /api/v1/entries/{id}/give-back (API.md: 200):
// the entry is withdrawn, its offer void, and the refund the event's policy
// gave at that moment, "refunded" once the provider confirmed it,
// "pending" while it is owed (giving back again retries it), "none".
type giveBackJSON struct {
	EntryID string    `json:"entry_id"`
	Status  string    `json:"status"` // the entry's: withdrawn
	Offer   offerJSON `json:"offer"`
	Refund  struct {
		priceJSON
		Percent int    `json:"percent"`
		Status  string `json:"status"`
	} `json:"refund"`
}

// giveBack gives an entry's accepted or paid slot back with its receipt
// token; not holding one is 409 no_slot_held, a wrong token 404.
func (h *handler) giveBack(c *gin.Context) {
	var b tokenBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	res, err := h.Offers.GiveBack(c.Request.Context(), c.Param("id"), b.Token)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	out := giveBackJSON{EntryID: res.Offer.EntryID, Status: "withdrawn", Offer: offerView(res.Offer)}
	out.Refund.priceJSON = moneyJSON(res.Refund.Amount)
	out.Refund.Percent, out.Refund.Status = res.Refund.Percent, res.RefundState()
	if res.RefundState() == offers.RefundNone {
		out.Refund.Percent = 0
	}
	c.JSON(http.StatusOK, out)
}

// giveBackQuoteJSON is the entry status's "give_back": present while the
// entry holds a place it may give back, with the refund the event's policy
// gives for it now (0 for an unpaid place or past the policy's tiers).
type giveBackQuoteJSON struct {
	Refund  priceJSON `json:"refund"`
	Percent int       `json:"percent"`
}

func (h *handler) giveBackQuote(c *gin.Context, v lottery.EntryView) *giveBackQuoteJSON {
	if v.Offer == nil || offers.GiveBackable(*v.Offer, v.Event, h.Svc.Now()) != nil {
		return nil
	}
	refund, pct, err := h.Offers.RefundQuote(c.Request.Context(), v.Entry.ID, c.Query("token"))
	if err != nil {
		return nil // the status still answers; the give-back itself says why
	}
	return &giveBackQuoteJSON{Refund: moneyJSON(refund), Percent: pct}
}
