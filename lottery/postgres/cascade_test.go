package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/fairdraw"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/registration"
)

// offerSvc is the fixture's offers service: drawService's keys and clock,
// reading events through the fixture's service.
func (f *applyFixture) offerSvc(t *testing.T) *offers.Service {
	return offers.NewService(f.store, f.svc, testKeys(t), f.clk, nil, slog.New(slog.DiscardHandler))
}

// testKeys are drawService's keys (receipt tokens for offer actions).
func testKeys(t *testing.T) *lottery.Keys {
	t.Helper()
	keys, err := lottery.NewKeys([]byte("draw-test-secret-key-draw-test-secret"))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// offerSnapshot is a sub-queue's offers at one moment.
type offerSnapshot struct {
	capacity int
	live     int
	byEntry  map[string]lottery.Offer
}

func (f *applyFixture) offers(t *testing.T, subqueueID int64) offerSnapshot {
	t.Helper()
	s := offerSnapshot{byEntry: map[string]lottery.Offer{}}
	if err := f.store.DB().Raw(`SELECT capacity FROM subqueues WHERE id = ?`, subqueueID).Row().Scan(&s.capacity); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		ID, EntryID, UnitID, Status string
	}
	if err := f.store.DB().Raw(`SELECT id::text, entry_id::text, unit_id, status FROM offers WHERE subqueue_id = ?`, subqueueID).
		Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		st := lottery.OfferStatus(r.Status)
		s.byEntry[r.EntryID] = lottery.Offer{ID: r.ID, EntryID: r.EntryID, UnitID: r.UnitID, Status: st}
		if st.Live() {
			s.live++
		}
	}
	if s.live > s.capacity {
		t.Fatalf("%d live offers for %d slots", s.live, s.capacity)
	}
	return s
}

// newOffers lists the entries offered in after and not in before, sorted.
func newOffers(before, after offerSnapshot) []string {
	var out []string
	for id := range after.byEntry {
		if _, ok := before.byEntry[id]; !ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// waitlist loads a drawn sub-queue's order with what was offered in snap.
func (f *applyFixture) waitlist(t *testing.T, subqueueID int64, snap offerSnapshot) []lottery.WaitlistUnit {
	t.Helper()
	var rows []struct {
		EntryID  string
		UnitID   string
		Position int
		Selected bool
	}
	if err := f.store.DB().Raw(`SELECT entry_id::text, unit_id, position, selected FROM draw_results
		WHERE subqueue_id = ? ORDER BY position, entry_id`, subqueueID).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var order []lottery.WaitlistUnit
	for _, r := range rows {
		_, offered := snap.byEntry[r.EntryID]
		if n := len(order); n > 0 && order[n-1].Position == r.Position {
			order[n-1].EntryIDs = append(order[n-1].EntryIDs, r.EntryID)
			order[n-1].Offered = order[n-1].Offered || offered
			continue
		}
		order = append(order, lottery.WaitlistUnit{OrderItem: fairdraw.OrderItem{Position: r.Position, UnitID: r.UnitID,
			EntryIDs: []string{r.EntryID}, Selected: r.Selected}, Offered: offered})
	}
	return order
}

func members(items []fairdraw.OrderItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.EntryIDs...)
	}
	slices.Sort(out)
	return out
}

// TestReleasedSlotCascadeAgrees: each slot freed in a drawn sub-queue (a
// decline, expiries, added capacity) goes to the waitlisted units
// lottery.ReleasedSlots names, whole units only, and live offers never
// exceed capacity.
func TestReleasedSlotCascadeAgrees(t *testing.T) {
	f := newApplyFixture(t, lottery.PaceGroupSpec{Code: "a", Label: "A", Capacity: 4})
	ctx := context.Background()
	keys := testKeys(t)
	sq := f.subQueue(t, "a")
	// 60 entries; every fifth is in a group of up to three.
	if _, err := f.store.InsertSyntheticEntries(ctx, "race", 60); err != nil {
		t.Fatal(err)
	}
	f.clk.T = f.clk.T.Add(2 * time.Hour)
	for _, a := range []string{lottery.ActionFreeze, lottery.ActionReveal} {
		if _, err := f.svc.Transition(ctx, f.org, "race", a, lottery.TransitionParams{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.draws.RunDraw(ctx, sq); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Transition(ctx, f.org, "race", lottery.ActionPublishResults, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	first := f.offers(t, sq)
	if len(first.byEntry) == 0 || first.live > 4 {
		t.Fatalf("%d offers from the draw, %d live", len(first.byEntry), first.live)
	}

	// step frees slots and checks the cascade against the rule; free is the
	// number of slots free once the step's own change is made.
	step := func(name string, free func(before offerSnapshot) int, do func(before offerSnapshot)) {
		t.Helper()
		before := f.offers(t, sq)
		want, _ := lottery.ReleasedSlots(f.waitlist(t, sq, before), free(before))
		do(before)
		after := f.offers(t, sq)
		if diff := cmp.Diff(members(want), newOffers(before, after)); diff != "" {
			t.Fatalf("%s: offered entries (-lottery.ReleasedSlots +store):\n%s", name, diff)
		}
		for _, it := range want {
			for _, id := range it.EntryIDs {
				if o := after.byEntry[id]; o.UnitID != it.UnitID || o.Status != lottery.OfferPending {
					t.Errorf("%s: entry %s offered as %+v, want a pending offer of unit %s", name, id, o, it.UnitID)
				}
			}
		}
	}
	decline := func(before offerSnapshot) {
		for _, o := range before.byEntry { // any pending offer
			if o.Status == lottery.OfferPending {
				if _, err := f.offerSvc(t).OfferAction(ctx, o.ID, keys.ReceiptToken(o.EntryID), lottery.OfferActionDecline); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		t.Fatal("no pending offer to decline")
	}
	for i := range 3 {
		step(fmt.Sprintf("decline %d", i+1), func(b offerSnapshot) int { return lottery.FreeSlots(b.capacity, b.live-1) }, decline)
	}
	step("raise capacity to 9", func(b offerSnapshot) int { return lottery.FreeSlots(9, b.live) }, func(offerSnapshot) {
		if _, err := f.offerSvc(t).SetCapacity(ctx, f.org, "race", "ten:a", 9); err != nil {
			t.Fatal(err)
		}
	})
	step("every hold ends", func(b offerSnapshot) int { return lottery.FreeSlots(b.capacity, 0) }, func(offerSnapshot) {
		f.clk.T = f.clk.T.Add(25 * time.Hour)
		if _, err := f.offerSvc(t).ExpireDue(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if got := f.offers(t, sq); got.live == 0 {
		t.Errorf("no live offers after the cascades")
	}
}

// TestCapacityTrigger: whatever writes offers, a statement that would make
// live offers exceed the sub-queue's capacity fails (the offers_capacity
// trigger behind lottery.FreeSlots).
func TestCapacityTrigger(t *testing.T) {
	f := newApplyFixture(t, lottery.PaceGroupSpec{Code: "a", Label: "A", Capacity: 2})
	ctx := context.Background()
	sq := f.subQueue(t, "a")
	if _, err := f.store.InsertSyntheticEntries(ctx, "race", 4); err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := f.store.DB().Raw(`SELECT id::text FROM entries ORDER BY id`).Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	offer := func(entries ...string) error {
		for _, e := range entries {
			if err := f.store.DB().Exec(`INSERT INTO offers (id, event_id, subqueue_id, entry_id, unit_id, status, round,
				issued_at, expires_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
				uuid.NewString(), f.ev.ID, sq, e, e, f.now, f.now.Add(time.Hour)).Error; err != nil {
				return err
			}
		}
		return nil
	}
	if err := offer(ids[0], ids[1]); err != nil {
		t.Fatalf("two offers for two slots: %v", err)
	}
	if err := offer(ids[2]); err == nil {
		t.Fatal("a third live offer for two slots was stored")
	}
	// A slot a decline freed can be offered again.
	if err := f.store.DB().Exec(`UPDATE offers SET status = 'declined', decided_at = ? WHERE entry_id = ?`, f.now, ids[0]).Error; err != nil {
		t.Fatal(err)
	}
	if err := offer(ids[2]); err != nil {
		t.Fatalf("an offer for the freed slot: %v", err)
	}
	// Reviving the declined offer would exceed capacity.
	if err := f.store.DB().Exec(`UPDATE offers SET status = 'pending' WHERE entry_id = ?`, ids[0]).Error; err == nil {
		t.Fatal("a revived offer exceeded capacity")
	}
	if s := f.offers(t, sq); s.live != 2 {
		t.Errorf("%d live offers, want 2", s.live)
	}
}

// orderedRunner adds an entry of the ordered pace group "o" that came
// through the waiting room at place, in status st (its ticket used).
func (f *applyFixture) orderedRunner(t *testing.T, n int, place int64, st lottery.EntryStatus) string {
	t.Helper()
	e := f.entry(t, n, "o")
	if err := f.store.DB().Exec(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date,
			tickets, group_code, status, person_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, '', ?, ?)`,
		e.ID, e.EventID, e.SubQueueID, e.Name, e.Email, e.EmailKey, e.Phone, e.BirthDate, string(st), e.PersonKey).Error; err != nil {
		t.Fatal(err)
	}
	f.ticket(t, e, place, "used", &e.ID)
	return e.ID
}

// ticket stores a waiting-room ticket for e's address at place.
func (f *applyFixture) ticket(t *testing.T, e lottery.Entry, place int64, status string, entryID *string) string {
	t.Helper()
	id := uuid.NewString()
	if err := f.store.DB().Exec(`INSERT INTO queue_tickets (id, event_id, subqueue_id, place, email_key, status, joined_at,
			admitted_at, admission_expires_at, entry_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, e.EventID, e.SubQueueID, place, e.EmailKey, status, f.now.Add(-time.Minute), f.now.Add(-time.Minute),
		f.now.Add(lottery.AdmissionWindow), entryID).Error; err != nil {
		t.Fatal(err)
	}
	return id
}

// orderedState loads the ordered sub-queue's entries as a free slot finds them.
func (f *applyFixture) orderedState(t *testing.T, sq int64, snap offerSnapshot) []lottery.OrderedEntry {
	t.Helper()
	var rows []struct {
		ID     string
		Status string
		Place  int64
	}
	if err := f.store.DB().Raw(`SELECT e.id::text, e.status, t.place FROM entries e JOIN queue_tickets t ON t.entry_id = e.id
		WHERE e.subqueue_id = ?`, sq).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]lottery.OrderedEntry, len(rows))
	for i, r := range rows {
		_, offered := snap.byEntry[r.ID]
		out[i] = lottery.OrderedEntry{EntryID: r.ID, Status: lottery.EntryStatus(r.Status), Place: r.Place, Offered: offered}
	}
	return out
}

func entryIDs(es []lottery.OrderedEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.EntryID)
	}
	slices.Sort(out)
	return out
}

// testOfferTx is how the service asks for offers in a transaction.
func testOfferTx(now time.Time) lottery.OfferTx {
	return lottery.OfferTx{Now: now, Hold: 24 * time.Hour}
}

// TestOrderedCascadeAgrees: an ordered sub-queue offers a free slot to the
// entries lottery.OrderedOffers names (waiting, lowest place first), both
// when a runner applies and when a slot is freed or added; an entry in
// review waits, and live offers never exceed capacity.
func TestOrderedCascadeAgrees(t *testing.T) {
	f := newApplyFixture(t, lottery.PaceGroupSpec{Code: "o", Label: "Ordered", Capacity: 2, Mode: string(lottery.ModeOrdered)})
	ctx := context.Background()
	keys := testKeys(t)
	f.clk.T = f.now
	sq := f.subQueue(t, "o")
	inReview := f.orderedRunner(t, 1, 1, lottery.EntryInReview)
	f.orderedRunner(t, 2, 2, lottery.EntryWaitlisted)
	f.orderedRunner(t, 3, 4, lottery.EntryReceived) // a reviewer approved it
	f.orderedRunner(t, 4, 3, lottery.EntryRejected)
	f.orderedRunner(t, 5, 6, lottery.EntryWaitlisted)

	// check runs do and checks its offers against the rule; applicant is
	// the entry do applies with, if any (waiting, not stored yet).
	check := func(name string, free func(before offerSnapshot) int, applicant *lottery.OrderedEntry, do func()) {
		t.Helper()
		before := f.offers(t, sq)
		state := f.orderedState(t, sq, before)
		if applicant != nil {
			state = append(state, *applicant)
		}
		want := lottery.OrderedOffers(state, free(before))
		do()
		after := f.offers(t, sq)
		if diff := cmp.Diff(entryIDs(want), newOffers(before, after)); diff != "" {
			t.Fatalf("%s: offered entries (-lottery.OrderedOffers +store):\n%s", name, diff)
		}
	}
	setCapacity := func(n int) func() {
		return func() {
			if _, err := f.offerSvc(t).SetCapacity(ctx, f.org, "race", "ten:o", n); err != nil {
				t.Fatal(err)
			}
		}
	}
	check("the slots are offered", func(b offerSnapshot) int { return lottery.FreeSlots(2, b.live) }, nil, setCapacity(2))

	// apply makes runner n's ordered application, admitted at place.
	apply := func(name string, n int, place int64, free func(b offerSnapshot) int) registration.ApplyOutcome {
		t.Helper()
		e := f.entry(t, n, "o")
		e.Status = lottery.ApplyStatus(e.Risk.Decision, true)
		ticket := f.ticket(t, e, place, "admitted", nil)
		var out registration.ApplyOutcome
		check(name, free, &lottery.OrderedEntry{EntryID: e.ID, Status: e.Status, Place: place}, func() {
			var err error
			out, err = f.store.Apply(ctx, registration.ApplyTx{Entry: e, OTPHash: f.giveCode(t, e.EmailKey),
				MaxOTPAttempts: lottery.OTPMaxAttempts, MaxGroupSize: 3, Now: f.now,
				Admission: &registration.AdmissionUse{TicketID: ticket, Offers: testOfferTx(f.now)}})
			if err != nil {
				t.Fatal(err)
			}
		})
		return out
	}
	freeNow := func(b offerSnapshot) int { return lottery.FreeSlots(b.capacity, b.live) }

	// A runner applying while every slot is taken waits.
	if late := apply("apply with no slot free", 6, 7, freeNow); late.Status != lottery.EntryWaitlisted || len(late.Issued) != 0 {
		t.Fatalf("applied with no slot free: %+v, want waitlisted", late)
	}

	// A decline frees a slot for the next waiting entry.
	check("decline", func(b offerSnapshot) int { return lottery.FreeSlots(b.capacity, b.live-1) }, nil, func() {
		var o lottery.Offer
		for _, x := range f.offers(t, sq).byEntry {
			if x.Status == lottery.OfferPending && (o.ID == "" || x.EntryID < o.EntryID) {
				o = x
			}
		}
		if _, err := f.offerSvc(t).OfferAction(ctx, o.ID, keys.ReceiptToken(o.EntryID), lottery.OfferActionDecline); err != nil {
			t.Fatal(err)
		}
	})
	check("capacity added", func(b offerSnapshot) int { return lottery.FreeSlots(4, b.live) }, nil, setCapacity(4))

	// With a slot free, a runner applying is offered it at once.
	now := apply("apply with a slot free", 7, 8, freeNow)
	if now.Status != lottery.EntryOffered || len(now.Issued) != 1 || now.Issued[0].Offer.EntryID != now.EntryID {
		t.Fatalf("applied with a slot free: %+v, want offered", now)
	}
	if s := f.offers(t, sq); s.live != 4 {
		t.Errorf("%d live offers, want 4", s.live)
	}
	if _, ok := f.offers(t, sq).byEntry[inReview]; ok {
		t.Errorf("the entry in review was offered a slot")
	}
}
