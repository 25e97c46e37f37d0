package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/startline/startline/lottery/payments/sandbox"
)

// payDeferralFee pays a pending deferral's fee through the sandbox: the
// pay call, then the provider's webhook.
func (e *env) payDeferralFee(pay *sandbox.Provider, entry string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/entries/"+entry+"/deferral/pay", map[string]any{"token": e.keys.ReceiptToken(entry)})
	if r.Status != 200 || r.str("payment_id") == "" {
		e.t.Fatalf("pay deferral fee: %d %s", r.Status, r.Raw)
	}
	body, hdr, _ := pay.Event(r.str("payment_id"), r.str("offer_id"), "pay", e.clock.Now())
	if r := e.webhook(body, hdr); r.Status != 200 {
		e.t.Fatalf("webhook: %d %s", r.Status, r.Raw)
	}
}

// TestDeferralFee: a deferral with a fee is pending (the entry confirmed,
// the fee and its time to pay shown) until the provider reports the fee
// captured — exactly the fee is charged, on the entry's paid offer — then
// held and the entry deferred, logged and mailed; the place's own payment
// is untouched. Paying twice reuses the checkout; a wrong token is 404.
// Unpaid by its time, the pass cancels it (the runner keeps the place,
// mailed) and a payment arriving after is released; the runner may defer
// again. A free deferral is held at once.
func TestDeferralFee(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, true)
	pay := sandbox.New([]byte("sandbox-test-key"))
	e.offers.UsePayments(pay)
	e.feesDrawnEvent(12, 4)
	auth := []string{"Authorization", "Bearer " + e.organizer}
	var selected []string
	e.store.DB().Raw(`SELECT dr.entry_id::text FROM draw_results dr JOIN subqueues q ON q.id = dr.subqueue_id
		WHERE q.key = 'half:sub-130' AND dr.selected ORDER BY dr.position`).Scan(&selected)
	tok := func(id string) string { return e.keys.ReceiptToken(id) }
	for _, id := range selected[:3] {
		e.paySandbox(pay, id)
	}
	deadline := e.clock.Now().Add(10 * 24 * time.Hour)
	if r := e.do("PUT", "/api/v1/admin/events/spring/deferral", map[string]any{"deadline": deadline, "fee_minor": 7000, "cap": 0}, auth...); r.Status != 200 {
		t.Fatalf("terms: %d %s", r.Status, r.Raw)
	}
	deferEntry := func(entry string) resp {
		return e.do("POST", "/api/v1/entries/"+entry+"/defer", map[string]any{"token": tok(entry)})
	}

	t.Run("paid", func(t *testing.T) {
		id := selected[0]
		r := deferEntry(id)
		if r.Status != 200 || r.str("state") != "pending" || r.str("status") != "confirmed" || r.str("pay_by") == "" {
			t.Fatalf("defer: %d %s", r.Status, r.Raw)
		}
		if got := e.entryRow(id); got.Entry != "confirmed" {
			t.Errorf("pending deferral's entry: %+v", got)
		}
		if r := deferEntry(id); r.str("state") != "pending" {
			t.Errorf("defer again while pending: %s", r.Raw)
		}
		if r := e.do("POST", "/api/v1/entries/"+id+"/deferral/pay", map[string]any{"token": "wrong"}); r.Status != 404 {
			t.Errorf("wrong token: %d", r.Status)
		}
		p1 := e.do("POST", "/api/v1/entries/"+id+"/deferral/pay", map[string]any{"token": tok(id)})
		p2 := e.do("POST", "/api/v1/entries/"+id+"/deferral/pay", map[string]any{"token": tok(id)})
		if p1.Status != 200 || p1.str("payment_id") != p2.str("payment_id") {
			t.Fatalf("pay twice: %s / %s", p1.Raw, p2.Raw)
		}
		if s, ok := pay.Session(p1.str("payment_id")); !ok || s.AmountMinor != 7000 {
			t.Fatalf("checkout %+v, want the fee 7000", s)
		}
		body, hdr, _ := pay.Event(p1.str("payment_id"), p1.str("offer_id"), "pay", e.clock.Now())
		if r := e.webhook(body, hdr); r.Status != 200 {
			t.Fatalf("webhook: %d %s", r.Status, r.Raw)
		}
		if r := e.webhook(body, hdr); r.Status != 200 {
			t.Fatalf("webhook again: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/v1/entries/"+id+"/deferral", map[string]any{"token": tok(id)}); r.str("state") != "held" || r.str("status") != "deferred" {
			t.Errorf("after paying: %s", r.Raw)
		}
		if got := e.entryRow(id); got.Entry != "deferred" || got.Offer != "paid" {
			t.Errorf("deferred entry: %+v", got)
		}
		var fees, places int64
		e.store.DB().Raw(`SELECT count(*) FROM payments WHERE id = ? AND status = 'captured' AND amount_minor = 7000`, p1.str("payment_id")).Scan(&fees)
		e.store.DB().Raw(`SELECT count(*) FROM payments p JOIN offers o ON o.id = p.offer_id WHERE o.entry_id = ? AND p.status = 'captured'`, id).Scan(&places)
		if fees != 1 || places != 2 {
			t.Errorf("captured: fee %d, on the offer %d; want 1 and 2", fees, places)
		}
		var kinds []string
		e.store.DB().Raw(`SELECT kind FROM event_log WHERE entry_id = ? AND kind IN ('deferral.pending', 'entry.deferred') ORDER BY id`, id).Scan(&kinds)
		if len(kinds) != 2 || kinds[0] != "deferral.pending" || kinds[1] != "entry.deferred" {
			t.Errorf("log: %v", kinds)
		}
		if n := e.intents(id, "entry.deferred"); n != 1 {
			t.Errorf("deferred mails: %d", n)
		}
		if r := e.do("POST", "/api/v1/entries/"+id+"/deferral/pay", map[string]any{"token": tok(id)}); r.Status != 409 {
			t.Errorf("pay a held deferral: %d %s", r.Status, r.Raw)
		}
	})

	t.Run("unpaid", func(t *testing.T) {
		id := selected[1]
		if r := deferEntry(id); r.str("state") != "pending" {
			t.Fatalf("defer: %s", r.Raw)
		}
		p := e.do("POST", "/api/v1/entries/"+id+"/deferral/pay", map[string]any{"token": tok(id)})
		if n, err := e.offers.CancelUnpaidDeferrals(ctx, 0); err != nil || n != 0 {
			t.Fatalf("sweep before the time: %d %v", n, err)
		}
		now := e.clock.Now()
		e.clock.Set(now.Add(2 * time.Hour))
		if n, err := e.offers.CancelUnpaidDeferrals(ctx, 0); err != nil || n != 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		if r := e.do("POST", "/api/v1/entries/"+id+"/deferral", map[string]any{"token": tok(id)}); r.str("state") != "cancelled" || r.str("status") != "confirmed" {
			t.Errorf("after the sweep: %s", r.Raw)
		}
		if got := e.entryRow(id); got.Entry != "confirmed" || got.Offer != "paid" {
			t.Errorf("place kept: %+v", got)
		}
		if n := e.intents(id, "deferral.cancelled"); n != 1 {
			t.Errorf("cancel mails: %d", n)
		}
		// The runner pays after all: the payment is released, nothing moves.
		body, hdr, _ := pay.Event(p.str("payment_id"), p.str("offer_id"), "pay", e.clock.Now())
		if r := e.webhook(body, hdr); r.Status != 200 {
			t.Fatalf("late webhook: %d %s", r.Status, r.Raw)
		}
		var st string
		e.store.DB().Raw(`SELECT status FROM payments WHERE id = ?`, p.str("payment_id")).Scan(&st)
		if st == "captured" || e.entryRow(id).Entry != "confirmed" {
			t.Errorf("late payment %s, entry %+v", st, e.entryRow(id))
		}
		// The runner may defer again (a new pending deferral in its row).
		if r := deferEntry(id); r.Status != 200 || r.str("state") != "pending" {
			t.Errorf("defer again: %d %s", r.Status, r.Raw)
		}
		e.clock.Set(now)
	})

	t.Run("free", func(t *testing.T) {
		e.do("PUT", "/api/v1/admin/events/spring/deferral", map[string]any{"deadline": deadline, "fee_minor": 0, "cap": 0}, auth...)
		id := selected[2]
		if r := deferEntry(id); r.Status != 200 || r.str("state") != "held" || r.str("pay_by") != "" {
			t.Errorf("free deferral: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/v1/entries/"+id+"/deferral/pay", map[string]any{"token": tok(id)}); r.Status != 409 {
			t.Errorf("pay a free deferral: %d %s", r.Status, r.Raw)
		}
	})
}
