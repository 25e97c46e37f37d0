package httpkit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// RetryAfterUnavailable is the Retry-After (seconds) of a 503 unavailable
// answer: long enough not to hammer a database that is coming back, short
// enough that a runner retrying by hand is served soon after it is.
const RetryAfterUnavailable = "5"

// OutageLogEvery is how often, at most, one logger reports that requests
// fail because a dependency is unreachable.
const OutageLogEvery = 10 * time.Second

// outage counts the failures of one logger's current outage interval.
type outage struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// outages holds one outage per logger, so the API and the pages of one
// server (which share their logger) report an outage together, and tests
// with their own loggers do not share intervals.
var outages sync.Map // *slog.Logger → *outage

// Unavailable answers the headers of a 503 unavailable and logs the outage
// at most once per OutageLogEvery per logger, with the number of failures
// not logged since the last line: a database that is down is one alarm,
// not one ERROR line per request. The API and the pages both answer
// through it.
func Unavailable(c *gin.Context, log *slog.Logger, err error) {
	if c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", RetryAfterUnavailable)
	}
	logOutage(c.Request.Context(), log, c.FullPath(), err, time.Now())
}

func logOutage(ctx context.Context, log *slog.Logger, route string, err error, now time.Time) {
	v, _ := outages.LoadOrStore(log, &outage{})
	o := v.(*outage)
	o.mu.Lock()
	if !o.last.IsZero() && now.Sub(o.last) < OutageLogEvery {
		o.suppressed++
		o.mu.Unlock()
		return
	}
	o.last = now
	suppressed := o.suppressed
	o.suppressed = 0
	o.mu.Unlock()
	log.ErrorContext(ctx, "dependency unavailable, answering 503", "route", route,
		"suppressed_since_last", suppressed, "err", err)
}
