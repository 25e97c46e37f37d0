package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/selfservice"
)

// Runner self-service pages (issue 13): "my entries" (e-mail → code → the
// list), and on the status page withdraw and erase (each behind a
// confirmation page) and a rejected entry's reasons and appeal. The receipt
// token in the form authenticates a change, as on the offer buttons; the
// forms are also refused when the browser says they come from another site.

func (p *pages) registerSelf(r gin.IRoutes) {
	r.GET("/me", p.me)
	r.GET("/me/code", p.meBack) // a language switch on a posted step
	r.GET("/me/entries", p.meBack)
	r.POST("/me/code", p.refuseCrossSite, p.meCode)
	r.POST("/me/entries", p.refuseCrossSite, p.meEntries)
	r.POST("/me/lang", p.refuseCrossSite, p.meLang)
	r.GET("/entries/:id/withdraw", p.confirmSelf("withdraw"))
	r.POST("/entries/:id/withdraw", p.refuseCrossSite, p.withdraw)
	r.GET("/entries/:id/erase", p.confirmSelf("erase"))
	r.POST("/entries/:id/erase", p.refuseCrossSite, p.erase)
	r.POST("/entries/:id/appeal", p.refuseCrossSite, p.fileAppeal)
}

// mePage is the "my entries" page at one of its steps: "email", "code"
// (the code was asked for), "list".
type mePage struct {
	Step    string
	Email   string
	OTP     string // the code being typed, kept across a language switch
	Pass    string // the list's view pass (selfservice.ViewPass), for its switch
	Entries []meLine
}

// meFormID is the id of the form each step's language switch re-posts.
const meFormID = "me-form"

type meLine struct {
	selfservice.MyEntry
	Link string // absolute status link
}

func (p *pages) me(c *gin.Context) {
	p.mePage(c, http.StatusOK, mePage{Step: "email"}, nil)
}

// mePage renders a step of "my entries"; its language switch re-posts the
// step's form to /me/lang, so the step and what was typed stay.
func (p *pages) mePage(c *gin.Context, status int, page mePage, err error) {
	c.Header("Cache-Control", "private, no-store")
	switchByForm(c, meFormID, "/me/lang")
	if err != nil {
		p.refused(c, "me", p.label(c, "me.title"), page, err)
		return
	}
	p.render(c, status, "me", p.label(c, "me.title"), page, nil)
}

// meLang shows the posted step again in the other language: the address
// typed, the code step with what was typed of the code, or the list again
// by its view pass (the code was used up showing it). It mails nothing and
// spends no code; a pass that no longer holds starts again at the address.
func (p *pages) meLang(c *gin.Context) {
	p.switchLang(c)
	email := strings.TrimSpace(c.PostForm("email"))
	page := mePage{Step: "email", Email: email}
	switch c.PostForm("step") {
	case "code":
		page.Step = "code"
		if otp := c.PostForm("otp"); otpTyped.MatchString(otp) {
			page.OTP = otp
		}
	case "list":
		es, err := p.Self.EntriesByPass(c.Request.Context(), email, c.PostForm("pass"))
		if err == nil {
			if page, err = p.meList(c, email, es); err != nil {
				p.fail(c, err)
				return
			}
		}
	}
	p.mePage(c, http.StatusOK, page, nil)
}

// meList is the list step for an address's entries, with absolute status
// links and a fresh view pass.
func (p *pages) meList(c *gin.Context, email string, es []selfservice.MyEntry) (mePage, error) {
	page := mePage{Step: "list", Email: email, Pass: p.Self.ViewPass(email)}
	for _, e := range es {
		link, err := p.Site.Absolute(c.Request, e.StatusPath)
		if err != nil {
			return page, err
		}
		page.Entries = append(page.Entries, meLine{MyEntry: e, Link: link})
	}
	return page, nil
}

// meBack answers a GET of a posted step (the language switch links to the
// page's own path): the first step again, in the chosen language.
func (p *pages) meBack(c *gin.Context) {
	p.lang(c) // keeps ?lang in the cookie
	c.Redirect(http.StatusSeeOther, "/me")
}

func (p *pages) meCode(c *gin.Context) {
	email := strings.TrimSpace(c.PostForm("email"))
	page := mePage{Step: "email", Email: email}
	if err := p.Self.CheckAddress(email); err != nil {
		p.mePage(c, http.StatusUnprocessableEntity, page, err)
		return
	}
	mail, err := p.gate.MeCode(c, email)
	if err == nil && mail {
		err = p.Self.RequestCode(c.Request.Context(), email, p.lang(c))
	}
	if err != nil {
		p.mePage(c, 0, page, err)
		return
	}
	page.Step = "code"
	p.mePage(c, http.StatusOK, page, nil)
}

func (p *pages) meEntries(c *gin.Context) {
	email := strings.TrimSpace(c.PostForm("email"))
	page := mePage{Step: "code", Email: email}
	if err := p.gate.MeEntries(c, email); err != nil {
		p.mePage(c, 0, page, err)
		return
	}
	es, err := p.Self.Entries(c.Request.Context(), email, c.PostForm("otp"))
	if err != nil {
		if lottery.CodeOf(err) == lottery.CodeInvalidField {
			page.Step = "email"
		}
		p.mePage(c, 0, page, err)
		return
	}
	if page, err = p.meList(c, email, es); err != nil {
		p.fail(c, err)
		return
	}
	p.mePage(c, http.StatusOK, page, nil)
}

// selfSection is the status page's self-service part.
type selfSection struct {
	Anonymized  bool
	Withdrawn   bool // just withdrawn (the redirect's flag)
	Erased      bool // just erased
	CanWithdraw bool
	CanErase    bool
	HoldsSlot   bool
	// Rejected entries: the reason codes (reason.<code> on the page), the
	// appeal if one was filed, whether one can be filed now.
	Rejected  bool
	Reasons   []string
	Appeal    *lottery.Appeal
	CanAppeal bool
	Appealed  bool   // just filed
	Message   string // kept after a refused appeal
	MaxRunes  int
	AppealErr bool // the page's error belongs to the appeal form
}

// selfSection fills the status page's self-service part for an entry
// whose receipt the caller checked.
func (p *pages) selfSection(c *gin.Context, v lottery.EntryView, message string, refused error) (selfSection, error) {
	ctx := c.Request.Context()
	s := selfSection{Withdrawn: c.Query("withdrawn") == "1", Erased: c.Query("erased") == "1", MaxRunes: lottery.MaxAppealRunes,
		Message: message}
	if p.Self == nil {
		return s, nil
	}
	var err error
	if s.Anonymized, err = p.Self.Anonymized(ctx, v.Entry.ID); err != nil {
		return s, err
	}
	now := p.Svc.Now()
	already, werr := lottery.CheckWithdraw(v.Event, v.Entry.Status, now)
	s.CanWithdraw = werr == nil && !already
	s.HoldsSlot = v.Offer != nil && v.Offer.Status.Live()
	s.CanErase = !s.Anonymized && !s.HoldsSlot
	// An appeal stays on the page after its decision, reinstated or not.
	a, found, err := p.Review.EntryAppeal(ctx, v)
	if err != nil {
		return s, err
	}
	if found {
		s.Appeal = &a
	}
	if v.Entry.Status == lottery.EntryRejected {
		s.Rejected = true
		s.Reasons = lottery.ReasonCodes(v.Entry.Risk)
		s.CanAppeal = lottery.CheckAppeal(v.Event, v.Entry.Status, found) == nil && !s.Anonymized
		s.Appealed = c.Query("appealed") == "1"
		s.AppealErr = refused != nil && c.Request.Method == http.MethodPost && strings.HasSuffix(c.Request.URL.Path, "/appeal")
	}
	return s, nil
}

// confirmPage is the confirmation step of a withdrawal or an erasure.
type confirmPage struct {
	Action string // "withdraw" or "erase"
	View   lottery.EntryView
	Token  string
	Back   string
}

// confirmSelf shows the confirmation step of action for the receipt
// holder; nothing changes until its form is posted.
func (p *pages) confirmSelf(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		tok := c.Query("token")
		v, err := p.Registration.EntryStatus(c.Request.Context(), c.Param("id"), tok)
		if err != nil {
			p.fail(c, err)
			return
		}
		c.Header("Cache-Control", "private, no-store")
		p.render(c, http.StatusOK, "self_confirm", p.label(c, "self."+action+".confirm"),
			confirmPage{Action: action, View: v, Token: tok, Back: selfservice.StatusPath(v.Entry.ID, tok)}, nil)
	}
}

// selfDone answers a posted withdrawal or erasure: back to the status
// page with flag, or the status page again with a coded refusal.
func (p *pages) selfDone(c *gin.Context, tok, flag string, err error) {
	if err == nil {
		c.Redirect(http.StatusSeeOther, selfservice.StatusPath(strings.ToLower(c.Param("id")), tok)+"&"+flag+"=1#self")
		return
	}
	var e *lottery.Error
	if !errors.As(err, &e) || e.Code == lottery.CodeNotFound || e.Code == lottery.CodeInternal || e.Code == lottery.CodeUnavailable {
		p.fail(c, err)
		return
	}
	status := httpkit.StatusOf(err)
	if e.Code == lottery.CodeRegistrationClosed {
		status = http.StatusConflict // as the API: the entry's state, not the request, is the problem
	}
	p.showEntry(c, tok, status, "", err)
}

func (p *pages) withdraw(c *gin.Context) {
	tok := c.PostForm("token")
	if c.PostForm("confirm") != "yes" { // only the confirmation page's form changes anything
		c.Redirect(http.StatusSeeOther, "/entries/"+url.PathEscape(c.Param("id"))+"/withdraw?token="+url.QueryEscape(tok))
		return
	}
	p.selfDone(c, tok, "withdrawn", p.Self.Withdraw(c.Request.Context(), c.Param("id"), tok))
}

func (p *pages) erase(c *gin.Context) {
	tok := c.PostForm("token")
	if c.PostForm("confirm") != "yes" {
		c.Redirect(http.StatusSeeOther, "/entries/"+url.PathEscape(c.Param("id"))+"/erase?token="+url.QueryEscape(tok))
		return
	}
	p.selfDone(c, tok, "erased", p.Self.Erase(c.Request.Context(), c.Param("id"), tok))
}

// fileAppeal takes the status page's appeal form; a refusal shows the page
// again with the message kept.
func (p *pages) fileAppeal(c *gin.Context) {
	tok, msg := c.PostForm("token"), c.PostForm("message")
	_, err := p.Review.FileAppeal(c.Request.Context(), c.Param("id"), tok, msg)
	if err == nil {
		c.Redirect(http.StatusSeeOther, selfservice.StatusPath(strings.ToLower(c.Param("id")), tok)+"&appealed=1#appeal")
		return
	}
	var e *lottery.Error
	if !errors.As(err, &e) || e.Code == lottery.CodeNotFound || e.Code == lottery.CodeInternal || e.Code == lottery.CodeUnavailable {
		p.fail(c, err)
		return
	}
	p.showEntry(c, tok, httpkit.StatusOf(err), msg, err)
}
