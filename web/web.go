// Package web serves the runner pages with server-rendered html/template:
// event list, the apply flow (sub-queue first, then identity, then the
// e-mailed code), the receipt and status page, and the dev outbox. The pages
// work with JavaScript off; a small script only adds device signals.
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/startline/startline/antibot/guard"
	"github.com/startline/startline/internal/gate"
	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/internal/readcache"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/checkin"
	"github.com/startline/startline/lottery/dashboard"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/drawstats"
	"github.com/startline/startline/lottery/exports"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/payments/sandbox"
	"github.com/startline/startline/lottery/payments/stripe"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/lottery/review"
	"github.com/startline/startline/lottery/selfservice"
	"github.com/startline/startline/lottery/series"
	"github.com/startline/startline/lottery/staff"
	"github.com/startline/startline/lottery/waitroom"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps is what the pages need.
type Deps struct {
	// APINotFound answers unknown /api/ routes (the API's JSON error); nil
	// answers them with the HTML page like any other path.
	APINotFound gin.HandlerFunc
	Svc         *lottery.Service
	Draws       *draws.Service     // the results page
	Stats       *drawstats.Service // odds on the event page, statistics on the results page; nil: none
	Offers      *offers.Service    // offer pages, pay, the sandbox checkout
	Cards       *offers.Charger    // card on file: where a charge stands (issue 15); nil: none
	Staff       *staff.Service     // staff sessions and logins
	Review      *review.Service    // the review queue and decisions
	Series      *series.Service    // history uploads of a series
	Exports     *exports.Service   // the console's exports, bibs and entries list (issue 14)
	Checkin     *checkin.Service   // race-day check-in (issue 15); nil: no check-in page
	Waitroom    *waitroom.Service  // waiting-room joins and polls, the sealed address
	Guard       *guard.Guard
	Sandbox     *sandbox.Provider // the test checkout, dev mode only
	// StripePublishableKey lets the checkout page load Stripe's payment element.
	StripePublishableKey string
	Outbox               lottery.MailStore
	Log                  *slog.Logger
	Dev                  bool
	// Registration runs e-mail codes, the application form and entry
	// pages, and answers the gate's Idempotency-Key check.
	Registration *registration.Service
	// Site is the public URL and trusted-proxy policy: every cookie's
	// Secure attribute, the pay flow's return URLs, which redirects stay on
	// the site.
	Site *httpkit.Site
	// PageCacheTTL keeps the rendered event page that long (one per event,
	// language and chosen group); 0 renders every request.
	PageCacheTTL time.Duration
	// Views, when set, keeps those pages in the API's read cache, whose
	// change feed drops them the moment their event changes (issue 16);
	// nil: a cache of the pages' own, TTL only.
	Views *readcache.Cache
	// ViewSync, after a page's write, waits until Views shows it (the
	// change feed's Sync): the status page it redirects to is then never
	// the one from before (issue 16). nil: no wait.
	ViewSync func(context.Context) error
	// ViewAnnounce announces a tag's change to every process's Views (the
	// feed's Announce): a page's write to rows no trigger watches. nil:
	// this process's Views only.
	ViewAnnounce func(context.Context, string) error
	// Self runs "my entries", withdrawals and erasures (issue 13).
	Self *selfservice.Service
	// Dashboard computes the organizer's dashboard (issue 14); nil: the
	// dashboard tab is a 404.
	Dashboard *dashboard.Service
	// Queues is the Asynq monitor (asynqmon with RootPath QueuesPath), for
	// signed-in staff at QueuesPath (issue 14); nil: not mounted.
	Queues http.Handler
}

type pages struct {
	Deps
	gate  *gate.Gate // the runner and staff-login checks, shared with the API
	tpl   map[string]*template.Template
	cache *readcache.Cache // rendered public pages (pagecache.go); nil: rendered per request
}

// Register mounts the runner pages and static files on the engine. Every
// page route is behind the edge check (httpkit.CheckInput): path parameters,
// query and form values and the headers the service reads.
func Register(engine *gin.Engine, d Deps) error {
	p := &pages{Deps: d, gate: gate.New(d.Guard, d.Registration, d.Staff), tpl: map[string]*template.Template{},
		cache: d.Views}
	if p.cache == nil || d.PageCacheTTL <= 0 {
		p.cache = newPageCache(d.PageCacheTTL) // nil at TTL 0: rendered per request
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	// Files named _*.html or part_*.html are parts of pages (each defines
	// templates a page includes with one {{template}} line): every page is
	// parsed with them.
	parts, err := fs.Glob(templateFS, "templates/part_*.html")
	if err != nil {
		return err
	}
	under, err := fs.Glob(templateFS, "templates/_*.html")
	if err != nil {
		return err
	}
	parts = append(parts, under...)
	for _, n := range names {
		if strings.HasSuffix(n, "layout.html") || strings.HasPrefix(path.Base(n), "_") || strings.HasPrefix(n, "templates/part_") {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, append([]string{"templates/layout.html", n}, parts...)...)
		if err != nil {
			return fmt.Errorf("parse %s: %w", n, err)
		}
		p.tpl[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
	}
	r := engine.Group("", httpkit.CheckInput(p.fail, true), p.syncViews)
	static, _ := fs.Sub(staticFS, "static")
	r.StaticFS("/static", filesOnly{http.FS(static)})
	r.GET("/", p.home)
	r.GET("/events/:slug", p.event)
	r.GET("/events/:slug/apply", p.identityForm)
	r.POST("/events/:slug/apply/code", p.sendCode)
	r.POST("/events/:slug/apply", p.submit)
	r.POST("/events/:slug/apply/lang", p.switchApplyLang)
	r.GET("/events/:slug/results", p.results)
	r.GET("/verify", p.verify)
	r.GET("/events/:slug/queue", p.queueForm)
	r.POST("/events/:slug/queue", p.joinQueue)
	r.POST("/events/:slug/queue/lang", p.switchQueueLang)
	r.GET("/queue/:ticket", p.queueWait)
	r.GET("/entries/:id", p.entry)
	r.POST("/entries/:id/disputes", p.fileDispute)
	r.POST("/entries/:id/answers", p.refuseCrossSite, p.editAnswers)
	r.GET("/events/:slug/privacy", p.consentDoc(lottery.ConsentPrivacy))
	r.GET("/events/:slug/waiver", p.consentDoc(lottery.ConsentWaiver))
	r.POST("/offers/:id/:action", p.offerAction)
	p.registerGiveBack(r)
	p.registerDefer(r)       // issue 15: defer to the next edition
	p.registerDeferralFee(r) // issue 15: paying a deferral's fee (deferfee.go)
	p.registerTransfers(r)   // issue 15: face-value transfers
	r.GET("/status", p.lookup)
	p.registerSelf(r)
	p.registerAppeals(r)
	p.registerStaff(r)
	p.registerQueues(r)
	p.registerCheckin(r) // issue 15: race-day check-in
	p.registerData(r)
	p.registerTeam(r)
	p.registerEvents(r)
	p.registerLifecycle(r) // issue 14: one event's overview, lifecycle steps, audit log
	p.registerAfterDraw(r) // issue 15: transfer and deferral terms (console_after.go)
	p.registerDashboard(r)
	p.registerCards(r) // issue 15: card on file (the card step, the Payment tab, the sandbox's setup page)
	if d.Dev {
		r.GET("/dev/outbox", p.outbox)
	}
	if d.Sandbox != nil {
		r.GET("/sandbox/checkout/:id", p.sandboxCheckout)
		r.POST("/sandbox/checkout/:id/:outcome", p.sandboxOutcome)
	}
	engine.NoRoute(func(c *gin.Context) {
		if d.APINotFound != nil && (c.Request.URL.Path == "/api" || strings.HasPrefix(c.Request.URL.Path, "/api/")) {
			d.APINotFound(c)
			return
		}
		p.fail(c, lottery.ErrNotFound)
	})
	return nil
}

// filesOnly serves the files of a file system and no directory: /static/
// is a 404 rather than a listing of what the site ships.
type filesOnly struct{ http.FileSystem }

func (f filesOnly) Open(name string) (http.File, error) {
	file, err := f.FileSystem.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}

var funcs = template.FuncMap{
	"fmtTime": func(t time.Time, tz string) string {
		return t.In(location(tz)).Format("2006-01-02 15:04 MST")
	},
	"pace":       lottery.FormatPace,
	"hold":       lottery.FormatHold,
	"eta":        formatETA,
	"pct":        formatPct,
	"num":        formatCount,
	"verifyText": verifyText,
	"verifyForm": func(v view, url, label, id string) verifyForm {
		return verifyForm{T: v.T, URL: url, Label: label, ID: id}
	},
	"list": func(s ...string) []string { return s },
	"dict": func(kv ...string) map[string]string {
		m := make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	},
	"field": func(v view, name, typ, value, auto, help string) formField {
		f := formField{Name: name, Type: typ, Value: value, Auto: auto, Help: help, Label: v.T("field." + name)}
		if v.Err != nil && v.Err.Field == name {
			f.Invalid, f.Message = true, v.ErrText
		}
		return f
	},
}

// formField is one labelled input with its error, if any.
type formField struct {
	Name, Type, Value, Auto, Help, Label, Message string
	Invalid                                       bool
}

// view is what every template receives.
type view struct {
	Lang    string
	T       func(key string, args ...any) string
	Path    string
	Title   string
	Dev     bool
	Data    any
	Err     *lottery.Error
	ErrText string
	// Switch is the header's language switch (langswitch.go).
	Switch langSwitch
}

// FieldName is the refused field's label in the page's language, never its
// internal key: a field with no label of its own is "one of the fields".
func (v view) FieldName() string {
	if v.Err == nil || v.Err.Field == "" {
		return ""
	}
	if s := v.T("field." + v.Err.Field); s != "field."+v.Err.Field {
		return s
	}
	return v.T("error.field.other")
}

func (p *pages) lang(c *gin.Context) string {
	if l := c.GetString(langKey); l != "" { // a switch route's choice
		return l
	}
	if l := c.Query("lang"); l == "en" || l == "ko" {
		p.Site.SetCookie(c.Writer, c.Request, &http.Cookie{Name: "sl_lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode})
		return l
	}
	if l, err := c.Cookie("sl_lang"); err == nil && (l == "en" || l == "ko") {
		return l
	}
	if strings.HasPrefix(strings.ToLower(c.GetHeader("Accept-Language")), "ko") {
		return "ko"
	}
	return "en"
}

func translator(lang string) func(string, ...any) string {
	return func(key string, args ...any) string {
		s, ok := messages[lang][key]
		if !ok {
			s, ok = messages["en"][key]
		}
		if !ok {
			return key
		}
		if len(args) > 0 {
			return fmt.Sprintf(s, args...)
		}
		return s
	}
}

func (p *pages) render(c *gin.Context, status int, page, title string, data any, err error) {
	if lottery.CodeOf(err) == lottery.CodeUnavailable {
		p.fail(c, err) // a dependency is down: not the form's fault, a 503 page
		return
	}
	lang := p.lang(c)
	v := view{Lang: lang, T: translator(lang), Path: c.Request.URL.Path, Title: title, Dev: p.Dev, Data: data,
		Switch: p.switchFor(c, lang)}
	if err != nil {
		var e *lottery.Error
		if errors.As(err, &e) {
			v.Err = e
			v.ErrText = e.Message
			if m, ok := codeMessages[lang][e.Code]; ok {
				v.ErrText = m
			}
		}
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	pageHeaders(c)
	c.Status(status)
	if err := p.tpl[page].Execute(c.Writer, v); err != nil {
		p.Log.Error("render", "page", page, "err", err)
	}
}

// fail renders an error page for a domain or internal error.
func (p *pages) fail(c *gin.Context, err error) {
	if httpkit.ClientGone(c, err) {
		return
	}
	noFormSwitch(c)
	status := httpkit.StatusOf(err)
	msg, shown := "error.internal", error(nil)
	switch lottery.CodeOf(err) {
	case lottery.CodeNotFound:
		msg = "error.notfound"
	case lottery.CodeUnavailable:
		msg = "error.unavailable"
		httpkit.Unavailable(c, p.Log, err) // Retry-After; the outage is logged once per interval
	case lottery.CodeInvalidField, lottery.CodeInvalidJSON:
		msg, shown = "error.badinput", err // the page names the field
	case lottery.CodeInternal:
		p.Log.ErrorContext(c.Request.Context(), "page error", "route", c.FullPath(), "err", err)
	}
	p.render(c, status, "error", "", msg, shown)
}

func (p *pages) home(c *gin.Context) {
	evs, err := p.Svc.ListEvents(c.Request.Context())
	if err != nil {
		p.fail(c, err)
		return
	}
	type row struct {
		Event lottery.Event
		Phase lottery.EventStatus
	}
	now := p.Svc.Now()
	rows := make([]row, 0, len(evs))
	for _, e := range evs {
		rows = append(rows, row{e, e.Phase(now)})
	}
	p.render(c, http.StatusOK, "home", "", rows, nil)
}

type eventPage struct {
	Event     lottery.Event
	Phase     lottery.EventStatus
	SubQueues []lottery.SubQueue
	Selected  string
	Lottery   bool // some pace group is drawn, so step 1 needs its form button
	// Prequeues are the ordered pace groups whose waiting room already
	// takes joins before the window opens.
	Prequeues []lottery.SubQueue
	// Odds are the drawn pace groups' stored numbers, once computed.
	Odds []oddsView
	// Preview is the organizer's preview (console_events.go): a banner,
	// the choices shown and nothing that applies.
	Preview bool
}

func (p *pages) event(c *gin.Context) {
	// The page is the same for everyone with this language and chosen group.
	lang, slug, group := p.lang(c), c.Param("slug"), c.Query("subqueue")
	keep := url.Values{}
	if group != "" {
		keep.Set("subqueue", group)
	}
	p.Guard.EnsureDevice(c.Writer, c.Request)
	p.publicPage(c, "event|"+slug+"|"+lang+"|"+group, slug, lang, "event", keep,
		func(ctx context.Context) (string, any, error) {
			ev, err := p.Svc.PublicEvent(ctx, slug)
			if err != nil {
				return "", nil, err
			}
			now := p.Svc.Now()
			page := eventPage{Event: ev, Phase: ev.Phase(now), SubQueues: ev.SubQueues(), Selected: group}
			for _, sq := range page.SubQueues {
				page.Lottery = page.Lottery || sq.Mode != lottery.ModeOrdered
				if page.Phase == lottery.EventPublished && sq.Mode == lottery.ModeOrdered && ev.CheckJoin(now, sq) == nil {
					page.Prequeues = append(page.Prequeues, sq)
				}
			}
			page.Odds = p.eventOdds(ctx, ev)
			return ev.Name, page, nil
		})
}

// applyForm carries the runner's answers between the steps.
type applyForm struct {
	Event      lottery.Event
	SubQueue   lottery.SubQueue
	Course     lottery.Course
	Name       string
	Email      string
	Phone      string
	BirthDate  string
	GroupCode  string
	Previous   string // a claim of more earlier applications than the record shows
	ClaimNote  string
	Signals    string
	Started    string
	IdemKey    string
	CodeSent   bool
	FieldError string
	Challenge  string // ALTCHA challenge JSON the page script solves before submitting
	// AdmissionToken is the waiting room's admission, carried through every
	// step of an ordered sub-queue's form.
	AdmissionToken string
	// OTP is the code the runner was typing when switching language.
	OTP string
	// Q are the answers and consents as posted (questions.go).
	Q questionValues
	// Card is the card saved for an event with card on file (cards.go).
	Card formCard
}

func (p *pages) formEvent(c *gin.Context, subqueue string) (applyForm, error) {
	ev, err := p.Svc.PublicEvent(c.Request.Context(), c.Param("slug"))
	if err != nil {
		return applyForm{}, err
	}
	course, pace, _ := strings.Cut(subqueue, ":")
	sq, ok := ev.SubQueue(course, pace)
	if !ok {
		return applyForm{Event: ev}, lottery.Fieldf("subqueue", "choose a course and pace group")
	}
	f := applyForm{Event: ev, SubQueue: sq}
	for _, co := range ev.Courses {
		if co.Code == course {
			f.Course = co
		}
	}
	return f, nil
}

func (p *pages) readForm(c *gin.Context) (applyForm, error) {
	f, err := p.formEvent(c, c.PostForm("subqueue"))
	f.Name, f.Email, f.Phone = c.PostForm("name"), c.PostForm("email"), c.PostForm("phone")
	f.BirthDate, f.GroupCode, f.Previous = c.PostForm("birth_date"), c.PostForm("group_code"), c.PostForm("previous_applications")
	f.ClaimNote = c.PostForm("claim_note")
	f.Signals, f.Started, f.IdemKey = c.PostForm("signals"), c.PostForm("started"), c.PostForm("idem")
	f.AdmissionToken = c.PostForm("admission_token")
	f.Q = readQuestionValues(c)
	f.Card = readFormCard(c)
	return f, err
}

// identityForm is step 2; step 1 (the sub-queue) is on the event page.
func (p *pages) identityForm(c *gin.Context) {
	f, err := p.formEvent(c, c.Query("subqueue"))
	if err != nil {
		if f.Event.Slug == "" {
			p.fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/events/"+url.PathEscape(f.Event.Slug)+"#step1")
		return
	}
	applySwitch(c, f.Event.Slug)
	// The waiting page links here with the admission and, sealed, the
	// e-mail address it is bound to (an address never travels in a URL in
	// the clear); without an admission an ordered group starts in line.
	f.AdmissionToken = c.Query("admission_token")
	if f.AdmissionToken != "" {
		f.Email = p.Waitroom.OpenAddress(c.Query("who"))
	}
	if f.SubQueue.Mode == lottery.ModeOrdered && f.AdmissionToken == "" {
		c.Redirect(http.StatusSeeOther, queueJoinPath(f.Event.Slug, f.SubQueue))
		return
	}
	if err := f.Event.CheckOpen(p.Svc.Now()); err != nil {
		p.render(c, http.StatusForbidden, "identity", f.Event.Name, f, err)
		return
	}
	f.Started = strconv.FormatInt(time.Now().UnixMilli(), 10)
	p.render(c, http.StatusOK, "identity", f.Event.Name, f, nil)
}

// sendCode e-mails the code and shows step 3.
func (p *pages) sendCode(c *gin.Context) {
	f, err := p.readForm(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	applySwitch(c, f.Event.Slug)
	// Questions and consents are checked before a code is mailed, so the
	// runner fixes them beside the field with the input kept.
	if err := p.Registration.CheckForm(c.Request.Context(), f.Event.Slug, f.Q.answers(f.Event.Form.WithDefaults()), f.Q.consents()); err != nil {
		p.refused(c, "identity", f.Event.Name, f, localizeFormError(p.lang(c), err))
		return
	}
	if err := checkCardStep(f); err != nil { // issue 15: card on file (cards.go)
		p.refused(c, "identity", f.Event.Name, f, localizeCardError(p.lang(c), err))
		return
	}
	// The same budgets as the API's code requests (gate.Code): past the
	// address's inbox cap the page reads as usual but nothing is mailed.
	mail, err := p.gate.Code(c, f.Email)
	if err != nil {
		p.refused(c, "identity", f.Event.Name, f, err)
		return
	}
	if mail {
		err = p.Registration.RequestOTP(c.Request.Context(), f.Event.Slug, f.Email, p.lang(c), p.gate.Client(c))
	} else {
		err = p.Registration.WithholdOTP(c.Request.Context(), f.Event.Slug, f.Email, p.gate.Client(c))
	}
	if err != nil {
		if lottery.CodeOf(err) == lottery.CodeInternal {
			p.fail(c, err)
			return
		}
		p.render(c, http.StatusUnprocessableEntity, "identity", f.Event.Name, f, err)
		return
	}
	f.CodeSent = true
	f.IdemKey = newIdemKey()
	p.withChallenge(c, &f)
	p.render(c, http.StatusOK, "identity", f.Event.Name, f, nil)
}

// withChallenge embeds a fresh proof-of-work challenge for the page script.
func (p *pages) withChallenge(c *gin.Context, f *applyForm) { f.Challenge = p.challenge(c) }

// challenge is a fresh proof-of-work challenge as JSON; empty when none
// could be issued (the submit then fails the check and shows the form again).
func (p *pages) challenge(c *gin.Context) string {
	ch, err := p.Guard.Challenge(p.Svc.Now(), p.Guard.ChallengeRisk(c.Request, p.Svc.Network(c.ClientIP())))
	if err != nil {
		p.Log.ErrorContext(c.Request.Context(), "challenge", "err", err)
		return ""
	}
	b, _ := json.Marshal(ch)
	return string(b)
}

// refused shows a form again with the gate's refusal, answered with the
// error's status from the one table (429, 422, 409); an outage is the 503
// unavailable page (render) and an uncoded error the 500 page.
func (p *pages) refused(c *gin.Context, page, title string, data any, err error) {
	if lottery.CodeOf(err) == lottery.CodeInternal {
		p.fail(c, err)
		return
	}
	p.render(c, httpkit.StatusOf(err), page, title, data, err)
}

// submit applies with the code and redirects to the receipt.
func (p *pages) submit(c *gin.Context) {
	f, err := p.readForm(c)
	if err != nil {
		p.fail(c, err)
		return
	}
	applySwitch(c, f.Event.Slug)
	f.CodeSent = true
	req := registration.ApplyRequest{Course: f.SubQueue.Course, PaceGroup: f.SubQueue.Pace, Name: f.Name, Email: f.Email,
		Phone: f.Phone, BirthDate: f.BirthDate, OTP: strings.TrimSpace(c.PostForm("otp")), GroupCode: f.GroupCode,
		Website: c.PostForm("website"), Signals: signalsJSON(f.Signals, f.Started), AdmissionToken: f.AdmissionToken,
		ClaimNote: f.ClaimNote, Answers: f.Q.answers(f.Event.Form.WithDefaults()), Consents: f.Q.consents(), Lang: p.lang(c),
		CardSetupID: f.Card.SetupID}
	if f.Previous != "" {
		n, err := strconv.Atoi(f.Previous)
		if err != nil {
			p.render(c, http.StatusUnprocessableEntity, "identity", f.Event.Name, f,
				lottery.Fieldf("previous_applications", "give a whole number"))
			return
		}
		req.PreviousApplications = &n
	}
	client := p.gate.Client(c)
	// The idempotency body is the canonical form, so a double-submitted form
	// returns the first receipt rather than a duplicate error.
	c.Request.PostForm.Del("signals")
	body := []byte(c.Request.PostForm.Encode())
	// Without JavaScript there is no proof of work: the entry is still
	// taken, under the same budgets, and goes to a reviewer (no browser check).
	w := gate.Write{Email: f.Email, Proof: c.PostForm("altcha"), IdempotencyKey: f.IdemKey, Body: body}
	check := p.gate.Runner
	if w.Proof == "" {
		check, req.NoBrowserCheck = p.gate.RunnerUnproven, true
	}
	if err := check(c, w); err != nil {
		p.withChallenge(c, &f)
		p.refused(c, "identity", f.Event.Name, f, err)
		return
	}
	res, err := p.Registration.Apply(c.Request.Context(), f.Event.Slug, req, client, f.IdemKey, body)
	if err != nil {
		p.withChallenge(c, &f)
		if lottery.CodeOf(err) == lottery.CodeInternal {
			p.fail(c, err)
			return
		}
		if isFormField(err) { // back to the questions, input kept; a new code is sent from there
			f.CodeSent, err = false, localizeFormError(p.lang(c), err)
		}
		if cardStepErr(err) { // back to the card step: the card is saved again
			f.CodeSent, f.Card, err = false, formCard{}, localizeCardError(p.lang(c), err)
		}
		p.render(c, http.StatusUnprocessableEntity, "identity", f.Event.Name, f, err)
		return
	}
	p.gate.RememberAddress(c, f.Email)
	c.Redirect(http.StatusSeeOther, "/entries/"+res.EntryID+"?token="+url.QueryEscape(res.ReceiptToken)+"&new=1")
}

func newIdemKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "web-" + hex.EncodeToString(b)
}

type entryPage struct {
	View  lottery.EntryView
	Token string
	New   bool
	Link  string
	Proof string
	// Dispute is the dispute window's section, after freeze.
	Dispute disputeSection
	// Tickets says how the entry's tickets were counted; TicketLabels
	// lists the counted editions and years.
	Tickets      lottery.TicketsExplained
	TicketLabels string
	// i13-pages: the status link as an absolute URL (STARTLINE_PUBLIC_URL
	// when set), the open decline confirmation, a declined card's message.
	AbsLink        string
	ConfirmDecline bool
	PayState       offers.PayState
	// Answers is "Edit my details" (questions.go).
	Answers answersSection
	// GiveBack is the "give back my place" section (giveback.go).
	GiveBack giveBackSection
	// Defer is "Defer to next year" (defer.go).
	Defer deferSection
	// Transfer is "Transfer my slot" (transfers.go, issue 15).
	Transfer transferSection
	// Self is the withdraw, erase and appeal sections (web/self.go).
	Self selfSection
	// Checkin is a confirmed entry's race-day check-in code (console_checkin.go).
	Checkin *checkinSection
	// CardCharge is where a saved card's charge stands (cardcharge.go, issue 15).
	CardCharge *cardChargeSection
}

func (p *pages) entry(c *gin.Context) {
	if p.cachedEntry(c) { // entrycache.go (issue 16)
		return
	}
	p.showEntry(c, c.Query("token"), http.StatusOK, "", nil)
}

// showEntry renders the status page of the entry in the path for the holder
// of tok; a refused dispute comes back here with its status, message and
// error.
func (p *pages) showEntry(c *gin.Context, tok string, status int, message string, refused error) {
	v, err := p.Registration.EntryStatus(c.Request.Context(), c.Param("id"), tok)
	if err != nil {
		p.fail(c, err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	page, err := p.entryPageOf(c, v, tok, message, refused)
	if err != nil {
		p.fail(c, err)
		return
	}
	if c.Request.Method != http.MethodGet { // a refused dispute: the switch links to the page itself
		switchByLink(c, page.Link)
	}
	p.render(c, status, "entry", v.Event.Name, page, refused)
}

// entryPageOf builds the status page of v for the holder of tok from what
// c's request says (its query's flags, its origin); the cached page
// (entrycache.go) builds it on a request of its own.
func (p *pages) entryPageOf(c *gin.Context, v lottery.EntryView, tok, message string, refused error) (entryPage, error) {
	link := "/entries/" + v.Entry.ID + "?token=" + url.QueryEscape(tok)
	proof := ""
	if v.Event.FrozenAt != nil && v.Entry.Status != lottery.EntryRejected && v.Entry.Status != lottery.EntryInReview {
		proof = "/api/v1/entries/" + v.Entry.ID + "/proof?token=" + url.QueryEscape(tok)
	}
	d, err := p.disputes(c, v)
	if err != nil {
		return entryPage{}, err
	}
	d.Message = message
	x := lottery.ExplainTickets(v.Event, v.Entry)
	page := entryPage{View: v, Token: tok, New: c.Query("new") == "1",
		Link: link, Proof: proof, Dispute: d, Tickets: x, TicketLabels: strings.Join(x.Labels, ", "),
		Answers: p.answersSection(c, v), GiveBack: p.giveBackSection(c, v, tok),
		Checkin: p.checkinSection(v), Transfer: p.transferSection(c, v), CardCharge: p.cardChargeSection(c, v)}
	if page.Self, err = p.selfSection(c, v, message, refused); err != nil {
		return entryPage{}, err
	}
	if err := p.entryExtras(c, &page); err != nil {
		return entryPage{}, err
	}
	return page, nil
}

// lookup is the status form for runners who kept the id and token but not the link.
func (p *pages) lookup(c *gin.Context) {
	id, tok := strings.TrimSpace(c.Query("entry_id")), strings.TrimSpace(c.Query("token"))
	if id != "" && tok != "" {
		if _, err := p.Registration.EntryStatus(c.Request.Context(), id, tok); err == nil {
			c.Redirect(http.StatusSeeOther, "/entries/"+url.PathEscape(strings.ToLower(id))+"?token="+url.QueryEscape(tok))
			return
		}
		p.render(c, http.StatusNotFound, "lookup", "", id, lottery.ErrNotFound)
		return
	}
	p.render(c, http.StatusOK, "lookup", "", id, nil)
}

func (p *pages) outbox(c *gin.Context) {
	msgs, err := p.Outbox.OutboxFor(c.Request.Context(), c.Query("to"), 50)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.render(c, http.StatusOK, "outbox", "Outbox", struct {
		To   string
		Msgs []lottery.Mail
	}{c.Query("to"), msgs}, nil)
}

// resultsPage lists each sub-queue's draw; winner lists are capped on the
// page (the artifact carries them all).
type resultsPage struct {
	Event lottery.Event
	Phase lottery.EventStatus
	Draws []drawView
	Drawn bool      // some sub-queue is drawn: "find my entry" has something to find
	Find  *findView // the answer to "find my entry", when asked
	// RevealNotBefore is when the dispute window ends (zero before freeze).
	RevealNotBefore time.Time
}

type drawView struct {
	lottery.DrawInfo
	Name     string     // the course and pace group, as runners read them
	Stats    *drawStats // what the draw did by ticket count, once drawn
	Winners  []string
	Waitlist []string
	More     int
	Artifact string
	Frozen   string // the frozen list freeze published
}

const maxListed = 500

func (p *pages) results(c *gin.Context) {
	// Without "find my entry" the page is the same for everyone in a language.
	lang, slug := p.lang(c), c.Param("slug")
	id, asked := c.GetQuery("entry")
	if !asked {
		p.publicPage(c, "results|"+slug+"|"+lang, slug, lang, "results", url.Values{},
			func(ctx context.Context) (string, any, error) {
				page, _, err := p.resultsPage(ctx, slug)
				return page.Event.Name, page, err
			})
		return
	}
	page, ds, err := p.resultsPage(c.Request.Context(), slug)
	if err != nil {
		p.fail(c, err)
		return
	}
	status := http.StatusOK
	if page.Drawn {
		f, err := p.findEntry(c.Request.Context(), page.Event, ds, id)
		if err != nil {
			p.fail(c, err)
			return
		}
		page.Find = &f
		c.Header("Cache-Control", "private, max-age=5")
		if !f.Found {
			status = http.StatusNotFound
		}
	}
	p.render(c, status, "results", page.Event.Name, page, nil)
}

// resultsPage reads what the results page shows of an event's draws.
func (p *pages) resultsPage(ctx context.Context, slug string) (resultsPage, []lottery.DrawInfo, error) {
	ev, ds, err := p.Draws.Draws(ctx, slug)
	if err != nil {
		return resultsPage{}, nil, err
	}
	page := resultsPage{Event: ev, Phase: ev.Phase(p.Svc.Now())}
	page.RevealNotBefore, _ = lottery.RevealNotBefore(ev)
	stats := p.drawResults(ctx, ev, ds)
	for _, d := range ds {
		v := drawView{DrawInfo: d, Name: ev.SubQueueName(d.SubQueue), Frozen: "/api/v1/events/" + ev.Slug + "/draws/" + d.SubQueue + "/frozen.json"}
		if st, ok := stats[d.SubQueueID]; ok {
			v.Stats = &st
		}
		if d.Status == lottery.DrawDrawn {
			page.Drawn = true
			v.Artifact = drawArtifactPath(ev.Slug, d.SubQueue)
			places, ids, err := p.Draws.DrawOrder(ctx, d.SubQueueID, maxListed)
			if err != nil {
				return resultsPage{}, nil, err
			}
			for i, pl := range places {
				if pl.Selected {
					v.Winners = append(v.Winners, ids[i])
				} else {
					v.Waitlist = append(v.Waitlist, ids[i])
				}
			}
			v.More = d.Selected + d.Waitlisted - len(ids)
		}
		page.Draws = append(page.Draws, v)
	}
	return page, ds, nil
}

// offerAction accepts, declines or pays an offer from the status page.
func (p *pages) offerAction(c *gin.Context) {
	tok := c.PostForm("token")
	if c.Param("action") == "pay" {
		if _, err := uuid.Parse(c.Param("id")); err != nil {
			p.fail(c, lottery.ErrNotFound)
			return
		}
		o, err := p.Offers.OfferOf(c.Request.Context(), strings.ToLower(c.Param("id")))
		if err != nil {
			p.fail(c, err)
			return
		}
		// The provider sends the runner back to the entry's page on the
		// public origin (through a proxy: the one the browser used).
		back := "/entries/" + url.PathEscape(o.EntryID) + "?token=" + url.QueryEscape(tok)
		ret, err := p.Site.Absolute(c.Request, back)
		if err != nil {
			p.fail(c, err)
			return
		}
		pay, err := p.Offers.Pay(c.Request.Context(), o.ID, tok, ret)
		if err != nil {
			p.fail(c, err)
			return
		}
		if pay.CheckoutURL == "" { // a free place: confirmed, nothing to pay
			c.Redirect(http.StatusSeeOther, back)
			return
		}
		if strings.HasPrefix(pay.CheckoutURL, stripe.CheckoutScheme) {
			// The client secret goes in the page, never in a URL.
			secret, ret, err := stripe.ParseCheckoutURL(pay.CheckoutURL)
			if err != nil {
				p.fail(c, err)
				return
			}
			c.Header("Cache-Control", "no-store")
			switchByLink(c, back) // the page answers a post: the switch goes back to the entry
			p.render(c, http.StatusOK, "stripe_checkout", translator(p.lang(c))("stripe.title"), map[string]string{"Key": p.StripePublishableKey,
				"Secret": secret, "Return": ret, "Back": back,
				"Price": lottery.Money{Amount: pay.AmountMinor, Currency: pay.Currency}.String()}, nil)
			return
		}
		c.Redirect(http.StatusSeeOther, pay.CheckoutURL+"&back="+url.QueryEscape(back))
		return
	}
	if c.Param("action") == lottery.OfferActionDecline && c.PostForm("confirm") != "yes" {
		p.confirmDecline(c, tok) // declining cannot be undone: ask first
		return
	}
	o, err := p.Offers.OfferAction(c.Request.Context(), c.Param("id"), tok, c.Param("action"))
	if err != nil && lottery.CodeOf(err) != lottery.CodeOfferExpired {
		p.fail(c, err)
		return
	}
	if err != nil { // expired: the status page says so
		o, _ = p.Offers.OfferOf(c.Request.Context(), c.Param("id"))
	}
	c.Redirect(http.StatusSeeOther, "/entries/"+o.EntryID+"?token="+url.QueryEscape(tok))
}

// sandboxCheckout is the sandbox provider's hosted test checkout. The
// session in the path must be one the pay flow created; what it shows and
// pays comes from that session, never from the link's query.
func (p *pages) sandboxCheckout(c *gin.Context) {
	pay, ok := p.Sandbox.Session(c.Param("id"))
	if !ok {
		p.fail(c, lottery.ErrNotFound)
		return
	}
	c.Header("Cache-Control", "no-store")
	p.render(c, http.StatusOK, "sandbox", translator(p.lang(c))("sandbox.title"), sandboxPage(pay, p.sandboxBack(c, c.Query("back"), c.Query("return"))), nil)
}

func sandboxPage(pay lottery.Payment, back string) map[string]string {
	return map[string]string{"ID": pay.ID, "Offer": pay.OfferID, "Amount": strconv.FormatInt(pay.AmountMinor, 10),
		"Currency": strings.ToUpper(pay.Currency), "Back": back,
		"Price": lottery.Money{Amount: pay.AmountMinor, Currency: pay.Currency}.String()}
}

// sandboxBack is where the checkout returns: back when it is a path on this
// site, else the provider's return URL when it is on this site (an API
// client's, absolute on the public origin), else the home page.
func (p *pages) sandboxBack(c *gin.Context, back, ret string) string {
	if b, err := httpkit.LocalPath(back); err == nil {
		return b
	}
	if r, err := p.Site.OnSite(c.Request, ret); err == nil {
		return r
	}
	return "/"
}

// sandboxOutcome plays the provider: it signs the webhook for the chosen
// outcome and delivers it to the same handler a real provider would reach.
// As at a real provider, the checkout is bound to its session (created by
// the pay flow, which took the receipt token) and its offer, and authorizes
// only while the offer is payable.
func (p *pages) sandboxOutcome(c *gin.Context) {
	outcome := c.Param("outcome")
	if outcome != "pay" && outcome != "fail" && outcome != "cancel" { // capture is the provider's, not the runner's
		p.fail(c, lottery.ErrNotFound)
		return
	}
	pay, ok := p.Sandbox.Session(c.Param("id"))
	if !ok {
		p.fail(c, lottery.ErrNotFound)
		return
	}
	page := sandboxPage(pay, p.sandboxBack(c, c.PostForm("back"), ""))
	switchByLink(c, "/sandbox/checkout/"+url.PathEscape(pay.ID)+"?"+url.Values{"back": {page["Back"]}}.Encode())
	refuse := func(err error) {
		if code := lottery.CodeOf(err); code == lottery.CodeNotFound || code == lottery.CodeInternal {
			p.fail(c, err)
			return
		}
		p.render(c, httpkit.StatusOf(err), "sandbox", translator(p.lang(c))("sandbox.title"), page, err)
	}
	if outcome == "pay" {
		if err := p.Offers.CheckCheckoutPayable(c.Request.Context(), pay.ID, pay.OfferID); err != nil {
			refuse(err)
			return
		}
	}
	payload, header, err := p.Sandbox.Event(pay.ID, c.PostForm("offer"), outcome, p.Svc.Now())
	if err != nil {
		refuse(err)
		return
	}
	if err := p.Offers.HandlePaymentWebhook(c.Request.Context(), p.Sandbox.Name(), payload, header); err != nil {
		p.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, page["Back"])
}
