package api_test

import (
	"testing"
	"time"

	"github.com/startline/startline/lottery/payments/sandbox"
)

// TestDeferralStopsAtTheGroupCapacity: three runners defer, the next
// edition's group has two places: two deferred-in entries are confirmed
// there and the third deferral stays held, so the edition never holds more
// confirmed places than it has.
func TestDeferralStopsAtTheGroupCapacity(t *testing.T) {
	e := newEnv(t, true)
	pay := sandbox.New([]byte("sandbox-test-key"))
	e.offers.UsePayments(pay)
	e.feesDrawnEvent(12, 4)
	auth := []string{"Authorization", "Bearer " + e.organizer}
	var selected []string
	e.store.DB().Raw(`SELECT dr.entry_id::text FROM draw_results dr JOIN subqueues q ON q.id = dr.subqueue_id
		WHERE q.key = 'half:sub-130' AND dr.selected ORDER BY dr.position`).Scan(&selected)
	if len(selected) != 4 {
		t.Fatalf("selected %v", selected)
	}
	tok := func(id string) string { return e.keys.ReceiptToken(id) }
	for _, id := range selected[:3] {
		e.paySandbox(pay, id)
	}
	deadline := e.clock.Now().Add(10 * 24 * time.Hour)
	if r := e.do("PUT", "/api/v1/admin/events/spring/deferral", map[string]any{"deadline": deadline, "fee_minor": 0, "cap": 0}, auth...); r.Status != 200 {
		t.Fatalf("set terms: %d %s", r.Status, r.Raw)
	}
	for _, id := range selected[:3] {
		if r := e.do("POST", "/api/v1/entries/"+id+"/defer", map[string]any{"token": tok(id)}); r.Status != 200 {
			t.Fatalf("defer: %d %s", r.Status, r.Raw)
		}
	}
	next := eventBody("spring-next")
	next["series"] = "spring-series"
	next["opens_at"] = testStart.Add(365 * 24 * time.Hour).Format(time.RFC3339)
	next["closes_at"] = testStart.Add(372 * 24 * time.Hour).Format(time.RFC3339)
	if r := e.do("POST", "/api/v1/admin/events", next, auth...); r.Status != 201 {
		t.Fatalf("create next edition: %d %s", r.Status, r.Raw)
	}
	e.store.DB().Exec(`UPDATE subqueues SET capacity = 2 WHERE key = 'half:sub-130' AND event_id = (SELECT id FROM events WHERE slug = 'spring-next')`)
	if r := e.action("spring-next", "publish", nil); r.Status != 200 {
		t.Fatalf("publish next edition: %d %s", r.Status, r.Raw)
	}
	var confirmed, held int
	e.store.DB().Raw(`SELECT count(*) FROM entries e JOIN events ev ON ev.id = e.event_id
		WHERE ev.slug = 'spring-next' AND e.status = 'confirmed'`).Scan(&confirmed)
	e.store.DB().Raw(`SELECT count(*) FROM deferrals WHERE state = 'held'`).Scan(&held)
	if confirmed != 2 || held != 1 {
		t.Errorf("next edition: %d confirmed, %d deferrals held; want 2 and 1", confirmed, held)
	}
}
