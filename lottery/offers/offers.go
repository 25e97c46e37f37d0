// Package offers runs what happens to a slot once it is offered: the
// runner's accept and decline, expiry (the per-offer task and the
// reconciler), an organizer's capacity changes and offer numbers, and
// payment (the pay flow, the checkout's Payable rule and the provider's
// webhooks). Issuing the draw's offers at publish-results stays with the
// event lifecycle in the root lottery package; every change here that frees
// or adds a slot runs the store's released-slot cascade (DRAW-SPEC) in the
// same transaction.
package offers

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/startline/startline/lottery"
)

// Store is what offers ask of persistence. lottery/postgres.Store
// implements it.
type Store interface {
	CancelStore
	DeferStore
	// Offer returns an offer; ErrNotFound.
	Offer(ctx context.Context, id string) (lottery.Offer, error)
	// ChangeOffer accepts, declines or expires an offer and cascades a
	// freed slot; ErrOfferExpired, ErrInvalidTransition, ErrNotFound.
	ChangeOffer(ctx context.Context, tx lottery.OfferTx) (lottery.Offer, []lottery.OfferIssue, error)
	// SetCapacity changes a sub-queue's capacity and cascades; ErrConflict
	// when below the live offers or while entries are frozen, ErrNotFound.
	SetCapacity(ctx context.Context, slug, subqueue string, capacity int, tx lottery.OfferTx, actor lottery.Actor) ([]lottery.OfferIssue, error)
	// DueOfferEvents lists the events that have offers due at now.
	DueOfferEvents(ctx context.Context, now time.Time) ([]int64, error)
	// ExpireDue expires up to limit due offers in one transaction with one
	// cascade per sub-queue; it returns how many it expired.
	ExpireDue(ctx context.Context, tx lottery.OfferTx, limit int) (int, []lottery.OfferIssue, error)
	// OfferStats counts an event's offers per sub-queue.
	OfferStats(ctx context.Context, eventID int64) ([]lottery.OfferStats, error)
	// EventBySlug returns the event with its courses; ErrNotFound.
	EventBySlug(ctx context.Context, slug string) (lottery.Event, error)
	// EventByID returns the event with its courses; ErrNotFound.
	EventByID(ctx context.Context, id int64) (lottery.Event, error)
	// Entry returns an entry by id; ErrNotFound.
	Entry(ctx context.Context, id string) (lottery.Entry, error)
	// OfferPrice is what an offer's slot costs: its sub-queue's price in
	// the event's currency; ErrNotFound.
	OfferPrice(ctx context.Context, offerID string) (lottery.Money, error)
	// EntryOffer returns an entry's offer; ErrNotFound.
	EntryOffer(ctx context.Context, entryID string) (lottery.Offer, error)
	// CapturedPayment returns the captured payment of an offer; ErrNotFound.
	CapturedPayment(ctx context.Context, offerID string) (lottery.Payment, error)
	// GiveBack voids a held (accepted or paid) offer under its row lock,
	// withdraws its entry, records the refund its payment is owed by
	// tx.Policy (lottery.RefundDue), logs it, queues the withdrawal mail and
	// offers the freed slot by the released-slot rule, in one transaction;
	// ErrNoSlotHeld, ErrOfferExpired.
	GiveBack(ctx context.Context, tx GiveBackTx) (GiveBackResult, []lottery.OfferIssue, error)
	// OfferRefund returns the refund recorded for a given-back offer;
	// ErrNotFound when none was owed.
	OfferRefund(ctx context.Context, offerID string) (Refund, error)
	// OwedRefunds lists refunds recorded as owed that the provider has not
	// confirmed yet, oldest first.
	OwedRefunds(ctx context.Context, limit int) ([]Refund, error)
	// RecordRefund records the provider's confirmation of a refund (the
	// payment, its payment_events row, the event log and the refund mail),
	// once; it returns the refund as now stored.
	RecordRefund(ctx context.Context, r Refund, p lottery.Payment, now time.Time) (Refund, error)
	// SavePayment records a payment's state, only ever moving it forward
	// (lottery.PaymentStatus.Later); it returns the stored state.
	SavePayment(ctx context.Context, provider string, p lottery.Payment) (lottery.Payment, error)
	// FindPayment returns a stored payment; ErrNotFound.
	FindPayment(ctx context.Context, provider, id string) (lottery.Payment, error)
	// LatestPayment returns the offer's payment that changed last;
	// ErrNotFound when it has none.
	LatestPayment(ctx context.Context, offerID string) (lottery.Payment, error)
	// RecordPaymentEvent stores a webhook delivery; false when it was
	// processed before (deliveries are idempotent by event id).
	RecordPaymentEvent(ctx context.Context, provider string, e lottery.PaymentEvent) (bool, error)
	// MarkOfferPaid moves a live offer to paid and its entry to confirmed,
	// under the offer's row lock; ErrOfferExpired when the hold ended (or
	// the offer was declined) first, so the caller refunds.
	MarkOfferPaid(ctx context.Context, offerID, paymentID string, tx lottery.OfferTx) (lottery.Offer, error)
	// QueueOfferReminders queues the reminder mail of up to limit live
	// offers whose hold ends within min(24h, a quarter of the hold) of now,
	// each once; it returns the outbox ids.
	QueueOfferReminders(ctx context.Context, now time.Time, limit int) ([]int64, error)
}

// Events is the root service's event cache: offers read an event through
// it and drop it after a capacity change, so public event reads in this
// process see the new capacity at once. *lottery.Service implements it.
type Events interface {
	// CachedEvent returns an event, drafts included; ErrNotFound.
	CachedEvent(ctx context.Context, slug string) (lottery.Event, error)
	// ForgetEvent drops a cached event.
	ForgetEvent(slug string)
}

// Service runs offer actions, expiry, capacity and payments.
type Service struct {
	store    Store
	events   Events
	keys     *lottery.Keys
	clock    lottery.Clock
	notify   lottery.Notifier
	log      *slog.Logger
	payments lottery.PaymentProvider
	// transfers (UseTransfers): the recipient's registration and the
	// public URL of the links mailed.
	applicant TransferApplicant
	publicURL string
}

// NewService wires a Service. notify may be nil (nothing is sent); without
// UsePayments offers can be accepted but not paid.
func NewService(store Store, events Events, keys *lottery.Keys, clock lottery.Clock, notify lottery.Notifier, log *slog.Logger) *Service {
	return &Service{store: store, events: events, keys: keys, clock: clock, notify: notify, log: log}
}

// UsePayments sets the payment provider (the sandbox in dev, Stripe in production).
func (s *Service) UsePayments(p lottery.PaymentProvider) { s.payments = p }

func (s *Service) offerTx(ev lottery.Event, id, action string) lottery.OfferTx {
	return lottery.OfferTx{OfferID: id, Action: action, Now: s.clock.Now(), Hold: ev.OfferHold}
}

func (s *Service) notifyOffers(ctx context.Context, issued []lottery.OfferIssue) {
	lottery.NotifyOffers(ctx, s.notify, s.log, issued)
}

// OfferAction lets the holder of an entry's receipt token accept or decline
// its offer. A wrong token is ErrNotFound.
func (s *Service) OfferAction(ctx context.Context, offerID, token, action string) (lottery.Offer, error) {
	if action != lottery.OfferActionAccept && action != lottery.OfferActionDecline {
		return lottery.Offer{}, lottery.ErrNotFound
	}
	if _, err := uuid.Parse(offerID); err != nil {
		return lottery.Offer{}, lottery.ErrNotFound
	}
	o, err := s.store.Offer(ctx, strings.ToLower(offerID))
	if err != nil {
		return lottery.Offer{}, fmt.Errorf("offer %s: %w", offerID, err)
	}
	if !s.keys.CheckReceipt(o.EntryID, token) {
		return lottery.Offer{}, lottery.ErrNotFound
	}
	ev, err := s.events.CachedEvent(ctx, o.EventSlug())
	if err != nil {
		return lottery.Offer{}, fmt.Errorf("offer %s: %w", offerID, err)
	}
	out, issued, err := s.store.ChangeOffer(ctx, s.offerTx(ev, o.ID, action))
	s.notifyOffers(ctx, issued)
	if err != nil {
		return lottery.Offer{}, fmt.Errorf("%s offer %s: %w", action, offerID, err)
	}
	return out, nil
}

// ExpireOffer expires one offer if its hold has ended (the expiry task).
func (s *Service) ExpireOffer(ctx context.Context, offerID string) error {
	o, err := s.store.Offer(ctx, offerID)
	if err != nil {
		return fmt.Errorf("expire %s: %w", offerID, err)
	}
	if !o.Status.Live() || o.Status == lottery.OfferPaid {
		return nil
	}
	ev, err := s.events.CachedEvent(ctx, o.EventSlug())
	if err != nil {
		return fmt.Errorf("expire %s: %w", offerID, err)
	}
	_, issued, err := s.store.ChangeOffer(ctx, s.offerTx(ev, offerID, lottery.OfferActionExpire))
	s.notifyOffers(ctx, issued)
	if err != nil && !isCode(err, lottery.CodeInvalidTransition) {
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
func (s *Service) reconcileTx(ctx context.Context) (lottery.OfferTx, error) {
	now := s.clock.Now()
	ids, err := s.store.DueOfferEvents(ctx, now)
	if err != nil {
		return lottery.OfferTx{}, err
	}
	holds := make(map[int64]time.Duration, len(ids))
	for _, id := range ids {
		ev, err := s.store.EventByID(ctx, id)
		if err != nil {
			return lottery.OfferTx{}, err
		}
		holds[id] = ev.OfferHold
	}
	return lottery.OfferTx{Now: now, Holds: holds}, nil
}

// SetCapacity changes a sub-queue's capacity; added slots go to the
// waitlist by the released-slot rule.
func (s *Service) SetCapacity(ctx context.Context, actor lottery.StaffAccount, slug, subqueue string, capacity int) ([]lottery.OfferIssue, error) {
	if actor.Role != lottery.RoleOrganizer {
		return nil, lottery.ErrForbidden
	}
	if capacity < 0 || capacity > 1_000_000 {
		return nil, lottery.Fieldf("capacity", "give a capacity from 0 to 1000000")
	}
	ev, err := s.store.EventBySlug(ctx, slug)
	if err != nil {
		return nil, fmt.Errorf("capacity %s: %w", slug, err)
	}
	issued, err := s.store.SetCapacity(ctx, slug, subqueue, capacity, s.offerTx(ev, "", ""), actor.Actor())
	s.events.ForgetEvent(slug)
	s.notifyOffers(ctx, issued)
	if err != nil {
		return nil, fmt.Errorf("capacity %s %s: %w", slug, subqueue, err)
	}
	return issued, nil
}

// OfferStats returns an organizer's offer numbers per sub-queue.
func (s *Service) OfferStats(ctx context.Context, actor lottery.StaffAccount, slug string) ([]lottery.OfferStats, error) {
	if actor.Role != lottery.RoleOrganizer {
		return nil, lottery.ErrForbidden
	}
	ev, err := s.store.EventBySlug(ctx, slug)
	if err != nil {
		return nil, fmt.Errorf("offer stats %s: %w", slug, err)
	}
	return s.store.OfferStats(ctx, ev.ID)
}

// OfferOf returns an offer by id (pages that already checked the token).
func (s *Service) OfferOf(ctx context.Context, id string) (lottery.Offer, error) {
	return s.store.Offer(ctx, id)
}

// RemindOffers is the worker's reminder pass: every live offer whose hold
// has min(24h, a quarter of the hold) left gets one "the hold ends soon"
// mail, in batches; it returns how many it queued.
func (s *Service) RemindOffers(ctx context.Context) (int, error) {
	const batch = 5000
	total := 0
	for {
		ids, err := s.store.QueueOfferReminders(ctx, s.clock.Now(), batch)
		if err != nil {
			return total, fmt.Errorf("remind offers: %w", err)
		}
		total += len(ids)
		if s.notify != nil {
			for _, id := range ids {
				if err := s.notify.MailQueued(ctx, id); err != nil {
					s.log.WarnContext(ctx, "reminder enqueue failed; the outbox sweeper will send it", "outbox_id", id, "err", err)
					break
				}
			}
		}
		if len(ids) < batch {
			return total, nil
		}
	}
}

func isCode(err error, code string) bool { return lottery.CodeOf(err) == code }
