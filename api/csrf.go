package api

import (
	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
)

// checkCSRF guards a state change authenticated by the session cookie:
// the session's CSRF token in X-CSRF-Token, or a same-origin browser
// request. SameSite=Strict alone is not enough (a sibling subdomain is
// same-site; older browsers ignore it), and neither is the JSON content
// type: the handlers read bodies sent as text/plain, which any page can
// post. Bearer tokens are not sent by browsers on their own and are exempt.
func (h *handler) checkCSRF(c *gin.Context, session string) bool {
	if !httpkit.ChangesState(c.Request.Method) || h.Site.SameOrigin(c.Request) ||
		httpkit.ValidCSRF(h.Guard.CookieKey, session, c.GetHeader(httpkit.CSRFHeader)) {
		return true
	}
	writeError(c, h.Log, lottery.ErrCSRFFailed)
	return false
}

// refuseCrossSite stops a login posted from another site's page (login
// CSRF: signing a victim's browser in to the attacker's account). Scripts
// send neither Origin nor fetch metadata and pass.
func (h *handler) refuseCrossSite(c *gin.Context) {
	if h.Site.CrossSite(c.Request) {
		writeError(c, h.Log, lottery.ErrCSRFFailed)
		return
	}
	c.Next()
}
