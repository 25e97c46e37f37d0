package api_test

import (
	"testing"

	"github.com/startline/startline/lottery/checkin"
	"github.com/startline/startline/lottery/mails"
)

// TestCheckinAfterTransferAndRefund: check-in against places that really
// moved (not statuses written by hand): after a face-value transfer the
// giver's code is refused (409 not_confirmed) and the recipient's is
// accepted once (then 409 already_picked_up); after a paid place is given
// back and refunded its code is refused (not_confirmed, withdrawn); and a
// place whose bib was picked up can no longer be transferred or given back
// (one place, one bib), and a pickup closes the giver's open transfer (its
// recipient is told).
func TestCheckinAfterTransferAndRefund(t *testing.T) {
	e := newEnv(t, true)
	pay, _, selected := e.sandboxDrawn()
	e.store.DB().Exec("UPDATE events SET transfer_max = 10, transfer_fee_minor = 5000")
	tok := func(id string) string { return e.keys.ReceiptToken(id) }
	signer := checkin.NewSigner(e.keys.Derive("checkin"))
	rev := []string{"Authorization", "Bearer " + e.reviewer}
	checkIn := func(entry string) resp {
		t.Helper()
		c, err := signer.Code(entry)
		if err != nil {
			t.Fatal(err)
		}
		return e.do("POST", "/api/v1/checkin", map[string]any{"code": c}, rev...)
	}
	for _, id := range selected[:3] {
		e.paySandbox(pay, id)
	}

	// A transfer end to end: the recipient verifies and pays.
	giver, to := selected[0], "taker@example.org"
	if r := e.do("POST", "/api/v1/entries/"+giver+"/transfer", map[string]any{"token": tok(giver), "to_email": to}); r.Status != 202 {
		t.Fatalf("transfer: %d %s", r.Status, r.Raw)
	}
	link := e.transferToken(to)
	r := e.do("POST", "/api/v1/transfers/"+link+"/accept", e.recipientForm(to, e.transferCode(link, to)))
	if r.Status != 200 {
		t.Fatalf("accept: %d %s", r.Status, r.Raw)
	}
	recipient := r.str("entry_id")
	r = e.do("POST", "/api/v1/transfers/"+link+"/pay", map[string]any{})
	body, hdr, _ := pay.Event(r.str("payment_id"), r.str("offer_id"), "pay", e.clock.Now())
	if r := e.webhook(body, hdr); r.Status != 200 {
		t.Fatalf("webhook: %d", r.Status)
	}
	if g := e.entryRow(giver); g.Entry != "transferred" {
		t.Fatalf("giver after the transfer: %+v", g)
	}
	if r := checkIn(giver); r.Status != 409 || r.errCode() != checkin.CodeNotConfirmed || r.str("reason") != checkin.ReasonTransferred {
		t.Errorf("giver's code after the transfer: %d %s", r.Status, r.Raw)
	}
	if r := checkIn(recipient); r.Status != 200 || r.str("entry") != recipient {
		t.Errorf("recipient's code: %d %s", r.Status, r.Raw)
	}
	if r := checkIn(recipient); r.Status != 409 || r.errCode() != checkin.CodeAlreadyPickedUp {
		t.Errorf("recipient's code twice: %d %s", r.Status, r.Raw)
	}

	// A paid place given back and refunded.
	back := selected[1]
	if r := e.do("POST", "/api/v1/entries/"+back+"/give-back", map[string]any{"token": tok(back)}); r.Status != 200 {
		t.Fatalf("give-back: %d %s", r.Status, r.Raw)
	}
	if g := e.entryRow(back); g.Entry != "withdrawn" || g.Refunded == 0 {
		t.Fatalf("given back: %+v", g)
	}
	if r := checkIn(back); r.Status != 409 || r.errCode() != checkin.CodeNotConfirmed || r.str("reason") != checkin.ReasonWithdrawn {
		t.Errorf("code of a place given back: %d %s", r.Status, r.Raw)
	}

	// The recipient picked their bib up: the place stays theirs.
	if r := e.do("POST", "/api/v1/entries/"+recipient+"/transfer", map[string]any{"token": tok(recipient), "to_email": "third@example.org"}); r.Status != 409 {
		t.Errorf("transfer of a place whose bib was picked up: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/entries/"+recipient+"/give-back", map[string]any{"token": tok(recipient)}); r.Status != 409 {
		t.Errorf("give-back of a place whose bib was picked up: %d %s", r.Status, r.Raw)
	}
	if g := e.entryRow(recipient); g.Entry != "confirmed" || g.Offer != "paid" || g.Due != 0 {
		t.Errorf("recipient after the refused moves: %+v", g)
	}

	// A giver picks up the bib while their transfer is verified: the
	// transfer closes there and then, and its recipient is told.
	late, lateTo := selected[2], "late@example.org"
	if r := e.do("POST", "/api/v1/entries/"+late+"/transfer", map[string]any{"token": tok(late), "to_email": lateTo}); r.Status != 202 {
		t.Fatalf("late transfer: %d %s", r.Status, r.Raw)
	}
	lateLink := e.transferToken(lateTo)
	r = e.do("POST", "/api/v1/transfers/"+lateLink+"/accept", e.recipientForm(lateTo, e.transferCode(lateLink, lateTo)))
	if r.Status != 200 {
		t.Fatalf("late accept: %d %s", r.Status, r.Raw)
	}
	lateRecipient := r.str("entry_id")
	if r := checkIn(late); r.Status != 200 {
		t.Fatalf("giver's pickup: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/api/v1/transfers/"+lateLink, nil); r.str("state") != "cancelled" {
		t.Errorf("transfer after the giver's pickup: %s", r.Raw)
	}
	if n := e.intents(lateRecipient, mails.TransferEnded); n != 1 {
		t.Errorf("recipient told of the withdrawn transfer %d times, want 1", n)
	}
	if r := e.do("POST", "/api/v1/transfers/"+lateLink+"/pay", map[string]any{}); r.Status != 409 {
		t.Errorf("paying a transfer closed by the pickup: %d %s", r.Status, r.Raw)
	}
}
