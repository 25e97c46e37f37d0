package web

// A draft event edited in full (issue 14): until it is published, the edit
// form is the create form (every field but the slug) and saving replaces
// the draft through lottery.Service.ReplaceDraft, validated as creating
// is. A published event's form keeps its locked parts (saveEventForm).

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
)

// saveDraftForm saves the edit form of a draft: "add another" buttons show
// the form with one more row; a refused form is shown again as typed with
// the error beside its input, and nothing is stored.
func (p *pages) saveDraftForm(c *gin.Context, base consoleBase) {
	ev := base.Event
	page := p.editPage(c, base)
	page.Form = readEventForm(c)
	page.Form.Slug = ev.Slug // shown, not posted: the slug cannot change
	if add := c.PostForm("add"); add != "" {
		page.Form = page.Form.padded(add, true)
		p.renderEventForm(c, http.StatusOK, page, nil)
		return
	}
	page.Form = page.Form.compact()
	spec, err := page.Form.spec()
	if err == nil {
		_, err = p.Svc.ReplaceDraft(c.Request.Context(), base.Staff, ev.Slug, spec)
	}
	if err != nil {
		page.Form = page.Form.padded("", true)
		p.renderEventForm(c, httpkit.StatusOf(err), page, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/events/"+ev.Slug+"/edit?saved=1")
}
