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
}

// Options configures the series.
type Options struct {
	// Counts reads the gauges; it is given CountTimeout (default 2 s).
	Counts       func(ctx context.Context) (Counts, error)
	CountTimeout time.Duration
	// EntryStates, OfferStates and TaskTypes are the label values shown
	// at zero before anything happened, so dashboards and alerts see them.
	EntryStates, OfferStates, TaskTypes []string
	Log                                 *slog.Logger
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
	}
	for _, o := range []string{"accepted", "review", "rejected"} {
		m.decisions.WithLabelValues(o)
	}
	for _, t := range o.TaskTypes {
		m.taskFailures.WithLabelValues(t)
	}
	m.reg.MustRegister(m.requests, m.duration, m.decisions, m.reasons, m.mailFailures, m.taskFailures,
		&dbCollector{o: o},
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

// TaskFailed counts one failed task run (worker.Options.OnTaskFailure).
func (m *Metrics) TaskFailed(taskType string) { m.taskFailures.WithLabelValues(taskType).Inc() }

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
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
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
)

func (d *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- entriesDesc
	ch <- offersDesc
	ch <- outboxDesc
	ch <- dbOKDesc
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
