package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/startline/startline/lottery"
)

// i13-pages: the status page's absolute link, the decline confirmation and
// a declined card's message.

// entryExtras fills what the status page adds to the entry: the absolute
// status link, whether the decline confirmation is open, and how the
// offer's payment stands.
func (p *pages) entryExtras(c *gin.Context, page *entryPage) error {
	abs, err := p.Site.Absolute(c.Request, page.Link)
	if err != nil {
		return err
	}
	page.AbsLink = abs
	page.Defer = p.deferSection(c, page.View, page.Token)
	o := page.View.Offer
	if o == nil {
		return nil
	}
	page.ConfirmDecline = c.Query("decline") == "1" && (o.Status == lottery.OfferPending || o.Status == lottery.OfferAccepted)
	if p.Offers != nil {
		st, err := p.Offers.PaymentState(c.Request.Context(), *o)
		if err != nil {
			return err
		}
		page.PayState = st
	}
	return nil
}

// confirmDecline answers a decline posted without its confirmation (an old
// page, a form without the details element): the status page with the
// confirmation open at the offer. A wrong token or offer is a 404, as on
// the status page.
func (p *pages) confirmDecline(c *gin.Context, tok string) {
	if _, err := uuid.Parse(c.Param("id")); err != nil {
		p.fail(c, lottery.ErrNotFound)
		return
	}
	o, err := p.Offers.OfferOf(c.Request.Context(), strings.ToLower(c.Param("id")))
	if err != nil {
		p.fail(c, err)
		return
	}
	if _, err := p.Registration.EntryStatus(c.Request.Context(), o.EntryID, tok); err != nil {
		p.fail(c, err) // a wrong token learns nothing, not even the entry
		return
	}
	c.Redirect(http.StatusSeeOther, "/entries/"+url.PathEscape(o.EntryID)+"?token="+url.QueryEscape(tok)+"&decline=1#offer")
}
