package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/review"
)

// disputeSection is the status page's dispute window: the runner's frozen
// line, whether the published root includes it, their disputes with the
// answers, and the form while the window is open.
type disputeSection struct {
	Frozen          bool
	Line            draws.Line
	InList          bool
	FrozenList      string // the sub-queue's published list
	RevealNotBefore time.Time
	Open            bool // the window is open
	CanFile         bool // open, and under the per-entry limit
	Disputes        []review.DisputeLine
	Message         string // kept after a refused submission
	Filed           bool
	MaxRunes        int
	MaxPerEntry     int
}

// disputes fills the status page's dispute section for an entry whose
// receipt the caller checked.
func (p *pages) disputes(c *gin.Context, v lottery.EntryView) (disputeSection, error) {
	end, frozen := lottery.RevealNotBefore(v.Event)
	s := disputeSection{Frozen: frozen, RevealNotBefore: end, MaxRunes: lottery.MaxDisputeRunes, MaxPerEntry: lottery.MaxDisputesPerEntry,
		Filed: c.Query("disputed") == "1"}
	if !frozen {
		return s, nil
	}
	ctx := c.Request.Context()
	line, in, err := p.Draws.EntryLine(ctx, v)
	if err != nil {
		return s, err
	}
	s.Line, s.InList = line, in
	s.FrozenList = "/api/v1/events/" + v.Event.Slug + "/draws/" + v.Entry.SubQueue + "/frozen.json"
	if s.Disputes, err = p.Review.EntryDisputes(ctx, v); err != nil {
		return s, err
	}
	now := p.Svc.Now()
	s.Open = lottery.DisputeWindowOpen(v.Event, now)
	s.CanFile = lottery.CheckDispute(v.Event, len(s.Disputes), now) == nil
	return s, nil
}

// fileDispute takes the status page's dispute form. The receipt token in
// the form authenticates it, as on the offer buttons; a refusal shows the
// page again with the message kept.
func (p *pages) fileDispute(c *gin.Context) {
	tok, msg := c.PostForm("token"), c.PostForm("message")
	_, err := p.Review.FileDispute(c.Request.Context(), c.Param("id"), tok, msg)
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/entries/"+url.PathEscape(c.Param("id"))+"?token="+url.QueryEscape(tok)+"&disputed=1#dispute")
		return
	}
	var e *lottery.Error
	if !errors.As(err, &e) || e.Code == lottery.CodeNotFound || e.Code == lottery.CodeInternal || e.Code == lottery.CodeUnavailable {
		p.fail(c, err)
		return
	}
	p.showEntry(c, tok, httpkit.StatusOf(err), msg, err)
}

// reviewCases is a reviewer console page of one event's cases (disputes,
// appeals): the session, the events to choose from, the chosen one's
// lines, and the decision just taken.
type reviewCases[L any] struct {
	Staff  lottery.StaffAccount
	CSRF   string
	Events []lottery.Event
	Event  lottery.Event
	Lines  []L
	Done   string
}

// showReviewCases renders a reviewer console page of the chosen event's
// cases, loaded by load (every case, open ones first).
func showReviewCases[L any](p *pages, c *gin.Context, tmpl, titleKey string,
	load func(ctx context.Context, acct lottery.StaffAccount, slug string, openOnly bool) (lottery.Event, []L, error)) {
	acct, tok, ok := p.staff(c)
	if !ok {
		return
	}
	evs, slug, ok := p.consoleEvents(c, acct)
	if !ok {
		return
	}
	page := reviewCases[L]{Staff: acct, CSRF: p.csrf(tok), Events: evs, Done: c.Query("done")}
	if slug != "" {
		var err error
		if page.Event, page.Lines, err = load(c.Request.Context(), acct, slug, false); err != nil {
			p.fail(c, err)
			return
		}
	}
	c.Header("Cache-Control", "private, no-store")
	p.render(c, http.StatusOK, tmpl, p.label(c, titleKey), page, nil)
}

func (p *pages) reviewDisputes(c *gin.Context) {
	showReviewCases(p, c, "review_disputes", "disputes.console.title", p.Review.Disputes)
}

// label is a label in the request's language, for a page title.
func (p *pages) label(c *gin.Context, key string) string { return translator(p.lang(c))(key) }

// answerDispute takes a reviewer's answer from the console (CSRF token
// bound to the session, and same-site only).
func (p *pages) answerDispute(c *gin.Context) {
	acct, tok, ok := p.staff(c)
	if !ok {
		return
	}
	if !httpkit.ValidCSRF(p.Guard.CookieKey, tok, c.PostForm("csrf")) {
		p.fail(c, lottery.ErrCSRFFailed)
		return
	}
	_, err := p.Review.AnswerDispute(c.Request.Context(), acct, c.Param("id"), c.PostForm("outcome"), c.PostForm("answer"))
	p.caseDecided(c, "/review/disputes", "answered", err)
}

// caseDecided answers a reviewer's decision on a case page (disputes,
// appeals): back to the event's list with done, or with the refusal's
// message; an internal or outage error is the error page, and so is an
// unknown case (404; another organization's is as unknown).
func (p *pages) caseDecided(c *gin.Context, list, done string, err error) {
	back := list + "?event=" + url.QueryEscape(c.PostForm("event"))
	if err != nil {
		var e *lottery.Error
		if errors.As(err, &e) && e.Code != lottery.CodeInternal && e.Code != lottery.CodeUnavailable && e.Code != lottery.CodeNotFound {
			c.Redirect(http.StatusSeeOther, back+"&done="+url.QueryEscape("error: "+e.Message))
			return
		}
		p.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, back+"&done="+done)
}
