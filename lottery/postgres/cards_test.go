package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

// TestCardPolicyStore: an event's card policy is stored before
// registration opens (and read with the event), removed when turned off,
// refused once registration opened, and audited.
func TestCardPolicyStore(t *testing.T) {
	ctx := context.Background()
	store, ev, full, _ := dashboardEvent(t, "cards")
	org, err := store.StaffByEmail(ctx, "org@example.com")
	if err != nil {
		t.Fatal(err)
	}
	before := ev.OpensAt.Add(-time.Minute)
	p := lottery.CardPolicy{Enabled: true, EntriesPerCard: 2, ChargePerMinute: 600, MaxAttempts: 5}
	if err := store.SetCardPolicy(ctx, ev.ID, p, before, org.Actor()); err != nil {
		t.Fatal(err)
	}
	got, err := store.EventBySlug(ctx, "cards")
	if err != nil || got.Card == nil || *got.Card != p || !got.CardOnFile() {
		t.Fatalf("event's policy: %+v %v", got.Card, err)
	}
	if err := store.SetCardPolicy(ctx, ev.ID, lottery.CardPolicy{EntriesPerCard: 1, ChargePerMinute: 1, MaxAttempts: 1}, before, org.Actor()); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.EventBySlug(ctx, "cards"); got.Card != nil {
		t.Errorf("turned off, still: %+v", got.Card)
	}
	err = store.SetCardPolicy(ctx, ev.ID, p, ev.OpensAt, org.Actor())
	if lottery.CodeOf(err) != lottery.CodeInvalidTransition {
		t.Errorf("after opening: %v", err)
	}
	if err := store.SetCardPolicy(ctx, 999999, p, before, org.Actor()); !errors.Is(err, lottery.ErrNotFound) {
		t.Errorf("no event: %v", err)
	}
	var audited int64
	store.DB().Raw(`SELECT count(*) FROM audit_log WHERE action = 'event.card_policy' AND target = 'cards'`).Scan(&audited)
	if audited != 2 {
		t.Errorf("audit rows: %d", audited)
	}

	// EntryCard: the card and how many entries of the event share it.
	ids := []string{"0b7c5a8e-1f2d-4c3b-9a8e-7d6c5b4a3f21", "1b7c5a8e-1f2d-4c3b-9a8e-7d6c5b4a3f21", "2b7c5a8e-1f2d-4c3b-9a8e-7d6c5b4a3f21"}
	for i, id := range ids {
		if err := store.DB().Exec(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, status)
			VALUES (?, ?, ?, 'Kim', ?, ?, ?, '1991-05-06', 'received')`, id, ev.ID, full, id+"@example.com", id+"@example.com",
			"+8210000000"+string(rune('0'+i))).Error; err != nil {
			t.Fatal(err)
		}
	}
	for i, fp := range []string{"fp-a", "fp-a"} {
		if err := store.DB().Exec(`INSERT INTO entry_cards (entry_id, event_id, provider, setup_id, payment_method, fingerprint, brand, last4)
			VALUES (?, ?, 'sandbox', ?, 'pm', ?, 'visa', '4242')`, ids[i], ev.ID, "seti_"+ids[i], fp).Error; err != nil {
			t.Fatal(err)
		}
	}
	c, shared, err := store.EntryCard(ctx, ids[0])
	if err != nil || c.Brand != "visa" || c.Last4 != "4242" || c.Fingerprint != "fp-a" || c.PaymentMethod != "pm" || shared != 2 {
		t.Errorf("entry card: %+v %d %v", c, shared, err)
	}
	if _, _, err := store.EntryCard(ctx, ids[2]); !errors.Is(err, lottery.ErrNotFound) {
		t.Errorf("no card: %v", err)
	}
}
