package web

import (
	"github.com/gin-gonic/gin"
)

// The reviewers' appeals page: an event's appeals of rejections, open ones
// first, each with the runner's message, the entry's reasons and what it
// shares with other entries, and the decision form (reinstate or uphold).

func (p *pages) registerAppeals(r gin.IRoutes) {
	r.GET("/review/appeals", p.reviewAppeals)
	r.POST("/review/appeals/:id/decision", p.refuseCrossSite, p.decideAppeal)
}

func (p *pages) reviewAppeals(c *gin.Context) {
	showReviewCases(p, c, "review_appeals", "appeals.title", p.Review.Appeals)
}

// decideAppeal takes a reviewer's decision from the console (CSRF token
// bound to the session, and same-site only).
func (p *pages) decideAppeal(c *gin.Context) {
	acct, _, ok := p.staffForm(c)
	if !ok {
		return
	}
	_, err := p.Review.DecideAppeal(c.Request.Context(), acct, c.Param("id"), c.PostForm("decision"), c.PostForm("note"))
	p.caseDecided(c, "/review/appeals", "decided", err)
}
