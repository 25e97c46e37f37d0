package api_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestTransferReview: a recipient whose form scores for review does not
// get refused: the transfer waits in review (their entry in the review
// queue with the reason transfer_recipient, paying refused); the
// reviewer's approve lets them pay and the place moves; a reject closes
// the transfer (the giver keeps the place, both mailed). The expiry sweep
// then expires open transfers past their end in bulk, mailing the giver
// and a verified recipient.
func TestTransferReview(t *testing.T) {
	e := newEnv(t, true)
	pay, _, selected := e.sandboxDrawn()
	tok := func(id string) string { return e.keys.ReceiptToken(id) }
	if r := e.do("PUT", "/api/v1/admin/events/spring/transfer-policy", map[string]any{"max": 10, "fee": 5000},
		"Authorization", "Bearer "+e.organizer); r.Status != 200 {
		t.Fatalf("policy: %d %s", r.Status, r.Raw)
	}
	state := func(link string) string {
		return e.do("GET", "/api/v1/transfers/"+link, nil).str("state")
	}
	// offer names a recipient for giver's paid place and returns the link.
	offer := func(giver, to string) string {
		t.Helper()
		e.paySandbox(pay, giver)
		if r := e.do("POST", "/api/v1/entries/"+giver+"/transfer", map[string]any{"token": tok(giver), "to_email": to}); r.Status != 202 {
			t.Fatalf("transfer: %d %s", r.Status, r.Raw)
		}
		return e.transferToken(to)
	}
	// accept sends the recipient's form; flagged scores it for review.
	accept := func(link, to string, flagged bool) resp {
		t.Helper()
		b := e.recipientForm(to, e.transferCode(link, to))
		if flagged {
			b["signals"] = map[string]any{"webdriver": true, "fill_ms": 30000, "fingerprint": "ffaa11"}
		}
		return e.do("POST", "/api/v1/transfers/"+link+"/accept", b)
	}
	decide := func(entry, decision, note string) resp {
		return e.do("POST", "/api/v1/review/entries/"+entry+"/decision", map[string]any{"decision": decision, "note": note},
			"Authorization", "Bearer "+e.reviewer)
	}

	t.Run("approved", func(t *testing.T) {
		giver, to := selected[0], "flagged@example.org"
		link := offer(giver, to)
		r := accept(link, to, true)
		if r.Status != 200 || r.str("state") != "review" || r.str("entry_id") == "" {
			t.Fatalf("accept in review: %d %s", r.Status, r.Raw)
		}
		recipient := r.str("entry_id")
		if got := e.entryRow(recipient); got.Entry != "in_review" || got.Offer != "transfer_hold" {
			t.Errorf("recipient in review: %+v", got)
		}
		q := e.do("GET", "/api/v1/review/queue?event=spring&reason=transfer_recipient", nil, "Authorization", "Bearer "+e.reviewer)
		if q.Status != 200 || !strings.Contains(string(q.Raw), recipient) {
			t.Errorf("review queue by the reason: %d %s", q.Status, q.Raw)
		}
		if r := e.do("POST", "/api/v1/transfers/"+link+"/pay", map[string]any{}); r.Status != 409 {
			t.Errorf("pay in review: %d %s", r.Status, r.Raw)
		}
		if r := decide(recipient, "approve", ""); r.Status != 200 {
			t.Fatalf("approve: %d %s", r.Status, r.Raw)
		}
		if got := state(link); got != "verified" {
			t.Errorf("after approve: %s", got)
		}
		if e.intents(recipient, "transfer.approved") != 1 {
			t.Errorf("approval mail: %d", e.intents(recipient, "transfer.approved"))
		}
		if r := decide(recipient, "approve", ""); r.Status != 409 {
			t.Errorf("approve twice: %d %s", r.Status, r.Raw)
		}
		r = e.do("POST", "/api/v1/transfers/"+link+"/pay", map[string]any{})
		if r.Status != 200 {
			t.Fatalf("pay: %d %s", r.Status, r.Raw)
		}
		body, hdr, _ := pay.Event(r.str("payment_id"), r.str("offer_id"), "pay", e.clock.Now())
		if r := e.webhook(body, hdr); r.Status != 200 {
			t.Fatalf("webhook: %d %s", r.Status, r.Raw)
		}
		if g, rc := e.entryRow(giver), e.entryRow(recipient); g.Entry != "transferred" || rc.Entry != "confirmed" || rc.Offer != "paid" {
			t.Errorf("after paying: giver %+v, recipient %+v", g, rc)
		}
	})

	t.Run("rejected", func(t *testing.T) {
		giver, to := selected[1], "flagged2@example.org"
		link := offer(giver, to)
		r := accept(link, to, true)
		if r.str("state") != "review" {
			t.Fatalf("accept in review: %d %s", r.Status, r.Raw)
		}
		recipient := r.str("entry_id")
		if r := decide(recipient, "reject", ""); r.Status != 422 {
			t.Errorf("reject without a note: %d %s", r.Status, r.Raw)
		}
		if r := decide(recipient, "reject", "Scripted form"); r.Status != 200 {
			t.Fatalf("reject: %d %s", r.Status, r.Raw)
		}
		if got := state(link); got != "rejected" {
			t.Errorf("after reject: %s", got)
		}
		if g, rc := e.entryRow(giver), e.entryRow(recipient); g.Entry != "confirmed" || g.Offer != "paid" || g.Due != 0 ||
			rc.Entry != "rejected" || rc.Offer != "void" {
			t.Errorf("after reject: giver %+v, recipient %+v", g, rc)
		}
		if e.intents(giver, "transfer.ended") != 1 || e.intents(recipient, "transfer.ended") != 1 {
			t.Errorf("reject mails: giver %d, recipient %d", e.intents(giver, "transfer.ended"), e.intents(recipient, "transfer.ended"))
		}
		var kinds []string
		e.store.DB().Raw(`SELECT kind FROM event_log WHERE entry_id = ? AND kind LIKE 'transfer.%' ORDER BY id`, giver).Scan(&kinds)
		if strings.Join(kinds, ",") != "transfer.offered,transfer.review,transfer.rejected" {
			t.Errorf("giver's log: %v", kinds)
		}
		var audited int64
		e.store.DB().Raw("SELECT count(*) FROM audit_log WHERE action = 'review.reject' AND target = ?", recipient).Scan(&audited)
		if audited != 1 {
			t.Errorf("decision audited: %d", audited)
		}
		// The giver may name someone else at once.
		if r := e.do("POST", "/api/v1/entries/"+giver+"/transfer", map[string]any{"token": tok(giver), "to_email": "next@example.org"}); r.Status != 202 {
			t.Errorf("transfer again after a reject: %d %s", r.Status, r.Raw)
		}
	})

	t.Run("sweep", func(t *testing.T) {
		pendingGiver, verifiedGiver := selected[2], selected[3]
		pendingLink := offer(pendingGiver, "slow@example.org")
		verifiedLink := offer(verifiedGiver, "slow2@example.org")
		r := accept(verifiedLink, "slow2@example.org", false)
		if r.str("state") != "verified" {
			t.Fatalf("accept: %d %s", r.Status, r.Raw)
		}
		recipient := r.str("entry_id")
		ctx := context.Background()
		if n, err := e.offers.ExpireTransfers(ctx, 0); err != nil || n != 0 {
			t.Fatalf("sweep before the end: %d %v", n, err)
		}
		e.clock.Set(e.clock.Now().Add(73 * time.Hour))
		// A bounded pass, then the rest; the transfer opened in "rejected"
		// to next@ expires too.
		if n, err := e.offers.ExpireTransfers(ctx, 1); err != nil || n != 1 {
			t.Fatalf("bounded pass: %d %v", n, err)
		}
		if n, err := e.offers.ExpireTransfers(ctx, 0); err != nil || n != 2 {
			t.Errorf("the rest: %d %v, want 2", n, err)
		}
		// The recipient who never took the link up is told too.
		msgs, _ := e.store.OutboxFor(ctx, "slow@example.org", 5)
		if len(msgs) == 0 || msgs[0].Intent != "transfer.ended" || !strings.Contains(msgs[0].Body, "has expired") {
			t.Errorf("mail to the named recipient: %+v", msgs)
		}
		var st []string
		e.store.DB().Raw(`SELECT state FROM transfers WHERE state IN ('pending', 'review', 'verified')`).Scan(&st)
		if len(st) != 0 {
			t.Errorf("open after the sweep: %v", st)
		}
		if state(pendingLink) != "expired" || state(verifiedLink) != "expired" {
			t.Errorf("links: %s %s", state(pendingLink), state(verifiedLink))
		}
		if g, rc := e.entryRow(verifiedGiver), e.entryRow(recipient); g.Entry != "confirmed" || rc.Entry != "expired" || rc.Offer != "expired" {
			t.Errorf("after the sweep: giver %+v, recipient %+v", g, rc)
		}
		if e.intents(pendingGiver, "transfer.ended") != 1 || e.intents(verifiedGiver, "transfer.ended") != 1 ||
			e.intents(recipient, "transfer.ended") != 1 {
			t.Errorf("sweep mails: %d %d %d", e.intents(pendingGiver, "transfer.ended"), e.intents(verifiedGiver, "transfer.ended"),
				e.intents(recipient, "transfer.ended"))
		}
		if n, _ := e.offers.ExpireTransfers(ctx, 0); n != 0 {
			t.Errorf("sweep again: %d", n)
		}
	})
}
