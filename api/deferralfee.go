package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
)

// registerDeferralFee mounts the runner's payment of a deferral's fee
// (issue 15): POST /entries/:id/deferral/pay with the receipt token starts
// the provider's checkout; the deferral is held once the provider's
// webhook reports the payment captured.
func (h *handler) registerDeferralFee(v1 *gin.RouterGroup) {
	v1.POST("/entries/:id/deferral/pay", h.payDeferral)
}

// payDeferral answers 200 with the payment and its checkout; 409
// invalid_transition when no deferral awaits its fee (or its time to pay
// has passed); a wrong token 404.
func (h *handler) payDeferral(c *gin.Context) {
	var b tokenBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	ret, ok := h.returnURL(c)
	if !ok {
		return
	}
	p, err := h.Offers.PayDeferral(c.Request.Context(), c.Param("id"), b.Token, ret)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"entry_id": c.Param("id"), "offer_id": p.OfferID, "payment_id": p.ID, "status": p.Status,
		"amount": moneyJSON(lottery.Money{Amount: p.AmountMinor, Currency: p.Currency}), "checkout_url": h.checkoutURL(c, p)})
}
