package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/web"
)

// TestQueueMonitorRedisDown: with Redis unreachable asynqmon answers its
// JSON API with http.Error 500 and the driver's text (as it does against a
// Redis Cluster whose nodes are gone: cmd/startline TestRedisCluster); the
// site answers its own 503 unavailable with Retry-After instead, without
// the text (node addresses). Other answers pass through (TestQueueMonitor).
func TestQueueMonitorRedisDown(t *testing.T) {
	mon := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, web.QueuesPath+"/api/") {
			http.Error(w, "dial tcp 10.0.3.7:6379: connect: connection refused", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "<html>Asynq Monitoring</html>")
	})
	s := newSiteGuard(t, false, guardtest.Options{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)),
		func(d *web.Deps) { d.Queues = mon })
	cookie := s.staffLogin("ops-down@example.com", lottery.RoleReviewer)
	for _, path := range []string{"/admin/queues/api/queues", "/admin/queues/api/queue_stats", "/admin/queues/api/servers"} {
		code, body, hdr := s.get(path, "Cookie", cookie)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"unavailable"`) || hdr.Get("Retry-After") == "" ||
			!strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %v %s", path, code, hdr, body)
		}
		if strings.Contains(body, "10.0.3.7") || strings.Contains(body, "dial") {
			t.Errorf("%s shows the driver's error: %s", path, body)
		}
	}
	if code, body, _ := s.get("/admin/queues", "Cookie", cookie); code != http.StatusOK || !strings.Contains(body, "Asynq") {
		t.Errorf("monitor page: %d", code)
	}
}
