package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
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
	Fee      lottery.Money
	Deadline time.Time
	Link     string // the confirmation step
	Done     bool   // deferred
	Used     bool   // the next edition's entry exists
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

func (p *pages) deferConfirm(c *gin.Context) { p.showDefer(c, c.Query("token"), http.StatusOK, nil) }

func (p *pages) showDefer(c *gin.Context, tok string, status int, refused error) {
	v, err := p.Registration.EntryStatus(c.Request.Context(), c.Param("id"), tok)
	if err != nil {
		p.fail(c, err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	back := "/entries/" + v.Entry.ID + "?token=" + url.QueryEscape(tok)
	s := p.deferSection(c, v, tok)
	if !s.Can && refused == nil {
		if s.Done {
			c.Redirect(http.StatusSeeOther, back+"#defer")
			return
		}
		status, refused = http.StatusConflict, lottery.ErrDeferralClosed
	}
	p.render(c, status, "defer", v.Event.Name, deferPage{View: v, Token: tok, Section: s, Back: back}, refused)
}

// deferEntry defers and returns to the status page, which then says so.
func (p *pages) deferEntry(c *gin.Context) {
	tok := c.PostForm("token")
	if _, err := p.Offers.Defer(c.Request.Context(), c.Param("id"), tok); err != nil {
		var le *lottery.Error
		if !errors.As(err, &le) || le.Code == lottery.CodeNotFound || le.Code == lottery.CodeUnavailable {
			p.fail(c, err)
			return
		}
		p.showDefer(c, tok, http.StatusConflict, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/entries/"+url.PathEscape(strings.ToLower(c.Param("id")))+"?token="+url.QueryEscape(tok)+"#defer")
}
