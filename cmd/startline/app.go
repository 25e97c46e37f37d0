package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"

	"github.com/startline/startline/antibot/guard"
	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/antibot/ipintel"
	"github.com/startline/startline/antibot/pow"
	abredis "github.com/startline/startline/antibot/redis"
	"github.com/startline/startline/api"
	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/internal/metrics"
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
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/lottery/review"
	"github.com/startline/startline/lottery/selfservice"
	"github.com/startline/startline/lottery/series"
	"github.com/startline/startline/lottery/staff"
	"github.com/startline/startline/lottery/waitroom"
	"github.com/startline/startline/web"
	"github.com/startline/startline/worker"
)

// app holds the opened dependencies shared by the commands.
type app struct {
	cfg      config
	log      *slog.Logger
	store    *postgres.Store
	redis    redis.UniversalClient
	asynqOpt asynq.RedisConnOpt
	tasks    *worker.Client
	queues   *asynqmon.HTTPHandler // the staff queue monitor; opened by router
	svc      *lottery.Service
	reg      *registration.Service
	draws    *draws.Service
	stats    *drawstats.Service // odds before the draw, statistics after
	series   *series.Service    // series, editions, history imports
	exports  *exports.Service   // CSV exports, bibs, the entries list (issue 14)
	checkin  *checkin.Service   // race-day check-in (issue 15)
	offers   *offers.Service
	waitroom *waitroom.Service
	staff    *staff.Service
	review   *review.Service
	self     *selfservice.Service // my entries, withdraw, erase, retention
	guard    *guard.Guard
	sandbox  *sandbox.Provider
	cards    *offers.Charger // the card-on-file charge pass (issue 15); nil: the provider saves no cards
	site     *httpkit.Site   // public URL and trusted proxies: cookies, absolute URLs
	mails    *lottery.MailRenderer
	metrics  *metrics.Metrics // GET /metrics; the apply decisions, mail and task failures report here
	inspect  *asynq.Inspector // the task queues' sizes for the metrics
	views    *readcache.Cache // the API's read cache (views.go); nil: none
	viewSync func(context.Context) error
	viewSay  func(context.Context, string) error // announce a tag's change to every process (web status page)
}

// outbox is the dev outbox's view of the mail: intents rendered as the
// worker would send them.
func (a *app) outbox() lottery.MailStore {
	return lottery.RenderingOutbox{MailStore: a.store, Renderer: a.mails}
}

func openApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	site, err := httpkit.NewSite(cfg.PublicURL, cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("STARTLINE_PUBLIC_URL, STARTLINE_TRUSTED_PROXIES: %w", err)
	}
	keys, err := lottery.NewKeys(cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	store, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{Log: log, PseudonymKey: keys.Derive("series-earned")})
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, store: store, site: site}
	if len(cfg.RedisClusterAddrs) > 0 {
		a.redis = redis.NewClusterClient(clusterOptions(cfg.RedisClusterAddrs))
		a.asynqOpt = asynq.RedisClusterClientOpt{Addrs: cfg.RedisClusterAddrs}
	} else {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		if opt.PoolSize == 0 {
			opt.PoolSize = redisPoolSize()
		}
		a.redis = redis.NewClient(opt)
		a.asynqOpt = asynq.RedisClientOpt{Addr: opt.Addr, Username: opt.Username, Password: opt.Password, DB: opt.DB,
			TLSConfig: opt.TLSConfig}
	}
	a.tasks = worker.NewClient(a.asynqOpt, cfg.Queue)
	svcCfg := lottery.Config{PhoneRegion: cfg.PhoneRegion}
	if cfg.DisposableFile != "" {
		if svcCfg.Disposable, err = loadDisposable(cfg.DisposableFile); err != nil {
			a.close()
			return nil, err
		}
		log.Info("disposable-domain list loaded", "file", cfg.DisposableFile, "domains", svcCfg.Disposable.Len())
	}
	// Loaded now, not on the first apply, so a bad override fails at start
	// and no runner waits for the parse.
	if cfg.IPIntelDir != "" {
		if svcCfg.Networks, err = ipintel.Open(cfg.IPIntelDir); err != nil {
			a.close()
			return nil, fmt.Errorf("STARTLINE_IPINTEL_DIR: %w", err)
		}
	} else {
		svcCfg.Networks = ipintel.Default()
	}
	countries, networks := svcCfg.Networks.Len()
	log.Info("IP tables loaded", "dir", cfg.IPIntelDir, "country_ranges", countries, "hosting_ranges", networks)
	a.svc = lottery.NewService(store, keys, lottery.SystemClock{}, a.tasks, log, svcCfg)
	a.reg = registration.NewService(store, a.svc, keys, lottery.SystemClock{}, a.tasks, log, svcCfg)
	a.inspect = asynq.NewInspector(a.asynqOpt)
	a.metrics = newMetrics(store, queueSizes(a.inspect, worker.QueuesFor(cfg.Queue).Names()), log)
	a.reg.UseObserver(a.metrics)
	a.draws = draws.NewService(store, a.svc, a.reg, keys, a.tasks, log)
	a.stats = drawstats.NewService(store, lottery.SystemClock{}, log, drawstats.Config{})
	a.series = series.NewService(store, cfg.PhoneRegion, a.svc.ForgetEvent)
	a.exports = exports.NewService(store, a.svc, log, cfg.PhoneRegion)
	a.checkin = checkin.NewService(store, checkin.NewSigner(keys.Derive("checkin")), a.svc.Now)
	a.svc.UseDraws(a.stats.FinalOnFreeze(a.draws)) // a freeze also publishes the final odds
	a.offers = offers.NewService(store, a.svc, keys, lottery.SystemClock{}, a.tasks, log)
	a.svc.UseCanceller(a.offers)                // cancel: offers end, paid slots refunded
	a.offers.UseTransfers(a.reg, cfg.mailURL()) // issue 15: face-value transfers
	a.waitroom = waitroom.NewService(store, a.svc, keys, lottery.SystemClock{}, a.tasks, log, svcCfg)
	a.staff = staff.NewService(store, store, keys, lottery.SystemClock{}, a.tasks, log, staff.Config{Networks: svcCfg.Networks})
	a.review = review.NewService(store, lottery.SystemClock{}, a.tasks, log, svcCfg.Networks)
	a.svc.UseClusters(a.review) // the freeze's last sweep
	a.review.UseEntries(a.reg)  // runners' disputes check the receipt
	a.review.UseObserver(a.metrics)
	a.self = selfservice.NewService(store, a.reg, a.svc, keys, lottery.SystemClock{}, a.tasks, log, selfservice.Config{Retention: cfg.Retention})
	a.mails = lottery.NewMailRenderer(store, keys, cfg.mailURL())
	a.mails.UseCheckinCodes(a.checkin.Signer().Code)
	switch {
	case cfg.StripeSecretKey != "":
		sp, err := stripe.New(stripe.Config{APIKey: cfg.StripeSecretKey, WebhookSecret: cfg.StripeWebhookKey,
			ReturnURLBase: cfg.PublicURL})
		if err != nil {
			a.close()
			return nil, err
		}
		useCardSetups(a.reg, sp)
		a.offers.UsePayments(sp)
		a.useCards(sp)
	case cfg.dev():
		// The built-in test provider with its hosted test checkout.
		a.sandbox = sandbox.NewShared(keys.Derive("sandbox"), redisSandboxState{rdb: a.redis, prefix: "startline:sandbox:"})
		useCardSetups(a.reg, a.sandbox)
		a.offers.UsePayments(a.sandbox)
		a.useCards(a.sandbox)
	default:
		log.Warn("no payment provider: set STRIPE_SECRET_KEY; offers can be accepted but not paid")
	}
	hashKey := keys.Derive("ratelimit-keys")
	lim, err := abredis.NewLimiter(a.redis, "startline:", rateRules(), cfg.RateLimitFailOpen, log,
		abredis.WithHashSecret(hashKey))
	if err != nil {
		a.close()
		return nil, err
	}
	a.guard = &guard.Guard{Limiter: lim, Replay: abredis.NewReplay(a.redis, "startline:"), Known: abredis.NewKnown(a.redis, "startline:", hashKey),
		PoW: pow.Issuer{Key: keys.Derive("altcha")}, CookieKey: keys.CookieKey(), FailOpen: cfg.RateLimitFailOpen, Log: log,
		Site: site}
	return a, nil
}

// useCardSetups lets registration save cards at apply (issue 15: card on
// file) when the payment provider can (the sandbox, Stripe).
func useCardSetups(reg *registration.Service, p lottery.PaymentProvider) {
	if cp, ok := p.(lottery.CardProvider); ok {
		reg.UseCards(cp)
	}
}

func (a *app) close() {
	if a.tasks != nil {
		a.tasks.Close()
	}
	if a.queues != nil {
		a.queues.Close()
	}
	if a.inspect != nil {
		a.inspect.Close()
	}
	if a.redis != nil {
		a.redis.Close()
	}
	a.store.Close()
}

func (a *app) ready(ctx context.Context) error {
	if err := a.store.Ping(ctx); err != nil {
		return err
	}
	if err := pingRedis(ctx, a.redis); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

func loadDisposable(path string) (*identity.DisposableList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("STARTLINE_DISPOSABLE_DOMAINS: %w", err)
	}
	defer f.Close()
	l, err := identity.LoadDisposable(f)
	if err != nil {
		return nil, fmt.Errorf("STARTLINE_DISPOSABLE_DOMAINS %s: %w", path, err)
	}
	return l, nil
}

// rateRules are the production limits: the library defaults, with the
// per-IP budget raised so a household or a campus behind one NAT address
// still gets in (devices and addresses carry the tighter limits).
func rateRules() []abredis.Rule {
	rules := []abredis.Rule{
		{Kind: abredis.KindIP, Rate: limiter.Rate{Limit: 120, Period: time.Minute}},
		{Kind: abredis.KindIP, Rate: limiter.Rate{Limit: 2000, Period: time.Hour}},
	}
	for _, r := range abredis.DefaultRules() {
		if r.Kind != abredis.KindIP {
			rules = append(rules, r)
		}
	}
	return rules
}

// router builds the Gin engine with the API and web pages.
func (a *app) router() (*gin.Engine, error) {
	// GET /metrics is a middleware, not a route: a refused client gets the
	// site's ordinary 404 page.
	r, err := httpkit.NewEngine(a.cfg.TrustedProxies, requestLog(a.log), a.metrics.Middleware(), a.metrics.Serve(a.cfg.MetricsAllow))
	if err != nil {
		return nil, err
	}
	api.Register(r, api.Deps{Svc: a.svc, Registration: a.reg, Draws: a.draws, Stats: a.stats, Guard: a.guard, Outbox: a.outbox(), Log: a.log, Dev: a.cfg.dev(), Readyz: a.ready,
		Offers:   a.offers,
		Cards:    a.cards,
		Waitroom: a.waitroom,
		Staff:    a.staff,
		Review:   a.review,
		Self:     a.self,
		Series:   a.series,
		Exports:  a.exports,
		Checkin:  a.checkin,
		Views:    a.views,
		ViewSync: a.viewSync,
		Site:     a.site})
	// The Asynq monitor (asynqmon), the maintained web UI for the task
	// queues; web shows it to signed-in staff only. Read-only: a change
	// made there (pausing a queue, deleting a task) would be a staff action
	// the audit log never sees.
	if a.queues == nil {
		a.queues = asynqmon.New(asynqmon.Options{RootPath: web.QueuesPath, RedisConnOpt: a.asynqOpt, ReadOnly: true})
	}
	if err := web.Register(r, web.Deps{APINotFound: api.NotFound, PageCacheTTL: time.Second, Views: a.views, ViewSync: a.viewSync, ViewAnnounce: a.viewSay, Svc: a.svc, Registration: a.reg, Draws: a.draws, Stats: a.stats, Guard: a.guard, Sandbox: a.sandbox, StripePublishableKey: a.cfg.StripePublicKey, Outbox: a.outbox(), Log: a.log, Dev: a.cfg.dev(),
		Offers:   a.offers,
		Cards:    a.cards,
		Waitroom: a.waitroom,
		Staff:    a.staff,
		Review:   a.review,
		Self:     a.self,
		Series:   a.series,
		Exports:  a.exports,
		Checkin:  a.checkin,
		Site:     a.site,
		Queues:   a.queues,
		// The dashboard's numbers are kept 20 s per event (lottery/dashboard).
		Dashboard: dashboard.NewService(a.store, lottery.SystemClock{}, dashboard.Config{})}); err != nil {
		return nil, err
	}
	return r, nil
}

// newMetrics builds the Prometheus series; the gauges are read from
// PostgreSQL at each scrape.
func newMetrics(store *postgres.Store, queues func(context.Context) ([]metrics.QueueSize, error), log *slog.Logger) *metrics.Metrics {
	entries := []string{}
	for _, s := range []lottery.EntryStatus{lottery.EntryReceived, lottery.EntryInReview, lottery.EntryRejected, lottery.EntryEligible,
		lottery.EntrySelected, lottery.EntryWaitlisted, lottery.EntryOffered, lottery.EntryConfirmed, lottery.EntryDeclined,
		lottery.EntryExpired, lottery.EntryWithdrawn, lottery.EntryTransferred, lottery.EntryDeferred} {
		entries = append(entries, string(s))
	}
	offers := []string{}
	for _, s := range []lottery.OfferStatus{lottery.OfferPending, lottery.OfferAccepted, lottery.OfferPaid, lottery.OfferDeclined,
		lottery.OfferExpired, lottery.OfferVoid, lottery.OfferTransferHold} {
		offers = append(offers, string(s))
	}
	return metrics.New(metrics.Options{Log: log, EntryStates: entries, OfferStates: offers, Queues: queues,
		TaskTypes: []string{worker.TypeSendMail, worker.TypeSweepOutbox, worker.TypeDrawSubqueue, worker.TypeReconcileDraws,
			worker.TypeClusterSweep, worker.TypeExpireOffer, worker.TypeReconcileOffers, worker.TypeRemindOffers,
			worker.TypeRetryRefunds, worker.TypeAdmitQueues, worker.TypeRefreshOdds, worker.TypeRetention, worker.TypeFoldTallies, worker.TypeChargeCards, worker.TypeExpireTransfers},
		Counts: func(ctx context.Context) (metrics.Counts, error) {
			c, err := store.OpsCounts(ctx)
			lines := make([]metrics.Line, len(c.Lines))
			for i, l := range c.Lines {
				lines[i] = metrics.Line{Event: l.EventSlug, SubQueue: l.SubQueueKey, Waiting: l.Waiting, Admitted: l.Admitted}
			}
			return metrics.Counts{Entries: c.Entries, Offers: c.Offers, OutboxUnsent: c.OutboxUnsent, Lines: lines}, err
		}})
}

// requestLog logs one line per request: route pattern, status and latency,
// never the query string (receipt tokens travel there) or personal data.
func requestLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		lvl := slog.LevelDebug
		// 503s are a dependency outage, logged once per interval by the
		// error writers: one line per request would flood the log.
		if c.Writer.Status() >= 500 && c.Writer.Status() != http.StatusServiceUnavailable {
			lvl = slog.LevelWarn
		}
		if !log.Enabled(c.Request.Context(), lvl) {
			return // the usual case: no boxing of the fields on every hot read
		}
		log.Log(c.Request.Context(), lvl, "http", "method", c.Request.Method, "route", route,
			"status", c.Writer.Status(), "ms", time.Since(start).Milliseconds())
	}
}

func migrateCmd(ctx context.Context, cfg config, out io.Writer) error {
	applied, err := postgres.Migrate(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "migrations applied: %d\n", len(applied))
	return nil
}

// serveCmd runs the HTTP server, the worker, or both, until ctx ends, then
// shuts down gracefully.
func serveCmd(ctx context.Context, cfg config, log *slog.Logger, http_, work bool) error {
	if !cfg.dev() && cfg.PublicURL == "" {
		// Without it, whether cookies are Secure would rest on a proxy
		// header, and the worker's mails would carry links to nowhere.
		return errors.New("STARTLINE_PUBLIC_URL is required in production (e.g. https://run.example)")
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	log.Info("starting", cfg.masked()...)
	if err := checkSecretKey(ctx, a.store, cfg.SecretKey); err != nil {
		if !cfg.dev() || !errors.Is(err, errKeyMismatch) {
			return err // a production node with a stranger's key must not take traffic
		}
		log.Error("secret key", "err", err)
	}
	stopMetrics, err := serveMetrics(cfg.MetricsAddr, a.metrics, cfg.MetricsAllow, log)
	if err != nil {
		return err
	}
	defer stopMetrics()

	var wsrv *worker.Server
	if work {
		mailer := &worker.Mailer{Store: a.store, Renderer: a.mails, Client: a.tasks, Redact: !cfg.dev(), Log: log,
			OnSendFailure: a.metrics.MailFailed}
		if cfg.SMTPURL != "" {
			s, err := worker.NewSMTPSender(cfg.SMTPURL, cfg.SMTPFrom)
			if err != nil {
				return err
			}
			mailer.Sender = s
			defer s.Close() // after the worker's shutdown: its last sends are done
		} else if !cfg.dev() {
			log.Warn("SMTP_URL is empty: mail stays in the outbox")
		}
		wsrv, err = worker.NewServer(worker.Options{Redis: a.asynqOpt, Queue: cfg.Queue, Concurrency: cfg.WorkerConcurrency, Log: log, Mailer: mailer,
			Drawer:        &worker.Drawer{Review: a.review, Draws: a.draws, Offers: a.offers, Waitroom: a.waitroom, Log: log},
			Odds:          &worker.Odds{Stats: a.stats, Log: log},
			Retention:     &worker.Retention{Self: a.self, Log: log},
			Tallies:       &worker.Tallies{Store: a.store, Log: log},
			Cards:         a.workerCards(log),
			OnTaskFailure: a.metrics.TaskFailed})
		if err != nil {
			return err
		}
		if err := wsrv.Start(); err != nil {
			return err
		}
		defer wsrv.Shutdown()
	}
	if !http_ {
		<-ctx.Done()
		log.Info("shutting down worker")
		return nil
	}
	a.startViews(ctx)
	r, err := a.router()
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: cfg.HTTPAddr, Handler: r, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("listening", "addr", cfg.HTTPAddr)
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
