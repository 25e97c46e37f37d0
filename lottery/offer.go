package lottery

import (
	"context"
	"log/slog"
	"time"
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
	// OfferTransferHold is a transfer recipient's offer while they pay
	// (00032): it holds no slot of its own (the giver's paid offer still
	// does, and the capacity trigger does not count it); the recipient's
	// payment moves the giver's slot to it, which then becomes paid.
	OfferTransferHold OfferStatus = "transfer_hold"
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

// EventSlug is the event the offer belongs to, as its store recorded it.
func (o Offer) EventSlug() string { return o.eventSlug }

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

// OfferStore is what the root service asks of offers: publishing results
// issues the draw's offers (the event lifecycle). Offer actions, expiry,
// capacity and payments are lottery/offers.
type OfferStore interface {
	// IssueDrawOffers offers a slot to every selected entry of the event's
	// draws and records publication, in one transaction; ErrInvalidTransition.
	IssueDrawOffers(ctx context.Context, slug string, tx OfferTx, actor Actor) (Event, []OfferIssue, error)
}

func (s *Service) offerTx(ev Event, id, action string) OfferTx {
	return OfferTx{OfferID: id, Action: action, Now: s.clock.Now(), Hold: ev.OfferHold}
}

func (s *Service) notifyOffers(ctx context.Context, issued []OfferIssue) {
	NotifyOffers(ctx, s.notify, s.log, issued)
}

// NotifyOffers hands issued offers to the workers: mail delivery and an
// expiry task at ExpiresAt. notify may be nil. Failures are logged; the
// outbox sweep and the offer reconciler catch up from PostgreSQL.
func NotifyOffers(ctx context.Context, notify Notifier, log *slog.Logger, issued []OfferIssue) {
	if notify == nil || len(issued) == 0 {
		return
	}
	if err := notify.OffersIssued(ctx, issued); err != nil {
		log.WarnContext(ctx, "offer tasks not enqueued; the reconciler will expire from PostgreSQL", "offers", len(issued), "err", err)
	}
}
