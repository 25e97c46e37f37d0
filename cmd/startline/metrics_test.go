package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/startline/startline/internal/metrics"
	"github.com/startline/startline/lottery/postgres/pgtest"
)

// TestMetricsScrape serves the app, makes a few requests and reads
// /metrics from loopback: the named series are there, requests are counted
// by route pattern (never the raw path or query), and a client outside
// STARTLINE_METRICS_ALLOW gets the site's ordinary 404.
func TestMetricsScrape(t *testing.T) {
	_, dsn := pgtest.NewStore(t)
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("STARTLINE_ENV", "production")
	t.Setenv("STARTLINE_SECRET_KEY", "metrics-test-secret-key-metrics-test-secret")
	t.Setenv("STARTLINE_METRICS_ALLOW", "10.1.0.0/16")
	a, srv := serveApp(t)
	for _, p := range []string{"/healthz", "/healthz", "/no-such-page?receipt=secret-receipt-token"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("scrape: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	text := string(body)
	for _, want := range []string{
		"startline_http_requests_total{", "startline_http_request_duration_seconds_bucket{",
		"startline_entries{", "startline_offers{", "startline_outbox_unsent ", "startline_apply_decisions_total{",
		"startline_mail_failures_total ", "startline_task_failures_total{", "startline_db_scrape_ok 1",
		`startline_http_requests_total{class="2xx",method="GET",route="/healthz"} 2`,
		`startline_http_requests_total{class="4xx",method="GET",route="unmatched"} 1`,
		`startline_entries{status="received"} 0`, `startline_offers{status="paid"} 0`,
		`startline_apply_decisions_total{outcome="review"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the scrape lacks %q", want)
		}
	}
	for _, leak := range []string{"secret-receipt-token", "no-such-page"} {
		if strings.Contains(text, leak) {
			t.Errorf("the scrape shows %q", leak)
		}
	}

	// Outside loopback and the allowed networks: the same 404 as any
	// unknown page; inside an allowed network: the exposition.
	r, err := a.router()
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, remote string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec
	}
	refused, unknown := get("/metrics", "203.0.113.9:4000"), get("/no-such-page", "203.0.113.9:4000")
	if refused.Code != http.StatusNotFound || unknown.Code != http.StatusNotFound ||
		refused.Header().Get("Content-Type") != unknown.Header().Get("Content-Type") || strings.Contains(refused.Body.String(), "startline_") {
		t.Errorf("refused scrape: %d %s, unknown page: %d %s\n%s", refused.Code, refused.Header().Get("Content-Type"),
			unknown.Code, unknown.Header().Get("Content-Type"), refused.Body.String())
	}
	if rec := get("/metrics", "10.1.2.3:4000"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "startline_entries{") {
		t.Errorf("scrape from an allowed network: %d", rec.Code)
	}
}

// TestMetricsAllow is who may read /metrics: loopback, and the networks
// STARTLINE_METRICS_ALLOW names; a bad value fails the start.
func TestMetricsAllow(t *testing.T) {
	nets, err := parseNets(" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ip   string
		want bool
	}{
		{"127.0.0.1", true}, {"::1", true}, {"10.9.8.7", true}, {"192.0.2.7", true}, {"192.0.2.8", false},
		{"2001:db8::1", true}, {"203.0.113.9", false}, {"2001:db9::1", false}, {"", false},
	} {
		if got := metrics.Allowed(net.ParseIP(tt.ip), nets); got != tt.want {
			t.Errorf("Allowed(%q) = %v, want %v", tt.ip, got, tt.want)
		}
		if got := metrics.Allowed(net.ParseIP(tt.ip), nil); got != (tt.ip == "127.0.0.1" || tt.ip == "::1") {
			t.Errorf("Allowed(%q) with no networks = %v", tt.ip, got)
		}
	}
	t.Setenv("STARTLINE_SECRET_KEY", "metrics-test-secret-key-metrics-test-secret")
	for _, v := range []string{"10.0.0.0/33", "not-a-net", "10.0.0.0/8,example.com"} {
		t.Setenv("STARTLINE_METRICS_ALLOW", v)
		if _, err := loadConfig(io.Discard); err == nil || !strings.Contains(err.Error(), "STARTLINE_METRICS_ALLOW") {
			t.Errorf("STARTLINE_METRICS_ALLOW=%q: err %v", v, err)
		}
	}
}
