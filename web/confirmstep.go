package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
)

// confirmStep is a status page action's confirmation step (give-back,
// deferral): a page of its own reached with the receipt token, showing
// what the action means and the button that does it.
type confirmStep struct {
	page   string // the template
	anchor string // the status page's section, where the step returns
	refuse error  // the answer when the entry cannot take the step (409)
	// build makes the page's data for an entry whose receipt is checked:
	// can, it may take the step now; done, it took it before.
	build func(c *gin.Context, v lottery.EntryView, tok, back string) (data any, can, done bool)
}

// show renders the step (or a refusal of it with its status); an entry
// that took the step before returns to its status page.
func (p *pages) showStep(c *gin.Context, st confirmStep, tok string, status int, refused error) {
	v, err := p.Registration.EntryStatus(c.Request.Context(), c.Param("id"), tok)
	if err != nil {
		p.fail(c, err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	back := "/entries/" + v.Entry.ID + "?token=" + url.QueryEscape(tok)
	data, can, done := st.build(c, v, tok, back)
	if !can && refused == nil {
		if done {
			c.Redirect(http.StatusSeeOther, back+"#"+st.anchor)
			return
		}
		status, refused = http.StatusConflict, st.refuse
	}
	p.render(c, status, st.page, v.Event.Name, data, refused)
}

// finishStep answers the step's POST: back to the status page's section
// once done; a refusal shows the step again with it (409); a bad id or
// token, or a failure, is the error page.
func (p *pages) finishStep(c *gin.Context, st confirmStep, tok string, err error) {
	if err != nil {
		switch lottery.CodeOf(err) {
		case lottery.CodeNotFound, lottery.CodeInternal, lottery.CodeUnavailable:
			p.fail(c, err)
		default:
			p.showStep(c, st, tok, http.StatusConflict, err)
		}
		return
	}
	c.Redirect(http.StatusSeeOther, "/entries/"+url.PathEscape(strings.ToLower(c.Param("id")))+"?token="+url.QueryEscape(tok)+"#"+st.anchor)
}
