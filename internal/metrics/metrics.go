// Package metrics is the service's Prometheus exposition: the startline_*
// series, the Gin middleware that times requests, and the collector that
// reads the entries', offers' and outbox's counts when scraped. Only
// cmd/startline imports it; the lottery packages report through small
// interfaces (registration.ApplyObserver) and hooks.
package metrics

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/startline/startline/antibot"
)

// Counts is what a scrape reads from the database.
type Counts struct {
	Entries      map[string]int64 // by status
	Offers       map[string]int64 // by status
	OutboxUnsent int64
	// Lines are the waiting-room lines now admitting, at most a few dozen
	// (the store caps them): event slugs from the database, never from a
	// request.
	Lines []Line
}

// Line is one ordered sub-queue's waiting-room line.
type Line struct {
	Event, SubQueue string
	Waiting         int64 // runners in the line, not yet admitted
	Admitted        int64 // the highest place admitted so far (only grows)
}

// Options configures the series.
type Options struct {
	// Counts reads the gauges; it is given CountTimeout (default 2 s).
	Counts       func(ctx context.Context) (Counts, error)
	CountTimeout time.Duration
	// EntryStates, OfferStates and TaskTypes are the label values shown
	// at zero before anything happened, so dashboards and alerts see them.
	EntryStates, OfferStates, TaskTypes []string
	// Queues reads the task queues' sizes (Asynq); it is given
	// QueueTimeout (default 1 s) and its answer is kept QueueCacheTTL
	// (default 5 s), so frequent scrapes do not load Redis.
	Queues        func(ctx context.Context) ([]QueueSize, error)
	QueueTimeout  time.Duration
	QueueCacheTTL time.Duration
	Log           *slog.Logger
}

// Metrics holds the registry and the series the service updates.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	decisions    *prometheus.CounterVec
	reasons      *prometheus.CounterVec
	mailFailures prometheus.Counter
	taskFailures *prometheus.CounterVec
	reviews      *prometheus.CounterVec
	cardCharges  *prometheus.CounterVec // cards.go (issue 15)
	taskTypes    map[string]bool        // the task_failures label's values; others count as "other"
}

// New registers every series on a registry of its own (no global state,
// so tests can build several).
func New(o Options) *Metrics {
	if o.CountTimeout <= 0 {
		o.CountTimeout = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "startline_http_requests_total",
			Help: "HTTP requests by route pattern, method and status class."}, []string{"route", "method", "class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "startline_http_request_duration_seconds",
			Help: "HTTP request latency by route pattern and status class.", Buckets: prometheus.DefBuckets},
			[]string{"route", "class"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "startline_apply_decisions_total",
			Help: "Stored applications by risk decision."}, []string{"outcome"}),
		reasons: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "startline_apply_risk_reasons_total",
			Help: "Risk reasons on stored applications, by decision and reason code."}, []string{"outcome", "reason"}),
		mailFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "startline_mail_failures_total",
			Help: "Mail deliveries the SMTP server refused or that failed."}),
		taskFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "startline_task_failures_total",
			Help: "Failed background task runs by task type."}, []string{"type"}),
		reviews: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "startline_review_decisions_total",
			Help: "Reviewers' decisions on flagged entries, by decision."}, []string{"decision"}),
		cardCharges: newCardCharges(),
	}
	for _, o := range []string{"accepted", "review", "rejected"} {
		m.decisions.WithLabelValues(o)
	}
	for _, d := range ReviewDecisions {
		m.reviews.WithLabelValues(d)
	}
	if len(o.TaskTypes) > 0 {
		m.taskTypes = map[string]bool{}
	}
	for _, t := range o.TaskTypes {
		m.taskTypes[t] = true
		m.taskFailures.WithLabelValues(t)
	}
	m.reg.MustRegister(m.requests, m.duration, m.decisions, m.reasons, m.mailFailures, m.taskFailures, m.reviews, m.cardCharges,
		&dbCollector{o: o}, newQueueCollector(o),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Outcome names a decision as the series shows it.
func Outcome(d antibot.Decision) string {
	switch d {
	case antibot.Accept:
		return "accepted"
	case antibot.Review:
		return "review"
	case antibot.Reject:
		return "rejected"
	}
	return "other"
}

// Applied implements registration.ApplyObserver.
func (m *Metrics) Applied(d antibot.Decision, reasons []string) {
	out := Outcome(d)
	m.decisions.WithLabelValues(out).Inc()
	for _, r := range reasons {
		m.reasons.WithLabelValues(out, r).Inc()
	}
}

// MailFailed counts one refused delivery (worker.Mailer.OnSendFailure).
func (m *Metrics) MailFailed() { m.mailFailures.Inc() }

// TaskFailed counts one failed task run (worker.Options.OnTaskFailure). A
// type not in Options.TaskTypes counts as "other": the label stays bounded
// whatever lands in the queue.
func (m *Metrics) TaskFailed(taskType string) {
	if m.taskTypes != nil && !m.taskTypes[taskType] {
		taskType = "other"
	}
	m.taskFailures.WithLabelValues(taskType).Inc()
}

// ReviewDecisions are the decision label's values (review.Decision*).
var ReviewDecisions = []string{"approve", "reject", "reject_cluster"}

// Reviewed counts one reviewer's decision (review.DecisionObserver); a
// value outside ReviewDecisions counts as "other".
func (m *Metrics) Reviewed(decision string) {
	for _, d := range ReviewDecisions {
		if d == decision {
			m.reviews.WithLabelValues(d).Inc()
			return
		}
	}
	m.reviews.WithLabelValues("other").Inc()
}

// Middleware times every request under its route pattern (c.FullPath),
// never the raw path or query: receipt tokens travel in queries, and raw
// paths would make a series per URL.
func (m *Metrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = c.GetString(routeKey)
		}
		if route == "" {
			route = "unmatched"
		}
		class := StatusClass(c.Writer.Status())
		m.requests.WithLabelValues(route, method(c.Request.Method), class).Inc()
		m.duration.WithLabelValues(route, class).Observe(time.Since(start).Seconds())
	}
}

// StatusClass is "2xx", "4xx" and so on.
func StatusClass(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code/100) + "xx"
}

// method keeps the label's values few: a client can send any method name.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// routeKey marks a request the exposition answered, for the request series.
const routeKey = "startline.metrics.route"

// Path is where the exposition is served.
const Path = "/metrics"

// Serve is a middleware (not a route) that answers GET /metrics to allowed
// clients. Others fall through to the site's own not-found page, the same
// 404 as any unknown path, so the endpoint does not reveal itself. The
// address is Gin's ClientIP, which believes X-Forwarded-For from the
// trusted proxies only.
func (m *Metrics) Serve(allow []*net.IPNet) gin.HandlerFunc {
	h := m.exposition()
	return func(c *gin.Context) {
		if c.Request.Method != http.MethodGet || c.Request.URL.Path != Path || !Allowed(net.ParseIP(c.ClientIP()), allow) {
			c.Next()
			return
		}
		c.Set(routeKey, Path)
		// Gin runs unrouted requests with 404 already set; promhttp
		// writes 200 only implicitly.
		c.Status(http.StatusOK)
		h.ServeHTTP(c.Writer, c.Request)
		c.Abort()
	}
}

func (m *Metrics) exposition() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Handler serves GET /metrics alone, for a listener of its own
// (STARTLINE_METRICS_ADDR: the worker process has no web server). The same
// clients as Serve may read it; anything else is a plain 404.
func (m *Metrics) Handler(allow []*net.IPNet) http.Handler {
	h := m.exposition()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		if r.Method != http.MethodGet || r.URL.Path != Path || !Allowed(net.ParseIP(host), allow) {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Allowed reports whether ip may read the metrics: loopback, or inside
// one of the allowed networks (STARTLINE_METRICS_ALLOW).
func Allowed(ip net.IP, allow []*net.IPNet) bool {
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	for _, n := range allow {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// dbCollector reads the gauges from the database at scrape time. A
// failure or timeout drops the gauges and sets startline_db_scrape_ok to 0;
// the rest of the scrape still answers 200.
type dbCollector struct{ o Options }

var (
	entriesDesc = prometheus.NewDesc("startline_entries", "Entries by status.", []string{"status"}, nil)
	offersDesc  = prometheus.NewDesc("startline_offers", "Offers by status.", []string{"status"}, nil)
	outboxDesc  = prometheus.NewDesc("startline_outbox_unsent", "Outbox mail not yet sent and still to be tried.", nil, nil)
	dbOKDesc    = prometheus.NewDesc("startline_db_scrape_ok", "1 if this scrape read the database counts, else 0.", nil, nil)
	waitingDesc = prometheus.NewDesc("startline_waitroom_waiting",
		"Runners waiting in an open waiting-room line, by event and sub-queue.", []string{"event", "subqueue"}, nil)
	admittedDesc = prometheus.NewDesc("startline_waitroom_admitted",
		"The highest place admitted in an open waiting-room line (only grows), by event and sub-queue.", []string{"event", "subqueue"}, nil)
)

func (d *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- entriesDesc
	ch <- offersDesc
	ch <- outboxDesc
	ch <- dbOKDesc
	ch <- waitingDesc
	ch <- admittedDesc
}

func (d *dbCollector) Collect(ch chan<- prometheus.Metric) {
	if d.o.Counts == nil {
		ch <- prometheus.MustNewConstMetric(dbOKDesc, prometheus.GaugeValue, 0)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.o.CountTimeout)
	defer cancel()
	c, err := d.o.Counts(ctx)
	if err != nil {
		d.o.Log.Warn("metrics: database counts", "err", err)
		ch <- prometheus.MustNewConstMetric(dbOKDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(dbOKDesc, prometheus.GaugeValue, 1)
	gauges(ch, entriesDesc, d.o.EntryStates, c.Entries)
	gauges(ch, offersDesc, d.o.OfferStates, c.Offers)
	ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(c.OutboxUnsent))
	for _, l := range c.Lines {
		ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(l.Waiting), l.Event, l.SubQueue)
		ch <- prometheus.MustNewConstMetric(admittedDesc, prometheus.GaugeValue, float64(l.Admitted), l.Event, l.SubQueue)
	}
}

// gauges emits one per known state (zero if absent) and per other state read.
func gauges(ch chan<- prometheus.Metric, desc *prometheus.Desc, known []string, got map[string]int64) {
	seen := map[string]bool{}
	for _, s := range known {
		seen[s] = true
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(got[s]), s)
	}
	for s, n := range got {
		if !seen[s] {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n), s)
		}
	}
}
