package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/registration"
)

// registerTransfers mounts the face-value transfer routes (issue 15): the
// giver's (API.md POST /entries/{id}/transfer → 202, and its cancel) and
// the recipient's, by the link's token.
func (h *handler) registerTransfers(v1 *gin.RouterGroup) {
	v1.POST("/entries/:id/transfer", h.offerTransfer)
	v1.POST("/entries/:id/transfer/cancel", h.cancelTransfer)
	v1.GET("/transfers/:token", h.getTransfer)
	v1.POST("/transfers/:token/otp", h.transferOTP)
	v1.POST("/transfers/:token/accept", h.acceptTransfer)
	v1.POST("/transfers/:token/pay", h.payTransfer)
	admin := v1.Group("/admin", h.staffAuth, requireRole(lottery.RoleOrganizer), h.orgScope)
	admin.PUT("/events/:slug/transfer-policy", h.setTransferPolicy)
}

// setTransferPolicy sets the event's transfers: {"deadline" (RFC 3339, or
// null: until the race), "max" (0: none), "fee" (minor units)}.
func (h *handler) setTransferPolicy(c *gin.Context) {
	var b struct {
		Deadline *time.Time `json:"deadline"`
		Max      int        `json:"max"`
		Fee      int64      `json:"fee"`
	}
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	p := offers.TransferPolicy{Deadline: b.Deadline, Max: b.Max, FeeMinor: b.Fee}
	if err := h.Offers.SetTransferPolicy(c.Request.Context(), staffOf(c), c.Param("slug"), p); err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"deadline": b.Deadline, "max": b.Max, "fee": b.Fee})
}

// transferJSON is a transfer as its giver and recipient see it: the price
// the recipient pays (face value), the fee and the giver's refund.
type transferJSON struct {
	TransferID string    `json:"transfer_id"`
	Event      string    `json:"event"`
	SubQueue   string    `json:"subqueue"`
	State      string    `json:"state"`
	Price      priceJSON `json:"price"`
	Fee        priceJSON `json:"fee"`
	Refund     priceJSON `json:"refund"`
	ExpiresAt  time.Time `json:"expires_at"`
	// The recipient's entry and its receipt token, once verified (to the
	// holder of the link only).
	EntryID      string `json:"entry_id,omitempty"`
	ReceiptToken string `json:"receipt_token,omitempty"`
}

func (h *handler) transferView(t offers.Transfer, withEntry bool) transferJSON {
	money := func(n int64) priceJSON { return moneyJSON(lottery.Money{Amount: n, Currency: t.Currency}) }
	out := transferJSON{TransferID: t.ID, Event: t.EventSlug, SubQueue: t.SubQueue, State: t.State, Price: money(t.PriceMinor),
		Fee: money(t.FeeMinor), Refund: money(offers.TransferRefund(t.PriceMinor, t.FeeMinor)), ExpiresAt: t.ExpiresAt}
	if withEntry && t.ToEntry != "" {
		out.EntryID, out.ReceiptToken = t.ToEntry, h.Offers.RecipientReceipt(t)
	}
	return out
}

type transferBody struct {
	Token   string `json:"token"`
	ToEmail string `json:"to_email"`
	Lang    string `json:"lang"` // the recipient's mail language; else the request's
}

// offerTransfer names a recipient for the entry's confirmed place (202:
// the recipient is mailed the link).
func (h *handler) offerTransfer(c *gin.Context) {
	var b transferBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	lang, err := runnerLang(b.Lang, c.GetHeader("Accept-Language"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	res, err := h.Offers.OfferTransfer(c.Request.Context(), c.Param("id"), b.Token, b.ToEmail, lang)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusAccepted, h.transferView(res.Transfer, false))
}

func (h *handler) cancelTransfer(c *gin.Context) {
	var b tokenBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	t, err := h.Offers.CancelTransfer(c.Request.Context(), c.Param("id"), b.Token)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, h.transferView(t, false))
}

func (h *handler) getTransfer(c *gin.Context) {
	if err := h.gate.Limit(c); err != nil {
		writeError(c, h.Log, err)
		return
	}
	t, _, err := h.Offers.OpenTransfer(c.Request.Context(), c.Param("token"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, h.transferView(t, true))
}

func (h *handler) transferOTP(c *gin.Context) {
	var b struct {
		Lang string `json:"lang"`
	}
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	if err := h.gate.Limit(c); err != nil {
		writeError(c, h.Log, err)
		return
	}
	lang, err := runnerLang(b.Lang, c.GetHeader("Accept-Language"))
	if err == nil {
		err = h.Offers.TransferOTP(c.Request.Context(), c.Param("token"), lang, h.gate.Client(c))
	}
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "sent"})
}

type acceptTransferBody struct {
	Name      string            `json:"name"`
	Phone     string            `json:"phone"`
	BirthDate string            `json:"birth_date"`
	OTP       string            `json:"otp"`
	Website   string            `json:"website"`
	Signals   json.RawMessage   `json:"signals"`
	Answers   map[string]any    `json:"answers"`
	Consents  map[string]string `json:"consents"`
	Lang      string            `json:"lang"`
}

// acceptTransfer takes the recipient's form and code: their entry is made
// (awaiting payment) or refused as a duplicate.
func (h *handler) acceptTransfer(c *gin.Context) {
	var b acceptTransferBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	if err := h.gate.Limit(c); err != nil {
		writeError(c, h.Log, err)
		return
	}
	lang, err := runnerLang(b.Lang, c.GetHeader("Accept-Language"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	req := registration.ApplyRequest{Name: b.Name, Phone: b.Phone, BirthDate: b.BirthDate, OTP: b.OTP, Website: b.Website,
		Signals: b.Signals, Answers: b.Answers, Consents: b.Consents, Lang: lang}
	t, err := h.Offers.AcceptTransfer(c.Request.Context(), c.Param("token"), req, h.gate.Client(c))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, h.transferView(t, true))
}

// payTransfer starts the recipient's payment of the face value.
func (h *handler) payTransfer(c *gin.Context) {
	if _, ok := h.bind(c, &struct{}{}); !ok {
		return
	}
	ret, ok := h.returnURL(c)
	if !ok {
		return
	}
	p, t, err := h.Offers.PayTransfer(c.Request.Context(), c.Param("token"), ret)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"transfer_id": t.ID, "offer_id": p.OfferID, "payment_id": p.ID, "status": p.Status,
		"checkout_url": h.checkoutURL(c, p)})
}
