package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
)

// serveQueues runs the monitor, answering its failures as an outage. All
// it calls is Asynq's inspector on Redis, so its 5xx answers (http.Error
// with the driver's text: node addresses) mean Redis is down or cut off,
// on a Redis Cluster for instance "dial tcp 10.0.3.7:6379: connection
// refused": the staff see the site's 503 unavailable, Retry-After included,
// and the text goes to the outage log only.
func (p *pages) serveQueues(c *gin.Context, api bool) {
	w := &monitorWriter{ResponseWriter: c.Writer}
	p.Queues.ServeHTTP(w, c.Request)
	if !w.failed {
		return
	}
	c.Writer.Header().Del("Content-Type") // http.Error's text/plain
	p.queuesRefuse(c, api, fmt.Errorf("%w: queue monitor: %d %s", lottery.ErrUnavailable, w.status, strings.TrimSpace(w.text.String())))
}

// monitorWriter passes the monitor's answer through unless its status is
// 5xx; then it keeps the status and up to 512 bytes of the text instead.
type monitorWriter struct {
	http.ResponseWriter
	failed bool
	status int
	text   strings.Builder
}

func (w *monitorWriter) WriteHeader(code int) {
	if code >= http.StatusInternalServerError {
		w.failed, w.status = true, code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *monitorWriter) Write(b []byte) (int, error) {
	if w.failed {
		if room := 512 - w.text.Len(); room > 0 {
			w.text.Write(b[:min(len(b), room)])
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}
