package lottery

import (
	"strings"
	"time"
)

// EntryDeferred is a confirmed entry its runner deferred to the series'
// next edition (issue 15): the runner holds a slot there, not here.
const EntryDeferred EntryStatus = "deferred"

// Deferral refusals (409).
const (
	// CodeDeferralClosed: the event offers no deferral, or its deadline passed.
	CodeDeferralClosed = "deferral_closed"
	// CodeDeferralFull: the sub-queue's deferral cap is reached.
	CodeDeferralFull = "deferral_full"
	// CodeNotConfirmed: only a confirmed (paid) entry may defer.
	CodeNotConfirmed = "not_confirmed"
	// CodeNoNextEdition: the event is no edition of a series, so there is
	// no next edition to defer to.
	CodeNoNextEdition = "no_next_edition"
)

// Deferral refusal sentinels (errors.Is).
var (
	ErrDeferralClosed = &Error{Code: CodeDeferralClosed, Message: "this event takes no deferrals now"}
	ErrDeferralFull   = &Error{Code: CodeDeferralFull, Message: "as many runners of this group as the event allows have deferred"}
	ErrNotConfirmed   = &Error{Code: CodeNotConfirmed, Message: "only a confirmed entry may defer"}
	ErrNoNextEdition  = &Error{Code: CodeNoNextEdition, Message: "this event is not an edition of a series; there is no next edition"}
	// ErrDeferralPickedUp: the bib was picked up; the runner has this
	// edition's place in hand and cannot also hold the next one's.
	ErrDeferralPickedUp = &Error{Code: CodeInvalidTransition, Message: "the bib of this place was picked up; it can no longer be deferred"}
	// ErrDeferralTransferOpen: the place is being transferred; the giver
	// cancels the transfer first.
	ErrDeferralTransferOpen = &Error{Code: CodeConflict, Message: "a transfer of this place is open; cancel it first"}
)

// DeferralState is where a deferral stands: held for the series until the
// next edition joins it, used once the runner's entry there exists, or
// cancelled.
type DeferralState string

// Deferral states.
const (
	DeferralHeld      DeferralState = "held"
	DeferralUsed      DeferralState = "used"
	DeferralCancelled DeferralState = "cancelled"
)

// DeferralSettings are an event's deferral terms: until Deadline a
// confirmed runner may defer for FeeMinor (the event currency's minor
// units; 0: free); Cap bounds the deferrals per sub-queue (0: no bound).
// The zero value (no deadline) offers no deferral.
type DeferralSettings struct {
	Deadline time.Time
	FeeMinor int64
	Cap      int
}

// Offered reports whether the settings offer deferral at all.
func (s DeferralSettings) Offered() bool { return !s.Deadline.IsZero() }

// CheckDeferralSettings validates an organizer's settings.
func CheckDeferralSettings(s DeferralSettings) error {
	switch {
	case s.Deadline.IsZero():
		return Fieldf("deadline", "give an RFC 3339 time")
	case s.FeeMinor < 0 || s.FeeMinor > 100_000_000_000:
		return Fieldf("fee_minor", "give a fee of 0 or more in minor units")
	case s.Cap < 0 || s.Cap > 1_000_000:
		return Fieldf("cap", "give 0 (no cap) to 1000000")
	}
	return nil
}

// DeferralCase is what CheckDeferral decides on.
type DeferralCase struct {
	Status       EntryStatus
	InSeries     bool // the event is an edition of a series
	Settings     DeferralSettings
	Deferred     int // deferrals already made from the entry's sub-queue (not cancelled)
	Now          time.Time
	PickedUp     bool // the entry's bib was picked up at check-in
	TransferOpen bool // a transfer of the entry's place is open
}

// CheckDeferral decides whether an entry may defer to the next edition:
// ErrNotConfirmed, ErrDeferralPickedUp, ErrDeferralTransferOpen,
// ErrNoNextEdition, ErrDeferralClosed (none offered or past the deadline)
// or ErrDeferralFull (the sub-queue's cap reached).
func CheckDeferral(c DeferralCase) error {
	switch {
	case c.Status != EntryConfirmed:
		return ErrNotConfirmed
	case c.PickedUp:
		return ErrDeferralPickedUp
	case c.TransferOpen:
		return ErrDeferralTransferOpen
	case !c.InSeries:
		return ErrNoNextEdition
	case !c.Settings.Offered() || !c.Now.Before(c.Settings.Deadline):
		return ErrDeferralClosed
	case c.Settings.Cap > 0 && c.Deferred >= c.Settings.Cap:
		return ErrDeferralFull
	}
	return nil
}

// DrawCapacity is the slots a draw gives out in a sub-queue of the given
// capacity when deferred runners from the previous edition already hold
// some of them: never below zero. Freeze records it as the draw's capacity
// (the artifact's "capacity", the slots actually drawn) and the published
// odds are computed with it.
func DrawCapacity(capacity, deferred int) int {
	return max(capacity-max(deferred, 0), 0)
}

// DeferralTarget picks the sub-queue of the next edition a deferral lands
// in: the one with the same course:pace key, else the first (by position)
// of the same course; ok is false when the next edition has no such course.
// keys are the next edition's sub-queue keys in position order.
func DeferralTarget(key string, keys []string) (string, bool) {
	course, _, _ := strings.Cut(key, ":")
	first := ""
	for _, k := range keys {
		if k == key {
			return k, true
		}
		if c, _, _ := strings.Cut(k, ":"); c == course && first == "" {
			first = k
		}
	}
	return first, first != ""
}

// Deferral is one runner's deferral: from an entry of one edition, held
// for the series until the next edition joins it, then used by a confirmed
// entry there (ToEntryID).
type Deferral struct {
	EntryID   string
	FromEvent string // the edition's slug
	Series    string // the series' slug
	SubQueue  string // course:pace key in the edition deferred from
	State     DeferralState
	Fee       Money // the deferral fee recorded at the time (the event's currency)
	CreatedAt time.Time
	PayBy     time.Time // a pending deferral's end for paying its fee (DeferralPending)
	// Set once used: the next edition, its sub-queue and the new entry.
	ToEvent    string
	ToSubQueue string
	ToEntryID  string
}
