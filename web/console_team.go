package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"html/template"
	"image/png"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/pquerna/otp"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/staff"
)

// The console's Team page (issue 14): an organizer sees the organization's
// members and open invitations, invites an address as organizer or
// reviewer (a mail with a one-time link) and revokes an invitation. The
// link's page, /staff/invite/:token, is public and gated by the token: the
// invitee sets a password, the account is made in the organization, and the
// page shows the authenticator enrolment (QR code and otpauth URL) once.

func (p *pages) registerTeam(r gin.IRoutes) {
	r.GET("/admin/team", p.team)
	r.POST("/admin/team/invites", p.refuseCrossSite, p.invite)
	r.POST("/admin/team/invites/:id/revoke", p.refuseCrossSite, p.revokeInvite)
	r.GET(staff.InvitePath+":token", p.inviteForm)
	r.POST(staff.InvitePath+":token", p.refuseCrossSite, p.acceptInvite)
}

// teamPage is the Team page: the organization's members and invitations,
// the invitation form (its input kept after a refusal) and the outcome of
// the last action.
type teamPage struct {
	consoleBase
	Team  staff.Team
	Now   time.Time
	Email string
	Role  string
	Lang  string // the invitation mail's language
	Done  string // invited, revoked
}

func (p *pages) team(c *gin.Context) {
	base, ok := p.organizer(c)
	if !ok {
		return
	}
	p.showTeam(c, http.StatusOK, teamPage{consoleBase: base, Role: string(lottery.RoleReviewer), Lang: p.lang(c),
		Done: c.Query("done")}, nil)
}

// showTeam renders the Team page with the organization's members and
// invitations, and a form error when there is one.
func (p *pages) showTeam(c *gin.Context, status int, page teamPage, formErr error) {
	page.Tab = "team"
	t, err := p.Staff.Team(c.Request.Context(), page.Staff)
	if err != nil {
		p.fail(c, err)
		return
	}
	page.Team, page.Now = t, p.Svc.Now()
	p.render(c, status, "console_team", p.label(c, "team.title"), page, formErr)
}

func (p *pages) invite(c *gin.Context) {
	base, ok := p.organizerForm(c)
	if !ok {
		return
	}
	page := teamPage{consoleBase: base, Email: c.PostForm("email"), Role: c.PostForm("role"), Lang: c.PostForm("mail_lang")}
	_, err := p.Staff.Invite(c.Request.Context(), base.Staff, staff.InviteRequest{Email: page.Email,
		Role: lottery.Role(page.Role), Lang: page.Lang, Origin: p.Site.Origin(c.Request).String()})
	if err != nil {
		var e *lottery.Error
		if errors.As(err, &e) && e.Field != "" {
			p.showTeam(c, httpkit.StatusOf(err), page, err)
			return
		}
		p.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/team?done=invited")
}

func (p *pages) revokeInvite(c *gin.Context) {
	base, ok := p.organizerForm(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		p.fail(c, lottery.ErrNotFound)
		return
	}
	if _, err := p.Staff.RevokeInvite(c.Request.Context(), base.Staff, id); err != nil {
		if errors.Is(err, staff.ErrInviteUnusable) {
			c.Redirect(http.StatusSeeOther, "/admin/team?done=unusable")
			return
		}
		p.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/team?done=revoked")
}

// invitePage is the accept page: the invitation, its state, and after
// acceptance the authenticator enrolment.
type invitePage struct {
	Invite staff.Invite
	Org    string
	State  string // staff.InvitePending, …
	Token  string
	// After acceptance: the otpauth:// URL, its secret for typing in, and
	// the QR code as a PNG data: URL.
	TOTPURL string
	Secret  string
	QR      template.URL
}

// inviteForm shows an invitation's page: the password form while it is
// pending, else what became of it.
func (p *pages) inviteForm(c *gin.Context) {
	page, ok := p.invitation(c)
	if !ok {
		return
	}
	p.render(c, inviteStatus(page.State), "console_team_invite", p.label(c, "invite.title"), page, nil)
}

// inviteStatus is the page's status: 200 while pending, 410 Gone once the
// invitation cannot be used.
func inviteStatus(state string) int {
	if state == staff.InvitePending {
		return http.StatusOK
	}
	return http.StatusGone
}

// invitation loads the :token invitation for its page; an unknown token is
// the 404 page.
func (p *pages) invitation(c *gin.Context) (invitePage, bool) {
	noFormSwitch(c)
	c.Header("Cache-Control", "private, no-store")
	tok := c.Param("token")
	inv, err := p.Staff.Invitation(c.Request.Context(), tok)
	if err != nil {
		p.fail(c, err)
		return invitePage{}, false
	}
	page := invitePage{Invite: inv, State: staff.InviteState(inv, p.Svc.Now()), Token: tok}
	if org, err := p.Staff.Organization(c.Request.Context(), lottery.StaffAccount{OrgID: inv.OrgID}); err == nil {
		page.Org = org.Name
	}
	return page, true
}

func (p *pages) acceptInvite(c *gin.Context) {
	page, ok := p.invitation(c)
	if !ok {
		return
	}
	if page.State != staff.InvitePending {
		p.render(c, inviteStatus(page.State), "console_team_invite", p.label(c, "invite.title"), page, nil)
		return
	}
	pw := c.PostForm("password")
	if pw != c.PostForm("password2") {
		p.render(c, http.StatusUnprocessableEntity, "console_team_invite", p.label(c, "invite.title"), page,
			lottery.Fieldf("password2", "%s", p.label(c, "invite.mismatch")))
		return
	}
	enr, err := p.Staff.AcceptInvite(c.Request.Context(), page.Token, pw)
	if err != nil {
		var e *lottery.Error
		switch {
		case errors.Is(err, staff.ErrInviteUnusable):
			page.State = staff.InviteAccepted // taken meanwhile
			p.render(c, http.StatusGone, "console_team_invite", p.label(c, "invite.title"), page, nil)
		case errors.As(err, &e) && e.Code != lottery.CodeInternal && e.Code != lottery.CodeUnavailable:
			p.render(c, httpkit.StatusOf(err), "console_team_invite", p.label(c, "invite.title"), page, err)
		default:
			p.fail(c, err)
		}
		return
	}
	page.State, page.TOTPURL = staff.InviteAccepted, enr.TOTPURL
	if key, err := otp.NewKeyFromURL(enr.TOTPURL); err == nil {
		page.Secret = key.Secret()
		page.QR = qrDataURL(key)
	}
	p.render(c, http.StatusOK, "console_team_invite", p.label(c, "invite.title"), page, nil)
}

// qrDataURL is the enrolment's QR code as a PNG data: URL ("" if it cannot
// be drawn: the page still shows the URL and the secret).
func qrDataURL(key *otp.Key) template.URL {
	img, err := key.Image(240, 240)
	if err != nil {
		return ""
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return ""
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes()))
}
