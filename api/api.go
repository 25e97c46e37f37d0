package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/antibot/guard"
	"github.com/startline/startline/internal/gate"
	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/internal/readcache"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/checkin"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/drawstats"
	"github.com/startline/startline/lottery/exports"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/lottery/review"
	"github.com/startline/startline/lottery/selfservice"
	"github.com/startline/startline/lottery/series"
	"github.com/startline/startline/lottery/staff"
	"github.com/startline/startline/lottery/waitroom"
)

// Deps is what the API needs.
type Deps struct {
	Svc      *lottery.Service
	Draws    *draws.Service     // freeze/reveal/draw steps, draw views, artifacts, proofs
	Offers   *offers.Service    // offer actions, pay, webhooks, capacity, offer stats
	Staff    *staff.Service     // staff accounts, tokens, sessions and logins
	Review   *review.Service    // the review queue and decisions
	Waitroom *waitroom.Service  // waiting-room joins, polls and pre-queue artifacts
	Stats    *drawstats.Service // live odds and draw statistics; nil: none shown
	Series   *series.Service    // series, editions and history imports
	Exports  *exports.Service   // CSV exports and bibs (issue 14)
	Guard    *guard.Guard
	Outbox   lottery.MailStore
	Log      *slog.Logger
	Dev      bool
	Readyz   func(ctx context.Context) error // PostgreSQL and Redis reachable
	MaxBody  int64
	// Registration runs e-mail codes, applications and entry status, and
	// answers the gate's Idempotency-Key check.
	Registration *registration.Service
	// Site is the public URL and trusted-proxy policy: cookies' Secure
	// attribute and the absolute URLs the pay route answers.
	Site *httpkit.Site
	// Self runs "my entries", withdrawals, erasures (issue 13).
	Self *selfservice.Service
	// Checkin is race-day check-in (issue 15); nil: no check-in routes.
	Checkin *checkin.Service
	// Cards tells where a saved card's off-session charge stands (issue
	// 15); nil: the entry status carries no card_charge.
	Cards *offers.Charger
	// Views keeps encoded event, results and entry status views in memory
	// (issue 16, readcache.go); nil: built per request.
	Views *readcache.Cache
	// ViewSync returns once every change committed so far has reached
	// Views (postgres.ViewFeed.Sync); write routes call it before
	// answering, so this process's next read shows the write. nil: none.
	ViewSync func(context.Context) error
}

type handler struct {
	Deps
	gate *gate.Gate // the runner and staff-login checks, shared with the pages
}

// NotFound answers a request for a route the API does not have with the
// API's JSON error (404 not_found), so scripts never get an HTML page.
func NotFound(c *gin.Context) {
	c.AbortWithStatusJSON(http.StatusNotFound, errorBody{errorDetail{Code: lottery.CodeNotFound, Message: "no such route"}})
}

// Register mounts the API routes on r.
func Register(r *gin.Engine, d Deps) {
	if d.MaxBody == 0 {
		d.MaxBody = 64 << 10
	}
	h := &handler{Deps: d, gate: gate.New(d.Guard, d.Registration, d.Staff)}
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", h.readyz)

	v1 := r.Group("/api/v1", httpkit.CheckInput(h.refuse, false), h.limitBody, h.syncViews)
	v1.GET("/events", h.listEvents)
	v1.GET("/events/:slug", h.getEvent)
	v1.POST("/events/:slug/challenge", h.challenge)
	v1.POST("/events/:slug/otp", h.requestOTP)
	v1.POST("/events/:slug/entries", h.apply)
	v1.POST("/events/:slug/queue", h.joinQueue)
	v1.GET("/queue/:ticket", h.queueStatus)
	v1.GET("/entries/:id", h.entryStatus)
	v1.GET("/entries/:id/proof", h.entryProof)
	v1.GET("/entries/:id/disputes", h.entryDisputes)
	v1.POST("/entries/:id/disputes", h.fileDispute)
	v1.POST("/entries/:id/answers", h.editAnswers)
	v1.POST("/entries/:id/withdraw", h.withdraw)
	v1.POST("/entries/:id/erase", h.erase)
	v1.POST("/entries/:id/appeal", h.fileAppeal)
	v1.POST("/me/otp", h.meOTP)
	v1.POST("/me/entries", h.meEntries)
	v1.POST("/offers/:id/:action", h.offerAction)
	v1.POST("/entries/:id/give-back", h.giveBack)
	h.registerTransfers(v1) // issue 15: face-value transfers
	v1.POST("/payments/:provider/webhook", h.paymentWebhook)
	v1.GET("/events/:slug/draws", h.draws)
	v1.GET("/events/:slug/draws/:subqueue/artifact.json", h.artifact)
	v1.GET("/events/:slug/draws/:subqueue/frozen.json", h.frozenList)
	v1.GET("/events/:slug/prequeue/:subqueue/artifact.json", h.prequeueArtifact)

	v1.POST("/staff/login", h.refuseCrossSite, h.staffLogin)
	v1.POST("/staff/logout", h.staffLogout)
	review := v1.Group("/review", h.staffAuth, requireRole(lottery.RoleReviewer, lottery.RoleOrganizer))
	review.GET("/queue", h.reviewQueue)
	review.GET("/entries/:id", h.reviewEntry)
	review.POST("/entries/:id/decision", h.decide)
	review.GET("/disputes", h.reviewDisputes)
	review.POST("/disputes/:id/answer", h.answerDispute)
	review.POST("/entries/:id/claim", h.decideClaim)
	review.GET("/appeals", h.reviewAppeals)
	review.POST("/appeals/:id/decision", h.decideAppeal)

	admin := v1.Group("/admin", h.staffAuth, requireRole(lottery.RoleOrganizer), h.orgScope)
	admin.POST("/events", h.createEvent)
	admin.POST("/events/:slug/:action", h.transition)
	admin.PATCH("/events/:slug", h.editEvent)
	admin.POST("/events/:slug/subqueues/:key/capacity", h.setCapacity)
	admin.PUT("/events/:slug/questions", h.setForm)
	admin.GET("/events/:slug/offers", h.offerStats)
	h.registerExports(admin)
	h.registerLifecycle(admin) // issue 14: waiting-room pause, resume, rate
	h.registerDrafts(admin)
	h.registerCheckin(v1)          // issue 15: race-day check-in
	h.registerDeferrals(v1, admin) // issue 15: deferral to the next edition
	h.registerDeferralFee(v1)      // issue 15: paying a deferral's fee
	h.registerCards(v1, admin)     // issue 15: card on file at apply
	admin.POST("/series", h.createSeries)
	admin.POST("/series/:slug/events", h.attachEvent)
	// A history file is larger than the API's other bodies: its own limit.
	r.POST("/api/v1/admin/series/:slug/history", httpkit.CheckInput(h.refuse, false), h.staffAuth,
		requireRole(lottery.RoleOrganizer), h.orgScope, h.importHistory)

	if d.Dev {
		r.GET("/dev/outbox.json", httpkit.CheckInput(h.refuse, false), h.outboxJSON)
	}
}

// refuse answers the edge's refusals.
func (h *handler) refuse(c *gin.Context, err error) { writeError(c, h.Log, err) }

func (h *handler) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := h.Readyz(ctx); err != nil {
		h.Log.WarnContext(ctx, "not ready", "err", err)
		c.JSON(http.StatusServiceUnavailable, errorBody{errorDetail{Code: lottery.CodeUnavailable, Message: "dependencies unreachable"}})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

func (h *handler) limitBody(c *gin.Context) {
	// A GET's body is never read: no limiter to allocate on the hot reads
	// (issue 16's profiles).
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, h.MaxBody)
	}
	c.Next()
}

// readBody returns the raw body (apply hashes it for idempotency).
func readBody(c *gin.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return nil, &lottery.Error{Code: lottery.CodeInvalidJSON, Message: "the body is too large or unreadable"}
	}
	return b, nil
}

const staffKey = "staff"

// staffAuth accepts `Authorization: Bearer <token>` from `startline staff
// token`, or the browser session cookie set by staff login; a state change
// on the cookie must pass checkCSRF.
func (h *handler) staffAuth(c *gin.Context) {
	tok, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	viaCookie := false
	if !ok {
		if ck, err := c.Cookie(httpkit.StaffCookie); err == nil {
			tok, ok, viaCookie = ck, true, true
		}
	}
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="startline"`)
		writeError(c, h.Log, lottery.ErrUnauthorized)
		return
	}
	acct, err := h.Staff.Authenticate(c.Request.Context(), strings.TrimSpace(tok))
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer realm="startline", error="invalid_token"`)
		writeError(c, h.Log, err)
		return
	}
	if viaCookie && !h.checkCSRF(c, tok) {
		return
	}
	c.Set(staffKey, acct)
	c.Next()
}

// requireRole refuses staff without one of the roles (checked on every admin route).
func requireRole(roles ...lottery.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		acct := c.MustGet(staffKey).(lottery.StaffAccount)
		for _, r := range roles {
			if acct.Role == r {
				c.Next()
				return
			}
		}
		c.AbortWithStatusJSON(http.StatusForbidden, errorBody{errorDetail{Code: lottery.CodeForbidden,
			Message: "your role may not do this"}})
	}
}

func staffOf(c *gin.Context) lottery.StaffAccount { return c.MustGet(staffKey).(lottery.StaffAccount) }
