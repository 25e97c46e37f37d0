package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/payments/sandbox"
)

// lifecycleEvent creates spring (feesBody, half:fcfs ordered at ₩20,000)
// a day before its window and publishes it.
func (e *env) lifecycleEvent() {
	e.t.Helper()
	e.clock.Set(testStart.Add(-24 * time.Hour))
	b := feesBody("spring")
	b["courses"].([]any)[0].(map[string]any)["pace_groups"].([]any)[2].(map[string]any)["price"] = 20000
	if r := e.do("POST", "/api/v1/admin/events", b, "Authorization", "Bearer "+e.organizer); r.Status != 201 {
		e.t.Fatalf("create event: %d %s", r.Status, r.Raw)
	}
	if r := e.action("spring", "publish", nil); r.Status != 200 {
		e.t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
}

func (e *env) listed(slug string) bool {
	e.t.Helper()
	r := e.do("GET", "/api/v1/events", nil)
	items, _ := r.Body["events"].([]any)
	for _, it := range items {
		if m, _ := it.(map[string]any); m["slug"] == slug {
			return true
		}
	}
	return false
}

// TestUnpublishAPI: a published event goes back to draft before its window
// (and its pre-queue) opens, leaves the public list, keeps its commitment
// when published again, and cannot be unpublished once the window opened.
func TestUnpublishAPI(t *testing.T) {
	e := newEnv(t, true)
	e.lifecycleEvent()
	commitment := e.do("GET", "/api/v1/events/spring", nil).str("commitment")
	if commitment == "" || !e.listed("spring") {
		t.Fatalf("published: commitment %q, listed %v", commitment, e.listed("spring"))
	}
	r := e.action("spring", "unpublish", nil)
	if r.Status != 200 || r.str("status") != "draft" {
		t.Fatalf("unpublish: %d %s", r.Status, r.Raw)
	}
	if e.listed("spring") {
		t.Error("an unpublished event is still on the public list")
	}
	if r := e.do("GET", "/api/v1/events/spring", nil); r.Status != http.StatusNotFound {
		t.Errorf("public read of the draft: %d", r.Status)
	}
	if r := e.action("spring", "unpublish", nil); r.Status != 409 || r.errCode() != "invalid_transition" {
		t.Errorf("unpublish a draft: %d %s", r.Status, r.Raw)
	}
	if r := e.action("spring", "publish", nil); r.Status != 200 || r.str("commitment") != commitment {
		t.Fatalf("publish again: %d %s (commitment was %s)", r.Status, r.Raw, commitment)
	}
	var logs []string
	e.store.DB().Raw(`SELECT action FROM audit_log WHERE target = 'spring' AND action LIKE 'event.%' ORDER BY id`).Scan(&logs)
	if len(logs) < 4 || logs[len(logs)-2] != "event.draft" {
		t.Errorf("audit: %v", logs)
	}
	e.clock.Set(testStart) // the window opens
	if r := e.action("spring", "unpublish", nil); r.Status != 409 || r.errCode() != "invalid_transition" {
		t.Errorf("unpublish an open event: %d %s", r.Status, r.Raw)
	}
}

// TestCancelAPI: cancelling an open event voids its offers, refunds a paid
// slot in full through the sandbox (a refund the provider refuses stays
// owed until the worker's retry pass), queues event.cancelled to every
// entry, logs and audits it; applying is then refused, and a second cancel
// is an invalid transition.
func TestCancelAPI(t *testing.T) {
	e := newEnv(t, true)
	pay := &flakyRefunds{Provider: sandbox.New([]byte("sandbox-test-key"))}
	e.offers.UsePayments(pay)
	e.lifecycleEvent()
	e.clock.Set(testStart.Add(time.Hour))

	// Two runners take the first-come line; both pay for their slot.
	var paidEntries, payments []string
	for _, who := range []string{"ana@example.com", "ben@example.com"} {
		j := e.join(who)
		if j.Status != http.StatusCreated {
			t.Fatalf("join: %d %s", j.Status, j.Raw)
		}
		e.clock.Add(5 * time.Second)
		e.admit()
		p := e.poll(j.str("ticket"))
		r := e.applyFCFS(who, p.str("admission_token"))
		if r.Status != http.StatusCreated || r.str("status") != "offered" {
			t.Fatalf("apply %s: %d %s", who, r.Status, r.Raw)
		}
		entry := r.str("entry_id")
		offerID, _ := e.offerOf(entry)
		pr := e.do("POST", "/api/v1/offers/"+offerID+"/pay", map[string]any{"token": e.keys.ReceiptToken(entry)})
		if pr.Status != 200 {
			t.Fatalf("pay: %d %s", pr.Status, pr.Raw)
		}
		body, hdr, _ := pay.Event(pr.str("payment_id"), offerID, "pay", e.clock.Now())
		e.webhook(body, hdr)
		if got := e.entryRow(entry); got.Offer != "paid" {
			t.Fatalf("not paid: %+v", got)
		}
		paidEntries, payments = append(paidEntries, entry), append(payments, pr.str("payment_id"))
	}
	// A drawn-group entry with nothing paid.
	plain := e.do("POST", "/api/v1/events/spring/entries", e.applyBody("cho@example.com", e.otp("spring", "cho@example.com")))
	if plain.Status != http.StatusCreated {
		t.Fatalf("apply: %d %s", plain.Status, plain.Raw)
	}

	// An organizer of another organization cannot cancel it, or pause its line.
	if _, err := e.staff.AddTo(context.Background(), "rival-club", "rival@example.com", lottery.RoleOrganizer, "correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
	rival, err := e.staff.IssueToken(context.Background(), "rival@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/admin/events/spring/cancel", "/api/v1/admin/events/spring/unpublish",
		"/api/v1/admin/events/spring/subqueues/half:fcfs/pause"} {
		if r := e.do("POST", path, nil, "Authorization", "Bearer "+rival); r.Status != 404 {
			t.Errorf("another organization's organizer POST %s: %d %s", path, r.Status, r.Raw)
		}
	}

	// The refunds are refused by the provider at first.
	pay.down.Store(true)
	r := e.action("spring", "cancel", nil)
	if r.Status != 200 || r.str("status") != "cancelled" {
		t.Fatalf("cancel: %d %s", r.Status, r.Raw)
	}
	for _, entry := range paidEntries {
		if got := e.entryRow(entry); got.Offer != "void" || got.Due != 20000 || got.Refunded != 0 {
			t.Errorf("with the provider down: %+v", got)
		}
	}
	pay.down.Store(false)
	if made, owed, err := e.offers.RetryRefunds(context.Background(), 10); err != nil || made != 2 || owed != 0 {
		t.Fatalf("retry pass: made %d, owed %d, %v", made, owed, err)
	}
	for i, entry := range paidEntries {
		if got := e.entryRow(entry); got.Payment != "refunded" || got.Refunded != 20000 || pay.Refunded(payments[i]) != 20000 {
			t.Errorf("after the retry: %+v, sandbox refunded %d", got, pay.Refunded(payments[i]))
		}
		if e.intents(entry, "event.cancelled") != 1 || e.intents(entry, "entry.refunded") != 1 {
			t.Errorf("%s: mails cancelled %d, refunded %d", entry, e.intents(entry, "event.cancelled"), e.intents(entry, "entry.refunded"))
		}
		var detail string
		e.store.DB().Raw(`SELECT detail FROM outbox WHERE entry_id = ? AND intent = 'event.cancelled'`, entry).Scan(&detail)
		if detail != "20000" {
			t.Errorf("cancellation mail detail %q, want the refund 20000", detail)
		}
	}
	if n := e.intents(plain.str("entry_id"), "event.cancelled"); n != 1 {
		t.Errorf("unpaid entry: %d cancellation mails", n)
	}
	var offerLogs, audits int64
	e.store.DB().Raw(`SELECT count(*) FROM event_log WHERE kind = 'offer.cancelled' AND from_status = 'paid' AND to_status = 'void'`).Scan(&offerLogs)
	e.store.DB().Raw(`SELECT count(*) FROM audit_log WHERE action = 'event.cancelled' AND target = 'spring' AND staff_id IS NOT NULL`).Scan(&audits)
	if offerLogs != 2 || audits != 1 {
		t.Errorf("logs: %d offer.cancelled, %d audits", offerLogs, audits)
	}
	if r := e.do("GET", "/api/v1/events/spring", nil); r.Status != 200 || r.str("status") != "cancelled" {
		t.Errorf("public event: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "dan@example.com"}); r.Status != 403 || r.errCode() != "registration_closed" {
		t.Errorf("a code for a cancelled event: %d %s", r.Status, r.Raw)
	}
	if r := e.join("dan@example.com"); r.Status/100 == 2 {
		t.Errorf("joining the line of a cancelled event: %d %s", r.Status, r.Raw)
	}
	if r := e.action("spring", "cancel", nil); r.Status != 409 || r.errCode() != "invalid_transition" {
		t.Errorf("cancel twice: %d %s", r.Status, r.Raw)
	}
}

// TestWaitingRoomPauseAPI: a paused line admits nobody and its waiting
// runners are told; resuming admits again; the rate is validated; a drawn
// group has no waiting room; every change is audited.
func TestWaitingRoomPauseAPI(t *testing.T) {
	e := newEnv(t, true)
	e.fcfs(5, 60)
	ana := e.join("ana@example.com").str("ticket")
	ben := e.join("ben@example.com").str("ticket")
	admin := func(path string, body any) resp {
		return e.do("POST", "/api/v1/admin/events/spring/subqueues/"+path, body, "Authorization", "Bearer "+e.organizer)
	}
	if r := admin("half:fcfs/pause", nil); r.Status != 200 || r.Body["paused"] != true {
		t.Fatalf("pause: %d %s", r.Status, r.Raw)
	}
	if r := admin("half:fcfs/pause", nil); r.Status != 409 || r.errCode() != "conflict" {
		t.Errorf("pause twice: %d %s", r.Status, r.Raw)
	}
	for range 3 {
		e.clock.Add(10 * time.Second)
		e.admit()
	}
	for _, tk := range []string{ana, ben} {
		if p := e.poll(tk); p.Body["admitted"] != false || p.Body["paused"] != true {
			t.Fatalf("poll while paused: %s", p.Raw)
		}
	}
	if r := admin("half:fcfs/resume", nil); r.Status != 200 || r.Body["paused"] != false {
		t.Fatalf("resume: %d %s", r.Status, r.Raw)
	}
	e.clock.Add(5 * time.Second)
	e.admit()
	for _, tk := range []string{ana, ben} {
		if p := e.poll(tk); p.Body["admitted"] != true || p.Body["paused"] != nil {
			t.Errorf("poll after resuming: %s", p.Raw)
		}
	}
	if r := admin("half:fcfs/rate", map[string]any{"admit_per_minute": 0}); r.Status != 422 || r.errField("field") != "admit_per_minute" {
		t.Errorf("rate 0: %d %s", r.Status, r.Raw)
	}
	if r := admin("half:fcfs/rate", map[string]any{"admit_per_minute": 120}); r.Status != 200 || num(r, "admit_per_minute") != 120 {
		t.Errorf("rate 120: %d %s", r.Status, r.Raw)
	}
	if r := admin("half:sub-130/pause", nil); r.Status != 422 {
		t.Errorf("pause a drawn group: %d %s", r.Status, r.Raw)
	}
	if r := admin("half:nope/pause", nil); r.Status != 404 {
		t.Errorf("pause an unknown group: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/events/spring/subqueues/half:fcfs/pause", nil, "Authorization", "Bearer "+e.reviewer); r.Status != 403 {
		t.Errorf("a reviewer pauses: %d", r.Status)
	}
	var actions []string
	e.store.DB().Raw(`SELECT action FROM audit_log WHERE target = 'spring/half:fcfs' ORDER BY id`).Scan(&actions)
	if len(actions) != 3 || actions[0] != "queue.paused" || actions[1] != "queue.resumed" || actions[2] != "queue.rate" {
		t.Errorf("audit: %v", actions)
	}
}
