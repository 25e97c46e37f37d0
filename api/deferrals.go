package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
)

// registerDeferrals mounts deferral (issue 15): the runner's
// POST /entries/:id/defer and the organizer's terms under
// /admin/events/:slug/deferral (orgScope checks the event's organization).
func (h *handler) registerDeferrals(v1, admin *gin.RouterGroup) {
	v1.POST("/entries/:id/defer", h.deferEntry)
	v1.POST("/entries/:id/deferral", h.entryDeferral) // POST: the token stays out of URLs and logs
	admin.GET("/events/:slug/deferral", h.deferralSettings)
	admin.PUT("/events/:slug/deferral", h.setDeferralSettings)
}

// deferralJSON answers a deferral: held for the series until the next
// edition is published, then used by a confirmed entry there.
type deferralJSON struct {
	EntryID   string    `json:"entry_id"`
	Status    string    `json:"status"` // the entry's: deferred
	Series    string    `json:"series"`
	FromEvent string    `json:"from_event"`
	SubQueue  string    `json:"subqueue"`
	State     string    `json:"state"` // pending (its fee unpaid), held, used, cancelled
	Fee       priceJSON `json:"fee"`
	CreatedAt time.Time `json:"created_at"`
	// PayBy ends a pending deferral's time to pay its fee
	// (POST /entries/{id}/deferral/pay); unpaid by then it is cancelled.
	PayBy *time.Time `json:"pay_by,omitempty"`
	Next  *struct {
		Event    string `json:"event"`
		SubQueue string `json:"subqueue"`
		EntryID  string `json:"entry_id"`
	} `json:"next,omitempty"`
}

func deferralView(d lottery.Deferral) deferralJSON {
	status := lottery.EntryDeferred
	if d.State == lottery.DeferralPending || d.State == lottery.DeferralCancelled {
		status = lottery.EntryConfirmed // the place is kept until the fee is paid
	}
	out := deferralJSON{EntryID: d.EntryID, Status: string(status), Series: d.Series, FromEvent: d.FromEvent,
		SubQueue: d.SubQueue, State: string(d.State), Fee: moneyJSON(d.Fee), CreatedAt: d.CreatedAt.UTC()}
	if d.State == lottery.DeferralPending && !d.PayBy.IsZero() {
		t := d.PayBy.UTC()
		out.PayBy = &t
	}
	if d.ToEntryID != "" {
		out.Next = &struct {
			Event    string `json:"event"`
			SubQueue string `json:"subqueue"`
			EntryID  string `json:"entry_id"`
		}{d.ToEvent, d.ToSubQueue, d.ToEntryID}
	}
	return out
}

// deferEntry defers a confirmed entry with its receipt token: 200 with the
// deferral; 409 not_confirmed, no_next_edition, deferral_closed,
// deferral_full; a wrong token 404.
func (h *handler) deferEntry(c *gin.Context) {
	var b tokenBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	d, err := h.Offers.Defer(c.Request.Context(), c.Param("id"), b.Token)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, deferralView(d))
}

// entryDeferral returns an entry's deferral; 404 when it made none.
func (h *handler) entryDeferral(c *gin.Context) {
	var b tokenBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	d, err := h.Offers.EntryDeferral(c.Request.Context(), c.Param("id"), b.Token)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, deferralView(d))
}

// deferralSettingsJSON is an event's deferral terms; a null deadline:
// deferral is not offered.
type deferralSettingsJSON struct {
	Deadline *time.Time `json:"deadline"`
	FeeMinor int64      `json:"fee_minor"`
	Cap      int        `json:"cap"` // per sub-queue; 0: no cap
}

func settingsView(d lottery.DeferralSettings) deferralSettingsJSON {
	out := deferralSettingsJSON{FeeMinor: d.FeeMinor, Cap: d.Cap}
	if d.Offered() {
		t := d.Deadline.UTC()
		out.Deadline = &t
	}
	return out
}

func (h *handler) deferralSettings(c *gin.Context) {
	d, err := h.Offers.DeferralSettings(c.Request.Context(), staffOf(c), c.Param("slug"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, settingsView(d))
}

// setDeferralSettings sets the event's deferral terms: 200 with them; 422
// naming the bad field.
func (h *handler) setDeferralSettings(c *gin.Context) {
	var b deferralSettingsJSON
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	in := lottery.DeferralSettings{FeeMinor: b.FeeMinor, Cap: b.Cap}
	if b.Deadline != nil {
		in.Deadline = *b.Deadline
	}
	d, err := h.Offers.SetDeferralSettings(c.Request.Context(), staffOf(c), c.Param("slug"), in)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, settingsView(d))
}
