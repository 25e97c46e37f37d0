package web

// The organizer console (issue 14): /admin and the pages under it. Every
// page is reached through organizer (a signed-in organizer, else the login
// or 403) and, for one event, consoleEvent (lottery.Service.ManagedEvent:
// another organization's event is a 404, as if it did not exist).

import (
	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
)

// consoleBase is what every console page's header shows: who is signed in,
// for which organization, the session's CSRF token for its forms, and the
// event and tab when the page is one event's.
type consoleBase struct {
	Staff   lottery.StaffAccount
	OrgName string
	CSRF    string
	Event   lottery.Event // zero on pages of no one event
	Tab     string        // the event tab shown as current: overview, edit, entries, dashboard, exports, audit

	session string // the staff session token, which form CSRF tokens are bound to
}

// organizer returns the signed-in organizer and the console header, or
// answers: anonymous to the login (302 via staff), a reviewer 403.
func (p *pages) organizer(c *gin.Context) (consoleBase, bool) {
	acct, tok, ok := p.staff(c)
	if !ok {
		return consoleBase{}, false
	}
	if acct.Role != lottery.RoleOrganizer {
		p.fail(c, lottery.ErrForbidden)
		return consoleBase{}, false
	}
	base := consoleBase{Staff: acct, CSRF: p.csrf(tok), session: tok}
	if org, err := p.Staff.Organization(c.Request.Context(), acct); err == nil {
		base.OrgName = org.Name
	} else if lottery.CodeOf(err) == lottery.CodeUnavailable {
		p.fail(c, err)
		return consoleBase{}, false
	}
	c.Header("Cache-Control", "private, no-store")
	return base, true
}

// organizerForm is organizer for a posted console form: the CSRF token must
// match the session.
func (p *pages) organizerForm(c *gin.Context) (consoleBase, bool) {
	base, ok := p.organizer(c)
	if !ok {
		return base, false
	}
	if !httpkit.ValidCSRF(p.Guard.CookieKey, base.session, c.PostForm("csrf")) {
		p.fail(c, lottery.ErrCSRFFailed)
		return consoleBase{}, false
	}
	return base, true
}

// consoleEvent loads the :slug event for an organizer's page (ManagedEvent)
// and sets it and the tab on base; a failure is rendered.
func (p *pages) consoleEvent(c *gin.Context, base *consoleBase, tab string) bool {
	ev, err := p.Svc.ManagedEvent(c.Request.Context(), base.Staff, c.Param("slug"))
	if err != nil {
		p.fail(c, err)
		return false
	}
	base.Event, base.Tab = ev, tab
	return true
}
