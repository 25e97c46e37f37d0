package api_test

import (
	"testing"
	"time"

	"github.com/startline/startline/lottery/checkin"
)

// TestDeferredPlaceCannotBeGivenBack: a runner who deferred keeps this
// edition's paid offer (the slot is not offered again) and holds a place
// in the next one; giving this edition's place back as well would refund
// the payment and free the slot while the deferral still holds the next
// edition's place. The give-back is refused (409 invalid_transition), the
// entry stays deferred, nothing is refunded and no slot is re-offered.
func TestDeferredPlaceCannotBeGivenBack(t *testing.T) {
	e := newEnv(t, true)
	pay, sq, selected := e.sandboxDrawn()
	runner := selected[0]
	tok := e.keys.ReceiptToken(runner)
	e.paySandbox(pay, runner)
	auth := []string{"Authorization", "Bearer " + e.organizer}
	if r := e.do("PUT", "/api/v1/admin/events/spring/deferral", map[string]any{"deadline": e.clock.Now().Add(10 * 24 * time.Hour),
		"fee_minor": 0, "cap": 0}, auth...); r.Status != 200 {
		t.Fatalf("set terms: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/entries/"+runner+"/defer", map[string]any{"token": tok}); r.Status != 200 || r.str("state") != "held" {
		t.Fatalf("defer: %d %s", r.Status, r.Raw)
	}
	offers := e.offerCount(sq)
	r := e.do("POST", "/api/v1/entries/"+runner+"/give-back", map[string]any{"token": tok})
	if r.Status != 409 || r.errCode() != "invalid_transition" {
		t.Errorf("give-back of a deferred place: %d %s", r.Status, r.Raw)
	}
	if got := e.entryRow(runner); got.Entry != "deferred" || got.Offer != "paid" || got.Due != 0 || got.Refunded != 0 {
		t.Errorf("deferred runner after the give-back: %+v", got)
	}
	if n := e.offerCount(sq); n != offers {
		t.Errorf("offers %d → %d: the deferred runner's slot was offered again", offers, n)
	}
	var state string
	e.store.DB().Raw("SELECT state FROM deferrals WHERE entry_id = ?", runner).Scan(&state)
	if state != "held" {
		t.Errorf("deferral after the give-back: %q", state)
	}
}

// TestCapacityKeepsDeferredPlaces: the next edition's places held by
// runners who deferred into it count against its capacity like live
// offers: an organizer cannot lower the capacity below them (409 conflict
// on capacity), so the edition never holds more confirmed places than it
// has.
func TestCapacityKeepsDeferredPlaces(t *testing.T) {
	e := newEnv(t, true)
	pay, _, selected := e.sandboxDrawn()
	auth := []string{"Authorization", "Bearer " + e.organizer}
	if r := e.do("PUT", "/api/v1/admin/events/spring/deferral", map[string]any{"deadline": e.clock.Now().Add(10 * 24 * time.Hour),
		"fee_minor": 0, "cap": 0}, auth...); r.Status != 200 {
		t.Fatalf("set terms: %d %s", r.Status, r.Raw)
	}
	for _, id := range selected[:2] {
		e.paySandbox(pay, id)
		if r := e.do("POST", "/api/v1/entries/"+id+"/defer", map[string]any{"token": e.keys.ReceiptToken(id)}); r.Status != 200 {
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
	e.store.DB().Exec(`UPDATE subqueues SET capacity = 3 WHERE key = 'half:sub-130' AND event_id = (SELECT id FROM events WHERE slug = 'spring-next')`)
	if r := e.action("spring-next", "publish", nil); r.Status != 200 {
		t.Fatalf("publish next edition: %d %s", r.Status, r.Raw)
	}
	var used int
	e.store.DB().Raw(`SELECT count(*) FROM deferrals WHERE state = 'used'`).Scan(&used)
	if used != 2 {
		t.Fatalf("deferrals used: %d, want 2", used)
	}
	capacity := "/api/v1/admin/events/spring-next/subqueues/half:sub-130/capacity"
	if r := e.do("POST", capacity, map[string]any{"capacity": 1}, auth...); r.Status != 409 || r.errCode() != "conflict" ||
		r.errField("field") != "capacity" {
		t.Errorf("capacity below the deferred places: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", capacity, map[string]any{"capacity": 2}, auth...); r.Status != 200 {
		t.Errorf("capacity equal to the deferred places: %d %s", r.Status, r.Raw)
	}
}

// TestDeferralRefusedWhileTransferringOrPickedUp: a place being
// transferred cannot be deferred until the giver cancels the transfer
// (409 conflict), and a place whose bib was picked up cannot be deferred
// at all (409 invalid_transition): either would leave one place with two
// holders.
func TestDeferralRefusedWhileTransferringOrPickedUp(t *testing.T) {
	e := newEnv(t, true)
	pay, _, selected := e.sandboxDrawn()
	e.store.DB().Exec("UPDATE events SET transfer_max = 10, transfer_fee_minor = 5000")
	auth := []string{"Authorization", "Bearer " + e.organizer}
	if r := e.do("PUT", "/api/v1/admin/events/spring/deferral", map[string]any{"deadline": e.clock.Now().Add(10 * 24 * time.Hour),
		"fee_minor": 0, "cap": 0}, auth...); r.Status != 200 {
		t.Fatalf("set terms: %d %s", r.Status, r.Raw)
	}
	tok := func(id string) string { return e.keys.ReceiptToken(id) }
	deferEntry := func(id string) resp {
		return e.do("POST", "/api/v1/entries/"+id+"/defer", map[string]any{"token": tok(id)})
	}
	giver, picked := selected[0], selected[1]
	e.paySandbox(pay, giver)
	e.paySandbox(pay, picked)

	if r := e.do("POST", "/api/v1/entries/"+giver+"/transfer", map[string]any{"token": tok(giver), "to_email": "friend@example.org"}); r.Status != 202 {
		t.Fatalf("transfer: %d %s", r.Status, r.Raw)
	}
	if r := deferEntry(giver); r.Status != 409 || r.errCode() != "conflict" {
		t.Errorf("defer while a transfer is open: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/entries/"+giver+"/transfer/cancel", map[string]any{"token": tok(giver)}); r.Status != 200 {
		t.Fatalf("cancel: %d %s", r.Status, r.Raw)
	}
	if r := deferEntry(giver); r.Status != 200 || r.str("state") != "held" {
		t.Errorf("defer once the transfer is cancelled: %d %s", r.Status, r.Raw)
	}

	c, err := checkin.NewSigner(e.keys.Derive("checkin")).Code(picked)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do("POST", "/api/v1/checkin", map[string]any{"code": c}, "Authorization", "Bearer "+e.reviewer); r.Status != 200 {
		t.Fatalf("check-in: %d %s", r.Status, r.Raw)
	}
	if r := deferEntry(picked); r.Status != 409 || r.errCode() != "invalid_transition" {
		t.Errorf("defer after the bib was picked up: %d %s", r.Status, r.Raw)
	}
	if got := e.entryRow(picked); got.Entry != "confirmed" {
		t.Errorf("picked-up runner after the refused deferral: %+v", got)
	}
}
