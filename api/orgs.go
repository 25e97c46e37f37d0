package api

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// orgScope runs before every admin route (issue 14, organizations): a route
// under /admin/events/:slug acts only on an event of the organizer's
// organization (lottery.Service.ManagedEvent), one under /admin/series/:slug
// only on its series (series.Service.Managed). Another organization's event
// or series is 404 not_found, as if it did not exist, and the handler never
// runs, so nothing changes. A route added to the admin group later is
// checked by its path pattern without a line of its own.
func (h *handler) orgScope(c *gin.Context) {
	route := strings.TrimPrefix(c.FullPath(), "/api/v1/admin")
	ctx, acct, slug := c.Request.Context(), staffOf(c), c.Param("slug")
	var err error
	switch {
	case strings.HasPrefix(route, "/events/:slug"):
		_, err = h.Svc.ManagedEvent(ctx, acct, slug)
	case strings.HasPrefix(route, "/series/:slug"):
		_, err = h.Series.Managed(ctx, acct, slug)
	}
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.Next()
}
