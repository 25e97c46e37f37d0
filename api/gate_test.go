package api_test

import (
	"net/http"
	"testing"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/antibot/pow"
	"github.com/startline/startline/internal/httpkit"
)

// TestRedisDownFailClosedGate: with the limiter failing closed and Redis
// unreachable, every runner route behind the gate and the staff login
// answer 503 unavailable with Retry-After, never 429 or 500.
func TestRedisDownFailClosedGate(t *testing.T) {
	redisURLOverride[t] = deadRedisURL
	e := newEnvRules(t, true, generous, false)
	delete(redisURLOverride, t)
	e.openEvent("spring")
	proof := func() string { // made with the test guard's key: no Redis needed
		ch, err := pow.Issuer{Key: []byte("test-pow-key")}.New(e.clock.Now(), 2000)
		if err != nil {
			t.Fatal(err)
		}
		return guardtest.Solve(t, ch)
	}
	apply := e.applyBodyNoProof("down@example.com", "123456")
	apply["altcha"] = proof()
	for _, tc := range []struct {
		name, path string
		body       any
	}{
		{"challenge", "/api/v1/events/spring/challenge", nil},
		{"code request", "/api/v1/events/spring/otp", map[string]any{"email": "down@example.com"}},
		{"apply", "/api/v1/events/spring/entries", apply},
		{"join", "/api/v1/events/spring/queue", map[string]any{"course": "half", "pace_group": "fcfs",
			"email": "down@example.com", "altcha": proof()}},
		{"staff login", "/api/v1/staff/login", map[string]any{"email": "org@example.com", "password": "x", "otp": "000000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", tc.path, tc.body, "Idempotency-Key", "down-"+tc.name)
			if r.Status != http.StatusServiceUnavailable || r.errCode() != "unavailable" {
				t.Fatalf("got %d %s, want 503 unavailable", r.Status, r.Raw)
			}
			if got := r.Header.Get("Retry-After"); got != httpkit.RetryAfterUnavailable {
				t.Errorf("Retry-After %q, want %q", got, httpkit.RetryAfterUnavailable)
			}
		})
	}
}

// TestIdempotencyConflictBeforeProof: the same Idempotency-Key with another
// body and the first request's (spent) proof of work is 409
// idempotency_key_reused (API.md), checked before the proof is spent; the
// identical retry still replays the first answer.
func TestIdempotencyConflictBeforeProof(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	body := e.applyBody("reuse@example.com", e.otp("spring", "reuse@example.com"))
	first := e.do("POST", "/api/v1/events/spring/entries", body, "Idempotency-Key", "key-1")
	if first.Status != http.StatusCreated {
		t.Fatalf("first: %d %s", first.Status, first.Raw)
	}
	body["name"] = "Someone Else" // the altcha stays: spent by the first request
	other := e.do("POST", "/api/v1/events/spring/entries", body, "Idempotency-Key", "key-1")
	if other.Status != http.StatusConflict || other.errCode() != "idempotency_key_reused" {
		t.Errorf("same key, other body, spent proof: got %d %s, want 409 idempotency_key_reused", other.Status, other.Raw)
	}
	// A fresh key with that spent proof is still a reused proof of work.
	if r := e.do("POST", "/api/v1/events/spring/entries", body, "Idempotency-Key", "key-2"); r.Status != http.StatusUnprocessableEntity ||
		r.errCode() != "invalid_proof_of_work" {
		t.Errorf("spent proof under a new key: got %d %s, want 422 invalid_proof_of_work", r.Status, r.Raw)
	}
}
