package api_test

import (
	"sync"
	"testing"

	"github.com/startline/startline/antibot"
)

// applyLog records what registration.ApplyObserver hears (the metrics'
// apply decisions, issue 14).
type applyLog struct {
	mu        sync.Mutex
	decisions []antibot.Decision
	reasons   [][]string
}

func (l *applyLog) Applied(d antibot.Decision, reasons []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.decisions = append(l.decisions, d)
	l.reasons = append(l.reasons, reasons)
}

// TestApplyObserverHearsEachStoredDecisionOnce: an accepted application
// is reported once; its idempotent replay and a refused duplicate are not.
func TestApplyObserverHearsEachStoredDecisionOnce(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	body := e.applyBody("observed@example.com", e.otp("spring", "observed@example.com"))
	if r := e.do("POST", "/api/v1/events/spring/entries", body, "Idempotency-Key", "obs-1"); r.Status != 201 {
		t.Fatalf("apply: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/events/spring/entries", body, "Idempotency-Key", "obs-1"); r.Status != 201 {
		t.Fatalf("replay: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/events/spring/entries", e.applyBody("observed@example.com", e.otp("spring", "observed@example.com"))); r.Status != 409 {
		t.Fatalf("duplicate: %d %s", r.Status, r.Raw)
	}
	e.applied.mu.Lock()
	defer e.applied.mu.Unlock()
	if len(e.applied.decisions) != 1 || e.applied.decisions[0] != antibot.Accept {
		t.Errorf("observer heard %v (reasons %v), want one accept", e.applied.decisions, e.applied.reasons)
	}
}
