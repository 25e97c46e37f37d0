package api_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/payments/sandbox"
)

// transferLinkRe finds the token in a transfer.offered mail.
var transferLinkRe = regexp.MustCompile(`https://run\.example/transfers/([A-Za-z0-9_-]+)`)

// transferToken reads the newest transfer link mailed to addr.
func (e *env) transferToken(addr string) string {
	e.t.Helper()
	msgs, err := e.store.OutboxFor(context.Background(), addr, 5)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Intent == "transfer.offered" {
			if g := transferLinkRe.FindStringSubmatch(m.Body); g != nil {
				return g[1]
			}
		}
	}
	e.t.Fatalf("no transfer link mailed to %s", addr)
	return ""
}

// transferCode asks for the recipient's code and reads it from the outbox.
func (e *env) transferCode(token, addr string) string {
	e.t.Helper()
	if r := e.do("POST", "/api/v1/transfers/"+token+"/otp", map[string]any{}); r.Status != 202 {
		e.t.Fatalf("transfer otp: %d %s", r.Status, r.Raw)
	}
	msgs, err := e.store.OutboxFor(context.Background(), addr, 1)
	if err != nil || len(msgs) == 0 {
		e.t.Fatalf("outbox for %s: %v", addr, err)
	}
	m := codeRe.FindStringSubmatch(msgs[0].Body)
	if m == nil {
		e.t.Fatalf("no code in %q", msgs[0].Body)
	}
	return m[1]
}

// recipientForm is the recipient's form: applyBodyNoProof's person.
func (e *env) recipientForm(addr, code string) map[string]any {
	b := e.applyBodyNoProof(addr, code)
	delete(b, "course")
	delete(b, "pace_group")
	delete(b, "email")
	return b
}

// TestTransferSandbox: a face-value transfer end to end through the API
// with the sandbox provider: refused while the event allows none, for an
// unpaid place, to oneself and with a wrong token; the recipient verifies
// with a code, fills the form and pays exactly the price; only then does
// the slot move (the giver transferred, refunded the price less the fee;
// the recipient confirmed; the sub-queue's live count unchanged), every
// step logged; a recipient who already has an entry is refused; the giver
// can cancel; the event's count and deadline hold; a link expires.
func TestTransferSandbox(t *testing.T) {
	e := newEnv(t, true)
	pay := sandbox.New([]byte("sandbox-test-key"))
	e.offers.UsePayments(pay)
	sq := e.feesDrawnEvent(12, 4)
	var selected, waitlisted []string
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND selected ORDER BY position", sq).Scan(&selected)
	e.store.DB().Raw("SELECT entry_id::text FROM draw_results WHERE subqueue_id = ? AND NOT selected ORDER BY position", sq).Scan(&waitlisted)
	tok := func(id string) string { return e.keys.ReceiptToken(id) }
	paid := func(entry string) { t.Helper(); e.paySandbox(pay, entry) }
	transfer := func(entry, token, to string) resp {
		return e.do("POST", "/api/v1/entries/"+entry+"/transfer", map[string]any{"token": token, "to_email": to})
	}
	emailOf := func(entry string) (s string) {
		e.store.DB().Raw("SELECT email FROM entries WHERE id = ?", entry).Row().Scan(&s)
		return
	}
	giver := selected[0]
	paid(giver)
	liveBefore, _ := e.live(sq)

	// The event allows no transfers until the organizer sets a count.
	if r := transfer(giver, tok(giver), "friend@example.org"); r.Status != 409 || r.errCode() != "invalid_transition" {
		t.Fatalf("no transfers allowed: %d %s", r.Status, r.Raw)
	}
	policy := "/api/v1/admin/events/spring/transfer-policy"
	if r := e.do("PUT", policy, map[string]any{"max": -1, "fee": 0}, "Authorization", "Bearer "+e.organizer); r.Status != 422 ||
		r.errField("field") != "max" {
		t.Errorf("bad count: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PUT", policy, map[string]any{"max": 2, "fee": 5000}, "Authorization", "Bearer "+e.reviewer); r.Status != 403 {
		t.Errorf("a reviewer sets the policy: %d %s", r.Status, r.Raw)
	}
	r := e.do("PUT", policy, map[string]any{"max": 2, "fee": 5000, "deadline": e.clock.Now().Add(10 * 24 * time.Hour)},
		"Authorization", "Bearer "+e.organizer)
	if r.Status != 200 {
		t.Fatalf("transfer policy: %d %s", r.Status, r.Raw)
	}
	var audited int64
	e.store.DB().Raw("SELECT count(*) FROM audit_log WHERE action = 'event.transfer_policy' AND staff_id IS NOT NULL").Scan(&audited)
	if audited != 1 {
		t.Errorf("policy changes audited: %d", audited)
	}

	t.Run("refused", func(t *testing.T) {
		if r := transfer(giver, "wrong", "friend@example.org"); r.Status != 404 {
			t.Errorf("wrong token: %d %s", r.Status, r.Raw)
		}
		if r := transfer(selected[2], tok(selected[2]), "friend@example.org"); r.Status != 409 || r.errCode() != "no_slot_held" {
			t.Errorf("unpaid place: %d %s", r.Status, r.Raw)
		}
		if r := transfer(giver, tok(giver), emailOf(giver)); r.Status != 422 || r.errField("field") != "to_email" {
			t.Errorf("to oneself: %d %s", r.Status, r.Raw)
		}
		if r := transfer(giver, tok(giver), "not an address"); r.Status != 422 {
			t.Errorf("bad address: %d %s", r.Status, r.Raw)
		}
	})

	const to = "friend@example.org"
	r = transfer(giver, tok(giver), to)
	if r.Status != 202 || r.str("state") != "pending" {
		t.Fatalf("transfer: %d %s", r.Status, r.Raw)
	}
	if p, _ := r.Body["price"].(map[string]any); p["amount"] != float64(50000) {
		t.Errorf("price: %s", r.Raw)
	}
	if p, _ := r.Body["refund"].(map[string]any); p["amount"] != float64(45000) {
		t.Errorf("refund: %s", r.Raw)
	}
	if r := transfer(giver, tok(giver), "other@example.org"); r.Status != 409 || r.errCode() != "conflict" {
		t.Errorf("a second open transfer: %d %s", r.Status, r.Raw)
	}
	link := e.transferToken(to)
	if r := e.do("GET", "/api/v1/transfers/"+link, nil); r.Status != 200 || r.str("state") != "pending" || r.str("entry_id") != "" {
		t.Fatalf("transfer page: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/api/v1/transfers/nope", nil); r.Status != 404 {
		t.Errorf("unknown link: %d", r.Status)
	}
	if r := e.do("POST", "/api/v1/transfers/"+link+"/pay", map[string]any{}); r.Status != 409 {
		t.Errorf("pay before verifying: %d %s", r.Status, r.Raw)
	}

	// The recipient verifies: a wrong code is refused, the right one takes.
	code := e.transferCode(link, to)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if r := e.do("POST", "/api/v1/transfers/"+link+"/accept", e.recipientForm(to, wrong)); r.Status != 422 || r.errCode() != "invalid_otp" {
		t.Errorf("wrong code: %d %s", r.Status, r.Raw)
	}
	r = e.do("POST", "/api/v1/transfers/"+link+"/accept", e.recipientForm(to, code))
	if r.Status != 200 || r.str("state") != "verified" || r.str("entry_id") == "" {
		t.Fatalf("accept: %d %s", r.Status, r.Raw)
	}
	recipient := r.str("entry_id")
	if r.str("receipt_token") != tok(recipient) {
		t.Errorf("receipt token of the recipient's entry: %s", r.Raw)
	}
	// Nothing moves and nothing is refunded before the recipient pays.
	if got := e.entryRow(giver); got.Entry != "confirmed" || got.Offer != "paid" || got.Due != 0 {
		t.Fatalf("giver before the recipient paid: %+v", got)
	}
	if live, _ := e.live(sq); live != liveBefore {
		t.Fatalf("live offers %d, were %d", live, liveBefore)
	}

	r = e.do("POST", "/api/v1/transfers/"+link+"/pay", map[string]any{})
	if r.Status != 200 {
		t.Fatalf("recipient pays: %d %s", r.Status, r.Raw)
	}
	paymentID, holdID := r.str("payment_id"), r.str("offer_id")
	if s, ok := pay.Session(paymentID); !ok || s.AmountMinor != 50000 || s.Currency != "krw" {
		t.Fatalf("checkout charges %+v, want the face value 50000 krw", s)
	}
	body, hdr, _ := pay.Event(paymentID, holdID, "pay", e.clock.Now())
	if r := e.webhook(body, hdr); r.Status != 200 {
		t.Fatalf("webhook: %d %s", r.Status, r.Raw)
	}
	if got := e.entryRow(giver); got.Entry != "transferred" || got.Offer != "void" || got.Due != 45000 || got.Refunded != 45000 ||
		got.Payment != "refunded" {
		t.Errorf("giver after the transfer: %+v", got)
	}
	if got := e.entryRow(recipient); got.Entry != "confirmed" || got.Offer != "paid" || got.Payment != "captured" {
		t.Errorf("recipient after paying: %+v", got)
	}
	if live, _ := e.live(sq); live != liveBefore {
		t.Errorf("live offers %d after the transfer, were %d: a slot moves, none is added", live, liveBefore)
	}
	var kinds []string
	e.store.DB().Raw(`SELECT kind FROM event_log WHERE entry_id IN (?, ?) AND kind LIKE 'transfer.%' ORDER BY id`, giver, recipient).Scan(&kinds)
	if want := []string{"transfer.offered", "transfer.verified", "transfer.completed"}; len(kinds) != 3 || kinds[0] != want[0] ||
		kinds[1] != want[1] || kinds[2] != want[2] {
		t.Errorf("event log: %v, want %v", kinds, want)
	}
	if e.intents(giver, "transfer.completed") != 1 || e.intents(giver, "entry.refunded") != 1 || e.intents(recipient, "offer.paid") != 1 {
		t.Errorf("mails: completed %d, refunded %d, recipient's confirmation %d", e.intents(giver, "transfer.completed"),
			e.intents(giver, "entry.refunded"), e.intents(recipient, "offer.paid"))
	}
	// A delivery twice changes nothing; the given place cannot go again.
	if r := e.webhook(body, hdr); r.Status != 200 {
		t.Errorf("webhook again: %d", r.Status)
	}
	if r := transfer(giver, tok(giver), "third@example.org"); r.Status != 409 || r.errCode() != "no_slot_held" {
		t.Errorf("transfer a transferred place: %d %s", r.Status, r.Raw)
	}

	// Someone who already has an entry in the event cannot receive one;
	// the giver cancels the transfer.
	second := selected[1]
	paid(second)
	dupAddr := emailOf(waitlisted[0])
	if r := transfer(second, tok(second), dupAddr); r.Status != 202 {
		t.Fatalf("transfer to an entrant: %d %s", r.Status, r.Raw)
	}
	dupLink := e.transferToken(dupAddr)
	if r := e.do("POST", "/api/v1/transfers/"+dupLink+"/accept", e.recipientForm(dupAddr, e.transferCode(dupLink, dupAddr))); r.Status != 409 ||
		r.errCode() != "duplicate_entry" {
		t.Errorf("recipient with an entry: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/entries/"+second+"/transfer/cancel", map[string]any{"token": tok(second)}); r.Status != 200 ||
		r.str("state") != "cancelled" {
		t.Errorf("cancel: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/api/v1/transfers/"+dupLink, nil); r.str("state") != "cancelled" {
		t.Errorf("cancelled link: %s", r.Raw)
	}
	if got := e.entryRow(second); got.Entry != "confirmed" || got.Due != 0 {
		t.Errorf("giver after cancelling: %+v", got)
	}

	// The count: one done, one open makes two, the event's limit.
	third := selected[3]
	paid(third)
	if r := transfer(second, tok(second), "fourth@example.org"); r.Status != 202 {
		t.Fatalf("second transfer: %d %s", r.Status, r.Raw)
	}
	if r := transfer(third, tok(third), "fifth@example.org"); r.Status != 409 || r.errCode() != "conflict" {
		t.Errorf("over the event's count: %d %s", r.Status, r.Raw)
	}
	// A link expires (72 hours at most): the open transfer no longer counts.
	openLink := e.transferToken("fourth@example.org")
	e.clock.Set(e.clock.Now().Add(73 * time.Hour))
	if r := e.do("GET", "/api/v1/transfers/"+openLink, nil); r.str("state") != "expired" {
		t.Errorf("expired link: %s", r.Raw)
	}
	// Found expired on the way, before the sweep: the giver is told as the sweep would tell them.
	if n := e.intents(second, mails.TransferEnded); n != 1 {
		t.Errorf("giver of a transfer found expired: %d transfer.ended mails, want 1", n)
	}
	if r := e.do("POST", "/api/v1/transfers/"+openLink+"/otp", map[string]any{}); r.Status != 409 {
		t.Errorf("code for an expired link: %d %s", r.Status, r.Raw)
	}
	// The deadline.
	e.store.DB().Exec("UPDATE events SET transfer_deadline = ?", e.clock.Now().Add(-time.Minute))
	if r := transfer(third, tok(third), "fifth@example.org"); r.Status != 409 || r.errCode() != "invalid_transition" {
		t.Errorf("after the deadline: %d %s", r.Status, r.Raw)
	}
}

// TestTransferRacesGiveBack: the giver giving the place back while the
// recipient's payment arrives: both lock the giver's offer first, so
// exactly one wins — the place moves (and the give-back is refused) or is
// given back (and the recipient's payment is released, their entry never
// confirmed) — and the sub-queue never holds more live offers than slots.
func TestTransferRacesGiveBack(t *testing.T) {
	e := newEnv(t, true)
	pay, sq, selected := e.sandboxDrawn()
	e.store.DB().Exec("UPDATE events SET transfer_max = 10, transfer_fee_minor = 5000")
	tok := func(id string) string { return e.keys.ReceiptToken(id) }
	giver := selected[0]
	offerID, _ := e.offerOf(giver)
	r := e.do("POST", "/api/v1/offers/"+offerID+"/pay", map[string]any{"token": tok(giver)})
	body, hdr, _ := pay.Event(r.str("payment_id"), offerID, "pay", e.clock.Now())
	if r := e.webhook(body, hdr); r.Status != 200 {
		t.Fatalf("giver pays: %d", r.Status)
	}
	const to = "racer@example.org"
	if r := e.do("POST", "/api/v1/entries/"+giver+"/transfer", map[string]any{"token": tok(giver), "to_email": to}); r.Status != 202 {
		t.Fatalf("transfer: %d %s", r.Status, r.Raw)
	}
	link := e.transferToken(to)
	r = e.do("POST", "/api/v1/transfers/"+link+"/accept", e.recipientForm(to, e.transferCode(link, to)))
	if r.Status != 200 {
		t.Fatalf("accept: %d %s", r.Status, r.Raw)
	}
	recipient := r.str("entry_id")
	r = e.do("POST", "/api/v1/transfers/"+link+"/pay", map[string]any{})
	body, hdr, _ = pay.Event(r.str("payment_id"), r.str("offer_id"), "pay", e.clock.Now())

	var gave, hook resp
	done := make(chan struct{})
	go func() {
		defer close(done)
		gave = e.do("POST", "/api/v1/entries/"+giver+"/give-back", map[string]any{"token": tok(giver)})
	}()
	hook = e.webhook(body, hdr)
	<-done
	if hook.Status != 200 {
		t.Fatalf("webhook: %d %s", hook.Status, hook.Raw)
	}
	g, rc := e.entryRow(giver), e.entryRow(recipient)
	switch gave.Status {
	case 200: // the give-back won: the recipient's payment is released
		if g.Entry != "withdrawn" || rc.Entry == "confirmed" || rc.Offer == "paid" || rc.Payment == "captured" {
			t.Errorf("give-back won, but giver %+v, recipient %+v", g, rc)
		}
	case 409: // the transfer won
		if g.Entry != "transferred" || rc.Entry != "confirmed" || rc.Offer != "paid" {
			t.Errorf("transfer won, but giver %+v, recipient %+v", g, rc)
		}
	default:
		t.Fatalf("give-back: %d %s", gave.Status, gave.Raw)
	}
	if live, capacity := e.live(sq); live > capacity {
		t.Errorf("%d live offers for %d slots", live, capacity)
	}
}
