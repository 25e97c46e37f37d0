package api_test

import (
	"net/http"
	"testing"

	"github.com/startline/startline/internal/httpkit"
)

// TestRedisDownFailClosedRetryAfter: with the limiter failing closed and
// Redis unreachable, a runner request answers 503 unavailable with
// Retry-After.
func TestRedisDownFailClosedRetryAfter(t *testing.T) {
	redisURLOverride[t] = deadRedisURL
	e := newEnvRules(t, true, generous, false)
	delete(redisURLOverride, t)
	e.openEvent("spring")
	r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "down@example.com"})
	if r.Status != http.StatusServiceUnavailable || r.errCode() != "unavailable" {
		t.Fatalf("got %d %s, want 503 unavailable", r.Status, r.Raw)
	}
	if got := r.Header.Get("Retry-After"); got != httpkit.RetryAfterUnavailable {
		t.Errorf("Retry-After %q, want %q", got, httpkit.RetryAfterUnavailable)
	}
}
