package offers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/startline/startline/lottery"
)

// GiveBackTx describes a give-back for the store: the offer to end, the
// values a re-offer of the freed slot is made with, and the event's refund
// policy, which the store applies (lottery.RefundDue) to the captured
// payment it finds under the offer's lock.
type GiveBackTx struct {
	lottery.OfferTx
	EntryID string
	Policy  lottery.RefundPolicy
}

// Refund is a payment's refund owed to or made for a runner.
type Refund struct {
	Provider  string
	PaymentID string
	OfferID   string
	// Amount is what the policy gave (refund_due), Refunded what the
	// provider has confirmed; Percent the policy's tier.
	Amount   lottery.Money
	Refunded int64
	Percent  int
}

// Owed reports whether the provider has yet to confirm the refund.
func (r Refund) Owed() bool { return r.Amount.Amount > r.Refunded }

// GiveBackResult is what a give-back did: the ended offer and the refund
// (zero Amount when the slot was not paid or the policy gives nothing).
type GiveBackResult struct {
	Offer  lottery.Offer
	Refund Refund
}

// Refund states a give-back answers (RefundState).
const (
	RefundNone    = "none"     // nothing paid, or the policy gives nothing now
	RefundDone    = "refunded" // the provider confirmed it
	RefundPending = "pending"  // owed; retried by giving back again
)

// RefundState names where a give-back's refund stands.
func (r GiveBackResult) RefundState() string {
	switch {
	case r.Refund.Amount.Amount == 0:
		return RefundNone
	case r.Refund.Owed():
		return RefundPending
	}
	return RefundDone
}

// GiveBackable is the rule for giving a slot back at now: the entry holds
// an accepted offer whose hold has not ended, or a paid one, and the race
// has not started. lottery.ErrNoSlotHeld (a pending offer is declined
// instead), lottery.ErrOfferExpired, or CodeInvalidTransition.
func GiveBackable(o lottery.Offer, ev lottery.Event, now time.Time) error {
	switch o.Status {
	case lottery.OfferPending:
		return &lottery.Error{Code: lottery.CodeNoSlotHeld, Message: "this offer is not accepted yet; decline it instead"}
	case lottery.OfferExpired:
		return lottery.ErrOfferExpired
	case lottery.OfferAccepted:
		if !now.Before(o.ExpiresAt) {
			return lottery.ErrOfferExpired
		}
	case lottery.OfferPaid:
	default:
		return lottery.ErrNoSlotHeld
	}
	if start, ok := raceStart(ev); ok && !now.Before(start) {
		return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "the race has started; a place can no longer be given back"}
	}
	return nil
}

// raceStart is when the race starts (its start time, or the race day's
// midnight when no time is set); false when no race day is set.
func raceStart(ev lottery.Event) (time.Time, bool) {
	if t, ok := ev.RaceStartsAt(); ok {
		return t, true
	}
	if ev.RaceDate == "" {
		return time.Time{}, false
	}
	loc, err := time.LoadLocation(ev.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	t, err := time.ParseInLocation(time.DateOnly, ev.RaceDate, loc)
	return t, err == nil
}

// RefundQuote is what giving the entry's slot back now would refund, for
// the confirmation step: the policy's amount and percentage of the
// captured payment (zero when the slot is not paid). ErrNotFound for a
// wrong token, the GiveBackable errors when there is nothing to give back.
func (s *Service) RefundQuote(ctx context.Context, entryID, token string) (lottery.Money, int, error) {
	o, ev, err := s.heldOffer(ctx, entryID, token)
	if err != nil {
		return lottery.Money{}, 0, err
	}
	if err := GiveBackable(o, ev, s.clock.Now()); err != nil {
		return lottery.Money{}, 0, err
	}
	e, err := s.store.Entry(ctx, o.EntryID)
	if err != nil {
		return lottery.Money{}, 0, fmt.Errorf("refund quote %s: %w", entryID, err)
	}
	if err := GiveBackEntry(e.Status, false); err != nil { // a pickup is checked by the give-back itself
		return lottery.Money{}, 0, err
	}
	zero := lottery.Money{Currency: ev.Currency}
	if o.Status != lottery.OfferPaid {
		return zero, 0, nil
	}
	paid, err := s.store.CapturedPayment(ctx, o.ID)
	if errors.Is(err, lottery.ErrNotFound) {
		return zero, 0, nil
	}
	if err != nil {
		return lottery.Money{}, 0, fmt.Errorf("refund quote %s: %w", entryID, err)
	}
	amount, pct := lottery.RefundDue(ev.RefundPolicy, paid.AmountMinor, s.clock.Now())
	return lottery.Money{Amount: amount, Currency: paid.Currency}, pct, nil
}

// heldOffer checks the receipt token and returns the entry's offer and
// event; ErrNotFound for a bad id or token, ErrNoSlotHeld without an offer.
func (s *Service) heldOffer(ctx context.Context, entryID, token string) (lottery.Offer, lottery.Event, error) {
	entryID, err := s.receiptEntry(entryID, token)
	if err != nil {
		return lottery.Offer{}, lottery.Event{}, err
	}
	o, err := s.store.EntryOffer(ctx, entryID)
	if errors.Is(err, lottery.ErrNotFound) {
		return lottery.Offer{}, lottery.Event{}, lottery.ErrNoSlotHeld
	}
	if err != nil {
		return lottery.Offer{}, lottery.Event{}, fmt.Errorf("give back %s: %w", entryID, err)
	}
	ev, err := s.events.CachedEvent(ctx, o.EventSlug())
	if err != nil {
		return lottery.Offer{}, lottery.Event{}, fmt.Errorf("give back %s: %w", entryID, err)
	}
	return o, ev, nil
}

// GiveBack lets the holder of an entry's receipt token give its accepted or
// paid slot back: in one transaction the offer is voided, the entry
// withdrawn, the freed slot offered to the waitlist by the released-slot
// rule, the withdrawal mail queued and the refund the event's policy gives
// at this moment recorded as owed; then the provider refunds it (partially
// when the policy says so) and the refund is recorded, with its mail. A
// refund the provider could not make stays owed, and giving back again
// retries it. ErrNotFound for a bad id or token; ErrNoSlotHeld,
// ErrOfferExpired or CodeInvalidTransition (GiveBackable).
func (s *Service) GiveBack(ctx context.Context, entryID, token string) (GiveBackResult, error) {
	o, ev, err := s.heldOffer(ctx, entryID, token)
	if err != nil {
		return GiveBackResult{}, err
	}
	if o.Status == lottery.OfferVoid {
		return s.givenBack(ctx, o, ev)
	}
	now := s.clock.Now()
	if err := GiveBackable(o, ev, now); err != nil {
		return GiveBackResult{}, err
	}
	tx := GiveBackTx{OfferTx: s.offerTx(ev, o.ID, ""), EntryID: o.EntryID, Policy: ev.RefundPolicy}
	out, issued, err := s.store.GiveBack(ctx, tx)
	s.notifyOffers(ctx, issued)
	if errors.Is(err, lottery.ErrNoSlotHeld) {
		// A give-back of the same place committed first (a double submit):
		// answer as it did.
		if cur, cerr := s.store.Offer(ctx, o.ID); cerr == nil && cur.Status == lottery.OfferVoid {
			return s.givenBack(ctx, cur.WithEventSlug(o.EventSlug()), ev)
		}
	}
	if err != nil {
		return GiveBackResult{}, fmt.Errorf("give back %s: %w", entryID, err)
	}
	s.log.InfoContext(ctx, "slot given back", "offer_id", o.ID, "refund_minor", out.Refund.Amount.Amount,
		"percent", out.Refund.Percent, "reoffered", len(issued))
	if out.Refund.Owed() {
		out.Refund = s.refund(ctx, out.Refund)
	}
	return out, nil
}

// givenBack answers a give-back of a place given back before, and retries
// a refund still owed; a void offer whose entry was not withdrawn (voided
// otherwise) holds nothing: ErrNoSlotHeld.
func (s *Service) givenBack(ctx context.Context, o lottery.Offer, ev lottery.Event) (GiveBackResult, error) {
	// The entry says how the offer ended: only a withdrawn one was given
	// back. A transferred one was voided by the transfer, whose refund (the
	// price less the fee) must not be answered as this give-back's.
	e, err := s.store.Entry(ctx, o.EntryID)
	if err != nil {
		return GiveBackResult{}, fmt.Errorf("give back %s: %w", o.EntryID, err)
	}
	if err := GivenBack(e.Status); err != nil {
		return GiveBackResult{}, err
	}
	r, err := s.store.OfferRefund(ctx, o.ID)
	if errors.Is(err, lottery.ErrNotFound) {
		return GiveBackResult{Offer: o, Refund: Refund{OfferID: o.ID, Amount: lottery.Money{Currency: ev.Currency}}}, nil
	}
	if err != nil {
		return GiveBackResult{}, fmt.Errorf("give back %s: %w", o.EntryID, err)
	}
	return GiveBackResult{Offer: o, Refund: s.refund(ctx, r)}, nil
}

// GivenBack is the rule for answering a give-back of a void offer again
// (a double submit): only a withdrawn entry was given back; a transferred
// one moved to its recipient (CodeInvalidTransition), any other holds
// nothing (ErrNoSlotHeld).
func GivenBack(st lottery.EntryStatus) error {
	switch st {
	case lottery.EntryWithdrawn:
		return nil
	case lottery.EntryTransferred:
		return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "this place was transferred; it can no longer be given back"}
	}
	return lottery.ErrNoSlotHeld
}

// GiveBackEntry is the rule on the entry for giving its place back,
// checked under the entry's lock: a transferred place moved to its
// recipient, a deferred one is held in the next edition (its payment goes
// with it, so a refund here would pay twice for one place), and a place
// whose bib was picked up stays with its runner (its slot offered again
// would make a second bib); CodeInvalidTransition for all three.
func GiveBackEntry(st lottery.EntryStatus, pickedUp bool) error {
	switch {
	case st == lottery.EntryTransferred:
		return GivenBack(st)
	case st == lottery.EntryDeferred:
		return &lottery.Error{Code: lottery.CodeInvalidTransition,
			Message: "this place was deferred to the next edition; it can no longer be given back"}
	case pickedUp:
		return errPickedUp
	}
	return nil
}

// RetryRefunds asks the provider again for every refund still owed (a
// give-back whose refund failed), with the same idempotency key, so each
// is made once; it returns how many were made and how many stay owed.
func (s *Service) RetryRefunds(ctx context.Context, limit int) (made, owed int, err error) {
	rs, err := s.store.OwedRefunds(ctx, limit)
	if err != nil {
		return 0, 0, fmt.Errorf("retry refunds: %w", err)
	}
	for _, r := range rs {
		if err := ctx.Err(); err != nil {
			return made, len(rs) - made, err
		}
		if s.refund(ctx, r).Owed() {
			owed++
		} else {
			made++
		}
	}
	return made, owed, nil
}

// refund asks the provider for a refund still owed and records it; a
// failure is logged and leaves it owed (the runner's next give-back, or an
// operator, retries with the same idempotency key, so it is made once).
func (s *Service) refund(ctx context.Context, r Refund) Refund {
	if !r.Owed() {
		return r
	}
	if s.payments == nil || s.payments.Name() != r.Provider {
		s.log.WarnContext(ctx, "refund owed but its provider is not configured", "offer_id", r.OfferID, "provider", r.Provider)
		return r
	}
	p, err := s.payments.Refund(ctx, r.PaymentID, r.Amount.Amount-r.Refunded, "refund:"+r.OfferID)
	if err != nil {
		s.log.WarnContext(ctx, "refund failed; it stays owed", "offer_id", r.OfferID, "payment", r.PaymentID, "err", err)
		return r
	}
	done, err := s.store.RecordRefund(ctx, r, p, s.clock.Now())
	if err != nil {
		s.log.ErrorContext(ctx, "refund made but not recorded", "offer_id", r.OfferID, "payment", r.PaymentID, "err", err)
		return r
	}
	return done
}

// RefundOf returns the refund recorded for a given-back offer (pages that
// already checked the receipt token); a zero Refund when none was owed.
func (s *Service) RefundOf(ctx context.Context, offerID string) (Refund, error) {
	r, err := s.store.OfferRefund(ctx, offerID)
	if errors.Is(err, lottery.ErrNotFound) {
		return Refund{}, nil
	}
	return r, err
}
