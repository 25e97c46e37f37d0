package lottery

import (
	"context"
	"fmt"
	"time"
)

// CardPolicy is an event's card-on-file option (issue 15,
// migrations/00035_cards.sql): when Enabled every runner saves a card when
// applying, a selected runner's card is charged off-session at
// ChargePerMinute charges a minute with up to MaxAttempts tries, and more
// than EntriesPerCard entries with one card go to review.
type CardPolicy struct {
	Enabled         bool
	EntriesPerCard  int
	ChargePerMinute int
	MaxAttempts     int
}

// The defaults of a card policy's numbers (the migration's column defaults).
const (
	DefaultEntriesPerCard  = 1
	DefaultChargePerMinute = 1200
	DefaultMaxAttempts     = 3
)

// ReasonSharedCard is the review reason of an entry whose card was saved
// for more entries of the event than its policy allows (SharedCard).
const ReasonSharedCard = "shared_card"

// WithDefaults fills a zero number with its default (a JSON body that
// leaves one out).
func (p CardPolicy) WithDefaults() CardPolicy {
	if p.EntriesPerCard == 0 {
		p.EntriesPerCard = DefaultEntriesPerCard
	}
	if p.ChargePerMinute == 0 {
		p.ChargePerMinute = DefaultChargePerMinute
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	return p
}

// CheckCardPolicy checks a policy's numbers against the table's bounds
// (after WithDefaults), naming the first bad field.
func CheckCardPolicy(p CardPolicy) error {
	switch {
	case p.EntriesPerCard < 1 || p.EntriesPerCard > 1000:
		return Fieldf("entries_per_card", "give a number from 1 to 1000")
	case p.ChargePerMinute < 1 || p.ChargePerMinute > 100000:
		return Fieldf("charge_per_minute", "give a number from 1 to 100000")
	case p.MaxAttempts < 1 || p.MaxAttempts > 10:
		return Fieldf("max_attempts", "give a number from 1 to 10")
	}
	return nil
}

// CheckCardPolicyChange refuses a change of the card option once
// registration opened: turning it on or off, or changing how many entries
// a card may pay for, after entries were taken under other terms would be
// unfair to them.
func (e *Event) CheckCardPolicyChange(now time.Time) error {
	switch e.Phase(now) {
	case EventDraft, EventPublished:
		return nil
	}
	return &Error{Code: CodeInvalidTransition, Field: "enabled",
		Message: "card on file can be changed only before registration opens"}
}

// CardOnFile reports whether the event's runners save a card when applying
// (a value receiver: templates call it on the event they are given).
func (e Event) CardOnFile() bool { return e.Card != nil && e.Card.Enabled }

// SharedCard is the fingerprint rule: an entry whose card is saved for
// count entries of the event (the new one included) goes to review when
// that is more than the event allows. The earlier entries stay as they
// are: a reviewer sees them linked by the card in the entry's cluster.
func SharedCard(count, allowed int) bool {
	if allowed < 1 {
		allowed = DefaultEntriesPerCard
	}
	return count > allowed
}

// CardPolicyStore keeps events' card policies. lottery/postgres.Store
// implements it.
type CardPolicyStore interface {
	// SetCardPolicy stores an event's policy (a disabled one removes the
	// row) while its registration has not opened at now, re-checked under
	// the event's row lock (409 invalid_transition), with the organizer's
	// audit row. ErrNotFound.
	SetCardPolicy(ctx context.Context, eventID int64, p CardPolicy, now time.Time, actor Actor) error
}

// CardPolicy returns an event's card policy as its organizer sees it (a
// disabled policy with the default numbers when it has none).
func (s *Service) CardPolicy(ctx context.Context, actor StaffAccount, slug string) (CardPolicy, error) {
	ev, err := s.managedEventFresh(ctx, actor, slug)
	if err != nil {
		return CardPolicy{}, fmt.Errorf("card policy %s: %w", slug, err)
	}
	if ev.Card == nil {
		return CardPolicy{}.WithDefaults(), nil
	}
	return *ev.Card, nil
}

// SetCardPolicy sets an event's card-on-file option (organizers of its
// organization) before registration opens; numbers left out are filled
// in by the caller (WithDefaults), so an explicit 0 is refused. Errors: ErrNotFound, a field
// error, 409 invalid_transition once registration opened. Audited.
func (s *Service) SetCardPolicy(ctx context.Context, actor StaffAccount, slug string, p CardPolicy) (CardPolicy, error) {
	if err := CheckCardPolicy(p); err != nil {
		return CardPolicy{}, err
	}
	ev, err := s.managedEventFresh(ctx, actor, slug)
	if err != nil {
		return CardPolicy{}, fmt.Errorf("card policy %s: %w", slug, err)
	}
	now := s.clock.Now()
	if err := ev.CheckCardPolicyChange(now); err != nil {
		return CardPolicy{}, err
	}
	// The event store keeps the policies too (lottery/postgres.Store); a
	// store without them cannot turn the option on.
	cards, ok := s.store.(CardPolicyStore)
	if !ok {
		return CardPolicy{}, fmt.Errorf("card policy %s: the store keeps no card policies: %w", slug, ErrUnavailable)
	}
	defer s.forget(slug)
	if err := cards.SetCardPolicy(ctx, ev.ID, p, now, actor.Actor()); err != nil {
		return CardPolicy{}, fmt.Errorf("card policy %s: %w", slug, err)
	}
	return p, nil
}

// managedEventFresh is ManagedEvent read past the cache (a policy just
// set is shown as set); any other event is ErrNotFound.
func (s *Service) managedEventFresh(ctx context.Context, actor StaffAccount, slug string) (Event, error) {
	if actor.Role != RoleOrganizer {
		return Event{}, ErrForbidden
	}
	ev, err := s.store.EventBySlug(ctx, slug)
	if err != nil {
		return Event{}, err
	}
	if !MayManage(actor, ev) {
		return Event{}, ErrNotFound
	}
	return ev, nil
}

// Card-on-file error codes (internal/httpkit maps both to 409).
const (
	// CodeCardSetupUsed refuses an application with a card setup another
	// entry already used: save the card again for this entry.
	CodeCardSetupUsed = "card_setup_used"
	// CodeNoCardOnFile refuses a card setup for an event that saves no cards.
	CodeNoCardOnFile = "no_card_on_file"
)

var (
	ErrCardSetupUsed = &Error{Code: CodeCardSetupUsed, Field: "card_setup_id",
		Message: "this saved card was used for another entry; save the card again for this one"}
	ErrNoCardOnFile = &Error{Code: CodeNoCardOnFile, Message: "this event does not save a card when applying"}
)
