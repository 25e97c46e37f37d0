package lottery

import (
	"slices"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/lottery/fairdraw"
)

// FreeSlots is how many of a sub-queue's slots a cascade may offer: its
// capacity less the live offers (Offer.Status.Live: pending, accepted,
// paid), never below zero. Live offers never exceed capacity: every change
// of offers locks the sub-queue row and counts, and the offers_capacity
// trigger (migrations/00005_offers.sql) re-checks after every statement
// (lottery/postgres.TestCapacityTrigger).
func FreeSlots(capacity, live int) int {
	return max(capacity-live, 0)
}

// WaitlistUnit is one unit (a group, or a solo entry) of a drawn
// sub-queue's order as a released slot finds it.
type WaitlistUnit struct {
	fairdraw.OrderItem
	// Offered: a member of the unit was offered a slot before, whatever
	// became of it. An offer declined or expired does not put its entry
	// back on the waitlist; members of a unit are always offered together.
	Offered bool
}

// ReleasedSlots decides which waitlisted units of a drawn sub-queue get its
// free slots (a declined or expired offer, or capacity the organizer
// added): the units neither selected in the draw nor offered before, in
// draw order, by fairdraw-v1's released-slot rule (fairdraw.Release: a unit
// takes slots only when all its members fit, and the walk goes on so a
// later, smaller unit may take what a large one could not). It returns the
// units to offer, in order, and the slots that stay free.
//
// lottery/postgres walks the waitlist in pages with SQL that leaves out
// selected and offered entries (an index scan instead of loading a whole
// waitlist) and applies fairdraw.Release to each page;
// lottery/postgres.TestReleasedSlotCascadeAgrees checks it offers what this
// function does.
func ReleasedSlots(order []WaitlistUnit, free int) (offered []fairdraw.OrderItem, remaining int) {
	waiting := make([]fairdraw.OrderItem, 0, len(order))
	for _, u := range order {
		if !u.Selected && !u.Offered {
			waiting = append(waiting, u.OrderItem)
		}
	}
	slices.SortStableFunc(waiting, func(a, b fairdraw.OrderItem) int { return a.Position - b.Position })
	return fairdraw.Release(waiting, free)
}

// OrderedEntry is an entry of an ordered (first come through the waiting
// room) sub-queue as a free slot finds it.
type OrderedEntry struct {
	EntryID string
	Status  EntryStatus
	Place   int64 // its ticket's place in the waiting room
	Offered bool  // it was offered a slot before
}

// WaitsForSlot reports whether an ordered entry is owed the next free slot:
// accepted on apply while every slot was taken (waitlisted), or approved by
// a reviewer (received), and never offered one.
func (e OrderedEntry) WaitsForSlot() bool {
	return !e.Offered && (e.Status == EntryWaitlisted || e.Status == EntryReceived)
}

// OrderedOffers decides which entries of an ordered sub-queue are offered
// its free slots: those waiting for one, lowest place first, one slot each.
// An entry that applies is waitlisted (ApplyStatus) and offered in the same
// transaction when a slot is free; one that waits is offered when an offer
// is declined or expires, capacity is added, or a reviewer approves it.
//
// lottery/postgres selects them with one ordered, limited query;
// lottery/postgres.TestOrderedCascadeAgrees checks it offers what this
// function does.
func OrderedOffers(entries []OrderedEntry, free int) []OrderedEntry {
	var out []OrderedEntry
	for _, e := range entries {
		if e.WaitsForSlot() {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b OrderedEntry) int {
		switch {
		case a.Place < b.Place:
			return -1
		case a.Place > b.Place:
			return 1
		}
		return 0
	})
	if free <= 0 {
		return nil
	}
	return out[:min(free, len(out))]
}

// ApplyStatus is the status a new entry takes from its risk decision: a
// rejected or in-review entry stays so; an accepted one is received, or, in
// an ordered sub-queue, waitlisted: in line for a slot, offered in the same
// transaction when one is free.
func ApplyStatus(d antibot.Decision, ordered bool) EntryStatus {
	switch d {
	case antibot.Reject:
		return EntryRejected
	case antibot.Review:
		return EntryInReview
	}
	if ordered {
		return EntryWaitlisted
	}
	return EntryReceived
}
