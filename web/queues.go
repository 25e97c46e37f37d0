package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
)

// The Asynq monitor (asynqmon) for signed-in staff, at QueuesPath and
// below. The handler is passed in (Deps.Queues) so web does not depend on
// the queue library. Its page calls its own JSON API with XHRs that carry
// no CSRF token, so a change (any method but GET/HEAD) must come from this
// site's own pages as the browser reports them (httpkit.Site.SameOrigin).

// QueuesPath is where the monitor is mounted (its RootPath).
const QueuesPath = "/admin/queues"

func (p *pages) registerQueues(r gin.IRoutes) {
	if p.Queues == nil {
		return
	}
	r.Any(QueuesPath, p.queues)
	r.Any(QueuesPath+"/*rest", p.queues)
}

// queues serves the monitor to a signed-in staff member of the operating
// organization (lottery.MayOperate); other organizations' staff get 403. Anonymous: the
// monitor's JSON API answers 401, its pages redirect (302) to the login.
func (p *pages) queues(c *gin.Context) {
	api := strings.HasPrefix(c.Request.URL.Path, QueuesPath+"/api/")
	if m := c.Request.Method; m != http.MethodGet && m != http.MethodHead && !p.Site.SameOrigin(c.Request) {
		p.queuesRefuse(c, api, lottery.ErrCSRFFailed)
		return
	}
	tok, err := c.Cookie(httpkit.StaffCookie)
	if err == nil {
		acct, aerr := p.Staff.Authenticate(c.Request.Context(), tok)
		if aerr == nil && lottery.CanReview(acct.Role) {
			org, oerr := p.Staff.Organization(c.Request.Context(), acct)
			if oerr != nil {
				p.queuesRefuse(c, api, oerr)
				return
			}
			if !lottery.MayOperate(acct, org) {
				p.queuesRefuse(c, api, lottery.ErrForbidden)
				return
			}
			c.Header("Cache-Control", "no-store")
			p.serveQueues(c, api) // queues_outage.go: a Redis failure is a 503
			return
		}
		if lottery.CodeOf(aerr) == lottery.CodeUnavailable {
			p.queuesRefuse(c, api, aerr) // the session may be fine: do not send them to log in again
			return
		}
	}
	if api || c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		p.queuesRefuse(c, true, lottery.ErrUnauthorized)
		return
	}
	c.Redirect(http.StatusFound, "/staff/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
}

// queuesRefuse answers a refusal as the API's JSON error for the monitor's
// XHRs, else as an error page.
func (p *pages) queuesRefuse(c *gin.Context, api bool, err error) {
	if !api {
		p.fail(c, err)
		c.Abort()
		return
	}
	var e *lottery.Error
	if !errors.As(err, &e) {
		p.Log.ErrorContext(c.Request.Context(), "queues error", "err", err)
		e = &lottery.Error{Code: lottery.CodeInternal, Message: "internal error"}
	}
	if e.Code == lottery.CodeUnavailable {
		httpkit.Unavailable(c, p.Log, err)
	}
	c.AbortWithStatusJSON(httpkit.StatusOf(e), gin.H{"error": gin.H{"code": e.Code, "message": e.Message, "field": e.Field}})
}
