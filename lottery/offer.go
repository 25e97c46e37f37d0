package lottery

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// OfferStatus is where a payment-hold offer stands.
type OfferStatus string

// Offer statuses: pending → accepted → paid, or declined, expired, void.
const (
	OfferPending  OfferStatus = "pending"
	OfferAccepted OfferStatus = "accepted"
	OfferPaid     OfferStatus = "paid"
	OfferDeclined OfferStatus = "declined"
	OfferExpired  OfferStatus = "expired"
	OfferVoid     OfferStatus = "void"
)

// Live reports whether an offer holds a slot.
func (s OfferStatus) Live() bool { return s == OfferPending || s == OfferAccepted || s == OfferPaid }

// Offer holds one slot of a sub-queue for one entry until ExpiresAt.
type Offer struct {
	ID         string
	EventID    int64
	SubQueueID int64
	SubQueue   string
	EntryID    string
	UnitID     string
	Status     OfferStatus
	Round      int
	IssuedAt   time.Time
	ExpiresAt  time.Time
	DecidedAt  *time.Time
	eventSlug  string
}

// WithEventSlug is for stores: it records the event an offer belongs to.
func (o Offer) WithEventSlug(slug string) Offer { o.eventSlug = slug; return o }

// ErrOfferExpired refuses an action on an offer whose hold has ended.
var ErrOfferExpired = &Error{Code: CodeOfferExpired, Message: "this offer has expired; the slot went back to the waitlist"}

// CodeOfferExpired is the API code for ErrOfferExpired.
const CodeOfferExpired = "offer_expired"

// Offer actions.
const (
	OfferActionAccept  = "accept"
	OfferActionDecline = "decline"
	OfferActionExpire  = "expire"
)

// OfferTx describes one offer change and the values new offers are made
// with. It is plain data: the store calls nothing back. Each offer the store
// issues gets a fresh id and an offer.issued mail intent (lottery/mails) in
// the same transaction.
type OfferTx struct {
	OfferID string
	Action  string
	Now     time.Time
	Hold    time.Duration
	// Holds gives the hold per event when one transaction spans events
	// (the reconciler); Hold is used when it is nil.
	Holds map[int64]time.Duration
}

// DefaultOfferHold is the hold of a new offer whose event's hold the
// reconciler did not preload (its offer fell due after the preload; the
// next pass sees its event).
const DefaultOfferHold = 48 * time.Hour

// HoldOf is how long a new offer of the event holds its slot.
func (o OfferTx) HoldOf(eventID int64) time.Duration {
	if o.Holds == nil {
		return o.Hold
	}
	if h, ok := o.Holds[eventID]; ok {
		return h
	}
	return DefaultOfferHold
}

// OfferIssue is an issued offer with its queued mail, for the notifier.
type OfferIssue struct {
	Offer    Offer
	OutboxID int64
}

// OfferStats are an organizer's numbers for one sub-queue.
type OfferStats struct {
	SubQueue                                         string
	Capacity                                         int
	Pending, Accepted, Paid, Declined, Expired, Void int
}

// OfferStore keeps offers. Every method that frees or adds a slot runs the
// released-slot cascade (DRAW-SPEC) in the same transaction.
type OfferStore interface {
	// IssueDrawOffers offers a slot to every selected entry of the event's
	// draws and records publication, in one transaction; ErrInvalidTransition.
	IssueDrawOffers(ctx context.Context, slug string, tx OfferTx, actor Actor) (Event, []OfferIssue, error)
	// ChangeOffer accepts, declines or expires an offer; ErrOfferExpired,
	// ErrInvalidTransition, ErrNotFound.
	ChangeOffer(ctx context.Context, tx OfferTx) (Offer, []OfferIssue, error)
	// SetCapacity changes a sub-queue's capacity and cascades; ErrConflict
	// when below the live offers or while entries are frozen.
	SetCapacity(ctx context.Context, slug, subqueue string, capacity int, tx OfferTx, actor Actor) ([]OfferIssue, error)
	// Offer returns an offer; ErrNotFound.
	Offer(ctx context.Context, id string) (Offer, error)
	// EntryOffer returns an entry's offer; ErrNotFound.
	EntryOffer(ctx context.Context, entryID string) (Offer, error)
	// DueOffers lists live offers whose hold ended before now.
	DueOffers(ctx context.Context, now time.Time, limit int) ([]string, error)
	// DueOfferEvents lists the events that have offers due at now.
	DueOfferEvents(ctx context.Context, now time.Time) ([]int64, error)
	// ExpireDue expires up to limit due offers in one transaction with one
	// cascade per sub-queue; it returns how many it expired.
	ExpireDue(ctx context.Context, tx OfferTx, limit int) (int, []OfferIssue, error)
	// OfferStats counts an event's offers per sub-queue.
	OfferStats(ctx context.Context, eventID int64) ([]OfferStats, error)
}

func (s *Service) offerTx(ev Event, id, action string) OfferTx {
	return OfferTx{OfferID: id, Action: action, Now: s.clock.Now(), Hold: ev.OfferHold}
}

// notifyOffers hands issued offers to the workers: mail delivery and an
// expiry task at ExpiresAt. Failures are logged; the outbox sweep and the
// offer reconciler catch up from PostgreSQL.
func (s *Service) notifyOffers(ctx context.Context, issued []OfferIssue) {
	if s.notify == nil || len(issued) == 0 {
		return
	}
	if err := s.notify.OffersIssued(ctx, issued); err != nil {
		s.log.WarnContext(ctx, "offer tasks not enqueued; the reconciler will expire from PostgreSQL", "offers", len(issued), "err", err)
	}
}

// OfferAction lets the holder of an entry's receipt token accept or decline
// its offer. A wrong token is ErrNotFound.
func (s *Service) OfferAction(ctx context.Context, offerID, token, action string) (Offer, error) {
	if action != OfferActionAccept && action != OfferActionDecline {
		return Offer{}, ErrNotFound
	}
	if _, err := uuid.Parse(offerID); err != nil {
		return Offer{}, ErrNotFound
	}
	o, err := s.store.Offer(ctx, strings.ToLower(offerID))
	if err != nil {
		return Offer{}, fmt.Errorf("offer %s: %w", offerID, err)
	}
	if !s.keys.CheckReceipt(o.EntryID, token) {
		return Offer{}, ErrNotFound
	}
	ev, err := s.cachedEvent(ctx, o.eventSlug)
	if err != nil {
		return Offer{}, fmt.Errorf("offer %s: %w", offerID, err)
	}
	out, issued, err := s.store.ChangeOffer(ctx, s.offerTx(ev, o.ID, action))
	s.notifyOffers(ctx, issued)
	if err != nil {
		return Offer{}, fmt.Errorf("%s offer %s: %w", action, offerID, err)
	}
	return out, nil
}

// ExpireOffer expires one offer if its hold has ended (the expiry task).
func (s *Service) ExpireOffer(ctx context.Context, offerID string) error {
	o, err := s.store.Offer(ctx, offerID)
	if err != nil {
		return fmt.Errorf("expire %s: %w", offerID, err)
	}
	if !o.Status.Live() || o.Status == OfferPaid {
		return nil
	}
	ev, err := s.cachedEvent(ctx, o.eventSlug)
	if err != nil {
		return fmt.Errorf("expire %s: %w", offerID, err)
	}
	_, issued, err := s.store.ChangeOffer(ctx, s.offerTx(ev, offerID, OfferActionExpire))
	s.notifyOffers(ctx, issued)
	if err != nil && !isCode(err, CodeInvalidTransition) {
		return fmt.Errorf("expire %s: %w", offerID, err)
	}
	return nil
}

// ExpireDue is the reconciler: it expires every offer past its hold that
// the expiry task missed (Redis flushed, worker down), from PostgreSQL truth,
// in batches, and offers the freed slots to the waitlist.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	const batch = 20000
	total := 0
	for {
		tx, err := s.reconcileTx(ctx)
		if err != nil {
			return total, fmt.Errorf("reconcile offers: %w", err)
		}
		n, issued, err := s.store.ExpireDue(ctx, tx, batch)
		s.notifyOffers(ctx, issued)
		total += n
		if err != nil {
			return total, fmt.Errorf("reconcile offers: %w", err)
		}
		if n < batch {
			return total, nil
		}
	}
}

// reconcileTx builds an OfferTx for offers of any event: the hold comes
// from each offer's event. The events are loaded here, before the
// transaction, and passed in as values.
func (s *Service) reconcileTx(ctx context.Context) (OfferTx, error) {
	now := s.clock.Now()
	ids, err := s.store.DueOfferEvents(ctx, now)
	if err != nil {
		return OfferTx{}, err
	}
	holds := make(map[int64]time.Duration, len(ids))
	for _, id := range ids {
		ev, err := s.store.EventByID(ctx, id)
		if err != nil {
			return OfferTx{}, err
		}
		holds[id] = ev.OfferHold
	}
	return OfferTx{Now: now, Holds: holds}, nil
}

// SetCapacity changes a sub-queue's capacity; added slots go to the
// waitlist by the released-slot rule.
func (s *Service) SetCapacity(ctx context.Context, actor StaffAccount, slug, subqueue string, capacity int) ([]OfferIssue, error) {
	if actor.Role != RoleOrganizer {
		return nil, ErrForbidden
	}
	if capacity < 0 || capacity > 1_000_000 {
		return nil, Fieldf("capacity", "give a capacity from 0 to 1000000")
	}
	ev, err := s.store.EventBySlug(ctx, slug)
	if err != nil {
		return nil, fmt.Errorf("capacity %s: %w", slug, err)
	}
	issued, err := s.store.SetCapacity(ctx, slug, subqueue, capacity, s.offerTx(ev, "", ""), actor.Actor())
	s.forget(slug)
	s.notifyOffers(ctx, issued)
	if err != nil {
		return nil, fmt.Errorf("capacity %s %s: %w", slug, subqueue, err)
	}
	return issued, nil
}

// OfferStats returns an organizer's offer numbers per sub-queue.
func (s *Service) OfferStats(ctx context.Context, actor StaffAccount, slug string) ([]OfferStats, error) {
	if actor.Role != RoleOrganizer {
		return nil, ErrForbidden
	}
	ev, err := s.store.EventBySlug(ctx, slug)
	if err != nil {
		return nil, fmt.Errorf("offer stats %s: %w", slug, err)
	}
	return s.store.OfferStats(ctx, ev.ID)
}

func isCode(err error, code string) bool { return CodeOf(err) == code }

// OfferOf returns an offer by id (pages that already checked the token).
func (s *Service) OfferOf(ctx context.Context, id string) (Offer, error) {
	return s.store.Offer(ctx, id)
}
