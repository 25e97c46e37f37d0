package web

import (
	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/review"
)

// clusterLinks loads what links a cluster's entries (card, phone run, rare
// domain...) for the reviewer's queue and entry pages; no cluster, no
// links. A failure is rendered and ok is false.
func (p *pages) clusterLinks(c *gin.Context, acct lottery.StaffAccount, slug, clusterID string) ([]review.ClusterLink, bool) {
	if clusterID == "" || slug == "" {
		return nil, true
	}
	links, err := p.Review.ClusterLinks(c.Request.Context(), acct, slug, clusterID)
	if err != nil {
		p.fail(c, err)
		return nil, false
	}
	return links, true
}
