package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
)

// Deferral on the status page (issue 15): a confirmed runner, where the
// event allows it, defers to the series' next edition. The section names
// the fee and the deadline; the confirmation step says what it means and
// carries the button. The receipt token in the form authenticates it, as
// for give-back, and a form posted from another site is refused.

func (p *pages) registerDefer(r gin.IRoutes) {
	r.GET("/entries/:id/defer", p.deferConfirm)
	r.POST("/entries/:id/defer", p.refuseCrossSite, p.deferEntry)
}

// deferSection is the status page's deferral part.
type deferSection struct {
	Can      bool // the entry may defer now
	Pending  bool // deferred, its fee not paid yet (deferfee.go): PayBy ends the time to pay
	Fee      lottery.Money
	Deadline time.Time
	Link     string // the confirmation step
	Done     bool   // deferred
	Used     bool   // the next edition's entry exists
	PayBy    time.Time
	Token    string // the receipt token, for the pay form
}

// deferSection fills the section for an entry whose receipt the caller
// checked; failures only hide it (the status page must still show).
func (p *pages) deferSection(c *gin.Context, v lottery.EntryView, tok string) deferSection {
	var s deferSection
	if p.Offers == nil {
		return s
	}
	ctx := c.Request.Context()
	switch v.Entry.Status {
	case lottery.EntryDeferred:
		d, err := p.Offers.EntryDeferral(ctx, v.Entry.ID, tok)
		if err != nil {
			p.Log.WarnContext(ctx, "deferral not read", "entry_id", v.Entry.ID, "err", err)
			return s
		}
		s.Done, s.Used, s.Fee = true, d.State == lottery.DeferralUsed, d.Fee
	case lottery.EntryConfirmed:
		if v.Entry.PickedUpAt != nil { // the bib is with this runner (lottery.ErrDeferralPickedUp)
			return s
		}
		if d, err := p.Offers.EntryDeferral(ctx, v.Entry.ID, tok); err == nil && d.State == lottery.DeferralPending {
			s.Pending, s.Fee, s.PayBy, s.Token = true, d.Fee, d.PayBy, tok
			return s
		}
		set, ok, err := p.Offers.DeferralQuote(ctx, v.Entry.ID, tok)
		if err != nil || !ok {
			return s
		}
		s.Can, s.Deadline = true, set.Deadline
		s.Fee = lottery.Money{Amount: set.FeeMinor, Currency: v.Event.Currency}
		s.Link = "/entries/" + v.Entry.ID + "/defer?token=" + url.QueryEscape(tok)
	}
	return s
}

// deferPage is the confirmation step.
type deferPage struct {
	View    lottery.EntryView
	Token   string
	Section deferSection
	Back    string // the status page
}

// deferStep is the deferral's confirmation step.
func (p *pages) deferStep() confirmStep {
	return confirmStep{page: "defer", anchor: "defer", refuse: lottery.ErrDeferralClosed,
		build: func(c *gin.Context, v lottery.EntryView, tok, back string) (any, bool, bool) {
			s := p.deferSection(c, v, tok)
			return deferPage{View: v, Token: tok, Section: s, Back: back}, s.Can, s.Done
		}}
}

// deferConfirm shows what deferring means and its fee, with the button.
func (p *pages) deferConfirm(c *gin.Context) {
	p.showStep(c, p.deferStep(), c.Query("token"), http.StatusOK, nil)
}

// deferEntry defers and returns to the status page, which then says so.
func (p *pages) deferEntry(c *gin.Context) {
	tok := c.PostForm("token")
	d, err := p.Offers.Defer(c.Request.Context(), c.Param("id"), tok)
	if err == nil && d.State == lottery.DeferralPending {
		p.toDeferralCheckout(c, tok) // a fee: on to its checkout
		return
	}
	p.finishStep(c, p.deferStep(), tok, err)
}
