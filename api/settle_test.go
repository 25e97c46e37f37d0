package api_test

import (
	"testing"

	"github.com/startline/startline/lottery/mails"
)

// TestSettleClosesTheWaitlist: after the results, a decline still moves
// the waitlist up; closing the waitlist (settle) tells everyone still
// waiting, once, that no place is left (entry.not_drawn), and from then on
// a released slot is offered to no one; settling again is refused.
func TestSettleClosesTheWaitlist(t *testing.T) {
	e := newEnv(t, true)
	sq := e.feesDrawnEvent(12, 4)
	var selected, waiting []string
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND selected ORDER BY position", sq).Scan(&selected)
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND NOT selected ORDER BY position", sq).Scan(&waiting)
	if len(selected) != 4 || len(waiting) != 8 {
		t.Fatalf("drawn %d selected, %d waiting", len(selected), len(waiting))
	}
	tok := func(id string) string { return e.keys.ReceiptToken(id) }
	decline := func(entry string) {
		t.Helper()
		oid, _ := e.offerOf(entry)
		if r := e.do("POST", "/api/v1/offers/"+oid+"/decline", map[string]any{"token": tok(entry)}); r.Status != 200 {
			t.Fatalf("decline: %d %s", r.Status, r.Raw)
		}
	}
	decline(selected[0])
	if n := e.reoffers(sq); n != 1 {
		t.Fatalf("before settling, a decline re-offers: %d re-offers", n)
	}
	if r := e.action("spring", "settle", nil); r.Status != 200 || r.str("status") != "settled" {
		t.Fatalf("settle: %d %s", r.Status, r.Raw)
	}
	for i, id := range waiting {
		want := int64(1)
		if _, st := e.offerOf(id); st != "" { // moved up before the waitlist closed
			want = 0
		}
		if n := e.intents(id, mails.EntryNotDrawn); n != want {
			t.Errorf("waiting entry %d: %d not-drawn mails, want %d", i, n, want)
		}
	}
	for _, id := range selected {
		if n := e.intents(id, mails.EntryNotDrawn); n != 0 {
			t.Errorf("selected entry told it was not drawn")
		}
	}
	decline(selected[1])
	if n := e.reoffers(sq); n != 1 {
		t.Errorf("after settling, a decline re-offered: %d re-offers", n)
	}
	if live, capacity := e.live(sq); live != 3 || capacity != 4 {
		t.Errorf("live offers %d of %d, want 3 (four offered, two declined, one moved up; the second slot stays free)", live, capacity)
	}
	if r := e.action("spring", "settle", nil); r.Status != 409 || r.errCode() != "invalid_transition" {
		t.Errorf("settle twice: %d %s", r.Status, r.Raw)
	}
	var logged int64
	e.store.DB().Raw("SELECT count(*) FROM event_log WHERE kind = 'event.settled' AND (details->>'not_drawn_mails')::int = 7").Scan(&logged)
	var audited int64
	e.store.DB().Raw("SELECT count(*) FROM audit_log WHERE action = 'event.settle'").Scan(&audited)
	if logged != 1 || audited != 1 {
		t.Errorf("event log %d, audit %d; want 1 each", logged, audited)
	}
	r := e.do("GET", "/api/v1/entries/"+waiting[3]+"?token="+tok(waiting[3]), nil)
	if r.Status != 200 || r.str("status") != "waitlisted" {
		t.Errorf("status of a runner still waiting: %d %s", r.Status, r.Raw)
	}
}
