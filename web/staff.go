package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/internal/gate"
	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/review"
)

// The reviewers' console: login (password + TOTP), the queue, entry pages
// and decisions. Sessions are the API's (cookie sl_staff, SameSite=Strict);
// forms also carry a CSRF token bound to the session.

func (p *pages) registerStaff(r gin.IRoutes) {
	r.GET("/staff/login", p.loginForm)
	r.POST("/staff/login", p.refuseCrossSite, p.login)
	r.POST("/staff/logout", p.refuseCrossSite, p.logout)
	r.GET("/review", p.reviewQueue)
	r.GET("/review/entries/:id", p.reviewEntry)
	r.POST("/review/entries/:id/decision", p.refuseCrossSite, p.reviewDecision)
	r.GET("/review/disputes", p.reviewDisputes)
	r.POST("/review/disputes/:id/answer", p.refuseCrossSite, p.answerDispute)
	r.POST("/review/entries/:id/claim", p.refuseCrossSite, p.reviewClaim)
	r.GET("/staff/series/:slug/history", p.historyForm)
	r.POST("/staff/series/:slug/history", p.refuseCrossSite, p.historyUpload)
}

// refuseCrossSite refuses a console form posted from another site's page,
// on top of the form's CSRF token (and, for the login, where there is no
// session to bind a token to, instead of it).
func (p *pages) refuseCrossSite(c *gin.Context) {
	if p.Site.CrossSite(c.Request) {
		p.fail(c, lottery.ErrCSRFFailed)
		c.Abort()
		return
	}
	c.Next()
}

// staff returns the signed-in staff member, or redirects to the login page.
func (p *pages) staff(c *gin.Context) (lottery.StaffAccount, string, bool) {
	tok, err := c.Cookie(httpkit.StaffCookie)
	if err == nil {
		acct, err := p.Staff.Authenticate(c.Request.Context(), tok)
		if err == nil && lottery.CanReview(acct.Role) {
			return acct, tok, true
		}
		if lottery.CodeOf(err) == lottery.CodeUnavailable {
			p.fail(c, err) // the session may be fine: do not send them to log in again
			return lottery.StaffAccount{}, "", false
		}
	}
	code := http.StatusSeeOther
	if strings.HasPrefix(c.Request.URL.Path, "/admin") {
		code = http.StatusFound // API.md: the console answers anonymous with 302 to the login
	}
	c.Redirect(code, "/staff/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
	return lottery.StaffAccount{}, "", false
}

// staffForm is staff for a posted console form: the signed-in member,
// once the form's CSRF token matches the session.
func (p *pages) staffForm(c *gin.Context) (lottery.StaffAccount, string, bool) {
	acct, tok, ok := p.staff(c)
	if !ok {
		return acct, tok, false
	}
	if !httpkit.ValidCSRF(p.Guard.CookieKey, tok, c.PostForm("csrf")) {
		p.fail(c, lottery.ErrCSRFFailed)
		return lottery.StaffAccount{}, "", false
	}
	return acct, tok, true
}

func (p *pages) csrf(session string) string { return httpkit.CSRFToken(p.Guard.CookieKey, session) }

type loginPage struct {
	Email string
	Next  string
}

// safeNext is where to go after signing in: next when it is a path on this
// site (httpkit.LocalPath), else "" (landing decides by role).
func safeNext(next string) string { return httpkit.SafeRedirect(next, "") }

// landing is where a member goes after signing in with no next: organizers
// to their console's events, reviewers to the review queue.
func landing(a lottery.StaffAccount) string {
	if a.Role == lottery.RoleOrganizer {
		return "/admin"
	}
	return "/review"
}

func (p *pages) loginForm(c *gin.Context) {
	p.Guard.EnsureDevice(c.Writer, c.Request) // the login recognises the browser by it
	p.render(c, http.StatusOK, "staff_login", "Staff", loginPage{Next: safeNext(c.Query("next"))}, nil)
}

func (p *pages) login(c *gin.Context) {
	email := c.PostForm("email")
	page := loginPage{Email: email, Next: safeNext(c.PostForm("next"))}
	client := p.gate.Client(c) // the device cookie comes from the login form
	if err := p.gate.StaffLogin(c, email, client); err != nil {
		if lottery.CodeOf(err) != lottery.CodeRateLimited {
			p.fail(c, err) // an outage is the 503 page
			return
		}
		p.render(c, http.StatusTooManyRequests, "staff_login", "Staff", page, err)
		return
	}
	sess, err := p.Staff.Login(c.Request.Context(), email, c.PostForm("password"), c.PostForm("otp"), client)
	if gate.StaffLoginFailure(err) { // only failures spend the login budgets
		if ferr := p.gate.StaffLoginFailed(c, email, client); ferr != nil {
			p.Log.WarnContext(c.Request.Context(), "staff login failure not counted", "err", ferr)
		}
	}
	if err != nil {
		if lottery.CodeOf(err) == lottery.CodeInternal {
			p.fail(c, err)
			return
		}
		p.render(c, http.StatusUnauthorized, "staff_login", "Staff", page, err)
		return
	}
	p.Site.SetStaffCookie(c.Writer, c.Request, sess.Token, sess.ExpiresAt.Sub(p.Svc.Now()))
	if page.Next == "" {
		page.Next = landing(sess.Account)
	}
	c.Redirect(http.StatusSeeOther, page.Next)
}

func (p *pages) logout(c *gin.Context) {
	if tok, err := c.Cookie(httpkit.StaffCookie); err == nil && httpkit.ValidCSRF(p.Guard.CookieKey, tok, c.PostForm("csrf")) {
		_ = p.Staff.Logout(c.Request.Context(), tok)
	}
	p.Site.ClearStaffCookie(c.Writer, c.Request)
	c.Redirect(http.StatusSeeOther, "/staff/login")
}

type queuePage struct {
	Staff   lottery.StaffAccount
	CSRF    string
	Events  []lottery.Event
	Event   lottery.Event
	Entries []lottery.Entry
	Reason  string
	Cluster string
	Reasons []string
	Links   []review.ClusterLink // what links the cluster's entries (web/review_farms.go)
}

// reasonCodes are the filters offered on the queue page: the reasons an
// entry's own assessment can carry (each shown by its reason.<code> name).
var reasonCodes = []string{"linked_cluster", antibot.ReasonGeoMismatch, "hosting_network", "honeypot_filled", "webdriver",
	"fast_fill", "headless_user_agent", "scripting_user_agent", "disposable_email", "no_user_agent", "no_signals",
	"language_mismatch", "platform_mismatch", lottery.ReasonTicketClaim, "queue_join_flagged", lottery.ReasonTransferRecipient,
	antibot.ReasonNoBrowserCheck, lottery.ReasonSharedCard, review.ReasonFarmCluster}

func (p *pages) reviewQueue(c *gin.Context) {
	acct, tok, ok := p.staff(c)
	if !ok {
		return
	}
	evs, slug, ok := p.consoleEvents(c, acct)
	if !ok {
		return
	}
	page := queuePage{Staff: acct, CSRF: p.csrf(tok), Events: evs, Reason: c.Query("reason"), Cluster: c.Query("cluster"),
		Reasons: reasonCodes}
	if slug != "" {
		ev, entries, err := p.Review.Queue(c.Request.Context(), acct, slug,
			review.Filter{Reason: page.Reason, ClusterID: page.Cluster, Limit: 200})
		if err != nil {
			p.fail(c, err)
			return
		}
		page.Event, page.Entries = ev, entries
		if page.Links, ok = p.clusterLinks(c, acct, slug, page.Cluster); !ok {
			return
		}
	}
	c.Header("Cache-Control", "private, no-store")
	p.render(c, http.StatusOK, "review_queue", translator(p.lang(c))("review.queue.title"), page, nil)
}

// consoleEvents lists the events a reviewer console page chooses from (the
// published ones of the member's organization, lottery.Service.OrgEvents)
// and the one asked for (?event=), the first by default; a failure is
// rendered. Another organization's event asked for by name is refused by
// the review service (404).
func (p *pages) consoleEvents(c *gin.Context, acct lottery.StaffAccount) ([]lottery.Event, string, bool) {
	all, err := p.Svc.OrgEvents(c.Request.Context(), acct)
	if err != nil {
		p.fail(c, err)
		return nil, "", false
	}
	evs := make([]lottery.Event, 0, len(all))
	for _, ev := range all {
		if ev.Public() {
			evs = append(evs, ev)
		}
	}
	slug := c.Query("event")
	if slug == "" && len(evs) > 0 {
		slug = evs[0].Slug
	}
	return evs, slug, true
}

type entryReviewPage struct {
	Staff   lottery.StaffAccount
	CSRF    string
	Detail  review.Detail
	Signals string
	Reasons []antibot.Reason
	Done    string
	// Card is the card saved at apply and CardShared how many entries of
	// the event saved the same card (card on file, cards.go).
	Card       *lottery.SavedCard
	CardShared int
	Links      []review.ClusterLink // what links the entry's cluster (web/review_farms.go)
}

func (p *pages) reviewEntry(c *gin.Context) {
	acct, tok, ok := p.staff(c)
	if !ok {
		return
	}
	d, err := p.Review.Entry(c.Request.Context(), acct, c.Param("id"))
	if err != nil {
		p.fail(c, err)
		return
	}
	sig := "{}"
	if len(d.Entry.Signals) > 0 {
		var v any
		if json.Unmarshal(d.Entry.Signals, &v) == nil {
			b, _ := json.MarshalIndent(v, "", "  ")
			sig = string(b)
		}
	}
	links, ok := p.clusterLinks(c, acct, d.Event.Slug, d.Entry.ClusterID)
	if !ok {
		return
	}
	page := entryReviewPage{Staff: acct, CSRF: p.csrf(tok), Detail: d, Signals: sig, Reasons: d.Entry.Risk.Reasons, Done: c.Query("done"),
		Links: links}
	if page.Card, page.CardShared, err = p.Registration.ReviewCard(c.Request.Context(), d.Entry.ID); err != nil {
		p.fail(c, err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	p.render(c, http.StatusOK, "review_entry", translator(p.lang(c))("review.queue.title"), page, nil)
}

func (p *pages) reviewDecision(c *gin.Context) {
	acct, _, ok := p.staffForm(c)
	if !ok {
		return
	}
	id := c.Param("id")
	_, err := p.Review.Decide(c.Request.Context(), acct, id, c.PostForm("decision"), c.PostForm("note"))
	if err != nil {
		var e *lottery.Error
		if errors.As(err, &e) && e.Code != lottery.CodeInternal && e.Code != lottery.CodeUnavailable && e.Code != lottery.CodeNotFound {
			c.Redirect(http.StatusSeeOther, "/review/entries/"+url.PathEscape(id)+"?done="+url.QueryEscape("error: "+e.Message))
			return
		}
		p.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/review?event="+url.QueryEscape(c.PostForm("event")))
}

// reviewClaim accepts or declines an entry's ticket claim and shows the
// entry again with the outcome (after freeze: tickets_frozen).
func (p *pages) reviewClaim(c *gin.Context) {
	acct, _, ok := p.staffForm(c)
	if !ok {
		return
	}
	id := c.Param("id")
	done := "claim: " + c.PostForm("decision")
	if _, err := p.Review.DecideClaim(c.Request.Context(), acct, id, c.PostForm("decision"), c.PostForm("note")); err != nil {
		var e *lottery.Error
		if !errors.As(err, &e) || e.Code == lottery.CodeInternal || e.Code == lottery.CodeUnavailable || e.Code == lottery.CodeNotFound {
			p.fail(c, err) // another organization's entry is as unknown: the 404 page
			return
		}
		done = "error: " + e.Message
	}
	c.Redirect(http.StatusSeeOther, "/review/entries/"+url.PathEscape(id)+"?done="+url.QueryEscape(done)+"#claim")
}

type historyPage struct {
	Staff  lottery.StaffAccount
	CSRF   string
	Series string
	Rows   int // stored by the last upload
}

// historyForm is the organizers' upload of a series' history CSV.
func (p *pages) historyForm(c *gin.Context) {
	acct, tok, ok := p.staff(c)
	if !ok {
		return
	}
	if _, err := p.Series.Managed(c.Request.Context(), acct, c.Param("slug")); err != nil {
		p.fail(c, err) // a reviewer 403; another organization's series 404
		return
	}
	rows, _ := strconv.Atoi(c.Query("rows"))
	c.Header("Cache-Control", "private, no-store")
	p.render(c, http.StatusOK, "series_history", "History", historyPage{Staff: acct, CSRF: p.csrf(tok), Series: c.Param("slug"), Rows: rows}, nil)
}

// historyUpload stores an uploaded history file (multipart, field "file");
// a bad row shows the form again with the row's error.
func (p *pages) historyUpload(c *gin.Context) {
	acct, tok, ok := p.staffForm(c)
	if !ok {
		return
	}
	page := historyPage{Staff: acct, CSRF: p.csrf(tok), Series: c.Param("slug")}
	if _, err := p.Series.Managed(c.Request.Context(), acct, page.Series); err != nil {
		p.fail(c, err) // a reviewer 403; another organization's series 404
		return
	}
	fh, err := c.FormFile("file")
	if err != nil {
		p.render(c, http.StatusUnprocessableEntity, "series_history", "History", page, lottery.Fieldf("file", "choose a CSV file"))
		return
	}
	f, err := fh.Open()
	if err != nil {
		p.render(c, http.StatusUnprocessableEntity, "series_history", "History", page, lottery.Fieldf("file", "the file could not be read"))
		return
	}
	defer f.Close()
	n, err := p.Series.ImportHistory(c.Request.Context(), acct, page.Series, f)
	if err != nil {
		if code := lottery.CodeOf(err); code == lottery.CodeInternal || code == lottery.CodeUnavailable || code == lottery.CodeForbidden ||
			code == lottery.CodeNotFound {
			p.fail(c, err)
			return
		}
		p.render(c, httpkit.StatusOf(err), "series_history", "History", page, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/staff/series/"+url.PathEscape(page.Series)+"/history?rows="+strconv.Itoa(n))
}
