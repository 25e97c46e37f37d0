package web

// A draft event edited in full (issue 14): until it is published, the edit
// form is the create form (every field but the slug) and saving replaces
// the draft through lottery.Service.ReplaceDraft, validated as creating
// is. A published event's form keeps its locked parts (saveEventForm).

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
)

// saveDraftForm saves the edit form of a draft.
func (p *pages) saveDraftForm(c *gin.Context, base consoleBase) {
	ev := base.Event
	page := p.editPage(c, base)
	page.Form = readEventForm(c)
	page.Form.Slug = ev.Slug // shown, not posted: the slug cannot change
	p.submitEventForm(c, page, func(spec lottery.EventSpec) error {
		_, err := p.Svc.ReplaceDraft(c.Request.Context(), base.Staff, ev.Slug, spec)
		return err
	})
}

// submitEventForm answers a posted full event form (creating, or editing a
// draft): an "add another" button shows the form with one more row; else
// save stores the spec the form describes. A refused form is shown again
// as typed with the error beside its input, and nothing is stored.
func (p *pages) submitEventForm(c *gin.Context, page eventFormPage, save func(lottery.EventSpec) error) {
	if add := c.PostForm("add"); add != "" {
		page.Form = page.Form.padded(add, true)
		p.renderEventForm(c, http.StatusOK, page, nil)
		return
	}
	page.Form = page.Form.compact()
	spec, err := page.Form.spec()
	if err == nil {
		err = save(spec)
	}
	if err != nil {
		page.Form = page.Form.padded("", true)
		p.renderEventForm(c, httpkit.StatusOf(err), page, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/events/"+spec.Slug+"/edit?saved=1")
}
