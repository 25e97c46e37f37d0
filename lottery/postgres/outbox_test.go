package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/postgres"
)

// drawnEvent draws every sub-queue of a new event (capacity 2 each, so
// some entries are waitlisted) and returns the store at the drawn state.
func drawnEvent(t *testing.T, slug string) (*postgres.Store, *lottery.FixedClock, lottery.StaffAccount) {
	t.Helper()
	store, svc, _, clk, org := drawService(t, nil)
	for _, id := range drawTestEvent(t, store, svc, clk, org, slug, 2, 5) {
		stored, art := computeDraw(t, store, id)
		if err := store.SaveDraw(context.Background(), id, stored, art); err != nil {
			t.Fatal(err)
		}
	}
	if got := eventStatus(t, store, slug); got != string(lottery.EventDrawn) {
		t.Fatalf("event %s, want drawn", got)
	}
	return store, clk, org
}

// TestOfferIntentsCommitWithOffers: publishing results writes one
// offer.issued intent per offer in the same transaction: kind and ids,
// the entry's address, no rendered text (the worker renders it).
func TestOfferIntentsCommitWithOffers(t *testing.T) {
	store, clk, org := drawnEvent(t, "intents")
	ctx := context.Background()
	_, issued, err := store.IssueDrawOffers(ctx, "intents", lottery.OfferTx{Now: clk.T, Hold: time.Hour}, org.Actor())
	if err != nil {
		t.Fatal(err)
	}
	if len(issued) != 4 {
		t.Fatalf("%d offers issued, want 4 (2 sub-queues × capacity 2)", len(issued))
	}
	var rows []struct {
		ID                                   int64
		Kind, Intent, Subject, Body          string
		EventID                              int64
		EntryID, OfferID, ToAddr, EntryEmail string
		OfferEvent                           int64
		OfferEntry                           string
	}
	if err := store.DB().Raw(`SELECT m.id, m.kind, m.intent, m.subject, m.body, m.event_id, m.entry_id::text, m.offer_id::text,
			m.to_addr, e.email AS entry_email, o.event_id AS offer_event, o.entry_id::text AS offer_entry
		FROM outbox m JOIN offers o ON o.id = m.offer_id JOIN entries e ON e.id = o.entry_id ORDER BY m.id`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(issued) {
		t.Fatalf("%d intents for %d offers", len(rows), len(issued))
	}
	queued := map[int64]bool{}
	for _, is := range issued {
		queued[is.OutboxID] = true
	}
	for _, r := range rows {
		if r.Kind != "offer" || r.Intent != mails.OfferIssued || r.Subject != "" || r.Body != "" ||
			r.EventID != r.OfferEvent || r.EntryID != r.OfferEntry || r.ToAddr != r.EntryEmail || !queued[r.ID] {
			t.Errorf("intent row %+v", r)
		}
		m, err := store.Mail(ctx, r.ID)
		if err != nil || !m.Pending() || m.OfferID != r.OfferID || m.EntryID != r.EntryID || m.EventID != r.EventID {
			t.Errorf("Mail(%d) = %+v, %v", r.ID, m, err)
		}
	}
	// Each issued offer holds the hold passed in as a value.
	for _, is := range issued {
		if got := is.Offer.ExpiresAt.Sub(clk.T); got != time.Hour {
			t.Errorf("offer %s holds %s, want 1h", is.Offer.ID, got)
		}
	}
	// A declined offer's slot goes to the waitlist: the cascade's offer
	// gets its intent (moved up: a later round) in the decline's
	// transaction, and the runner who declined hears it too.
	_, next, err := store.ChangeOffer(ctx, lottery.OfferTx{OfferID: issued[0].Offer.ID, Action: lottery.OfferActionDecline,
		Now: clk.T, Hold: 2 * time.Hour})
	if err != nil || len(next) != 1 {
		t.Fatalf("decline: %d offers, %v", len(next), err)
	}
	m, err := store.Mail(ctx, next[0].OutboxID)
	if err != nil || m.Intent != mails.OfferMovedUp || m.OfferID != next[0].Offer.ID || m.EntryID != next[0].Offer.EntryID {
		t.Errorf("cascade intent %+v, %v for offer %+v", m, err, next[0].Offer)
	}
	var declined int64
	store.DB().Raw(`SELECT count(*) FROM outbox WHERE intent = ? AND offer_id = ? AND entry_id = ?`, mails.OfferDeclined,
		issued[0].Offer.ID, issued[0].Offer.EntryID).Scan(&declined)
	if declined != 1 {
		t.Errorf("%d offer.declined intents for the declined offer, want 1", declined)
	}
	if got := next[0].Offer.ExpiresAt.Sub(clk.T); got != 2*time.Hour {
		t.Errorf("cascade offer holds %s, want 2h", got)
	}
}

// TestOfferIntentsRollBackWithOffers: when the transaction that issues the
// offers fails after the intents are written (here its audit record names
// a staff account that does not exist), no offer and no intent remain.
func TestOfferIntentsRollBackWithOffers(t *testing.T) {
	store, clk, _ := drawnEvent(t, "rollback")
	ctx := context.Background()
	ghost := lottery.Actor{StaffID: 987654321, Label: "staff:987654321"}
	if _, _, err := store.IssueDrawOffers(ctx, "rollback", lottery.OfferTx{Now: clk.T, Hold: time.Hour}, ghost); err == nil ||
		!strings.Contains(err.Error(), "audit") {
		t.Fatalf("publish with a ghost actor: %v, want the audit insert to fail", err)
	}
	var offers, intents int
	store.DB().Raw("SELECT count(*) FROM offers").Scan(&offers)
	store.DB().Raw("SELECT count(*) FROM outbox WHERE intent = ?", mails.OfferIssued).Scan(&intents)
	if offers != 0 || intents != 0 {
		t.Errorf("after the rollback: %d offers, %d intents; want none", offers, intents)
	}
}
