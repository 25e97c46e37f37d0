package web

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
)

// Give-back on the status page (issue 13): a runner holding an accepted or
// paid place gives it back; the page first states the refund the event's
// policy gives at that moment and asks for confirmation. The receipt token
// in the form authenticates it, as on the offer buttons, and a form posted
// from another site is refused (refuseCrossSite).

func (p *pages) registerGiveBack(r gin.IRoutes) {
	r.GET("/entries/:id/give-back", p.giveBackConfirm)
	r.POST("/entries/:id/give-back", p.refuseCrossSite, p.giveBack)
}

// giveBackSection is the status page's give-back part.
type giveBackSection struct {
	Can     bool          // the entry holds a place it may give back now
	Paid    bool          // the place is paid
	Refund  lottery.Money // what the policy gives now (Can), or gave (Done)
	Percent int
	Price   lottery.Money // what the place cost
	Link    string        // the confirmation step
	Done    bool          // given back
	State   string        // offers.RefundNone, RefundDone or RefundPending
}

// giveBackSection fills the section for an entry whose receipt the caller
// checked; failures only hide it (the status page must still show).
func (p *pages) giveBackSection(c *gin.Context, v lottery.EntryView, tok string) giveBackSection {
	var s giveBackSection
	o := v.Offer
	if o == nil || p.Offers == nil {
		return s
	}
	ctx := c.Request.Context()
	s.Price = v.Event.PriceOf(o.SubQueue)
	switch {
	case o.Status == lottery.OfferVoid && v.Entry.Status == lottery.EntryWithdrawn:
		r, err := p.Offers.RefundOf(ctx, o.ID)
		if err != nil {
			p.Log.WarnContext(ctx, "give-back refund not read", "offer_id", o.ID, "err", err)
		}
		res := offers.GiveBackResult{Offer: *o, Refund: r}
		s.Done, s.Refund, s.State = true, r.Amount, res.RefundState()
	case offers.GiveBackable(*o, v.Event, p.Svc.Now()) == nil:
		refund, pct, err := p.Offers.RefundQuote(ctx, v.Entry.ID, tok)
		if err != nil {
			return s
		}
		s.Can, s.Paid, s.Refund, s.Percent = true, o.Status == lottery.OfferPaid, refund, pct
		s.Link = "/entries/" + v.Entry.ID + "/give-back?token=" + url.QueryEscape(tok)
	}
	return s
}

// giveBackPage is the confirmation step.
type giveBackPage struct {
	View    lottery.EntryView
	Token   string
	Section giveBackSection
	Back    string // the status page
}

// giveBackStep is the give-back confirmation step.
func (p *pages) giveBackStep() confirmStep {
	return confirmStep{page: "giveback", anchor: "giveback", refuse: lottery.ErrNoSlotHeld,
		build: func(c *gin.Context, v lottery.EntryView, tok, back string) (any, bool, bool) {
			s := p.giveBackSection(c, v, tok)
			return giveBackPage{View: v, Token: tok, Section: s, Back: back}, s.Can, s.Done
		}}
}

// giveBackConfirm shows what giving the place back means and the refund
// it would bring now, with the button that does it.
func (p *pages) giveBackConfirm(c *gin.Context) {
	p.showStep(c, p.giveBackStep(), c.Query("token"), http.StatusOK, nil)
}

// giveBack gives the place back and returns to the status page, which then
// says so and names the refund.
func (p *pages) giveBack(c *gin.Context) {
	tok := c.PostForm("token")
	_, err := p.Offers.GiveBack(c.Request.Context(), c.Param("id"), tok)
	p.finishStep(c, p.giveBackStep(), tok, err)
}
