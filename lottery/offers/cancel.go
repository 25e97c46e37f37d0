package offers

import (
	"context"
	"fmt"
	"time"

	"github.com/startline/startline/lottery"
)

// CancelTx describes an event's cancellation for the store: the event
// (by slug) must still be in state From.
type CancelTx struct {
	Slug  string
	From  lottery.EventStatus
	Now   time.Time
	Actor lottery.Actor
}

// CancelResult is what a cancellation did.
type CancelResult struct {
	Event lottery.Event
	// OffersEnded counts the live offers (pending, accepted, paid) voided.
	OffersEnded int
	// Refunds are the full refunds of paid slots recorded as owed.
	Refunds []Refund
	// Mails are the outbox ids of the cancellation mails queued (one per
	// entry with a live address).
	Mails []int64
}

// CancelStore is what a cancellation asks of persistence (part of Store).
type CancelStore interface {
	// CancelEvent moves the event from tx.From to cancelled and, in the
	// same transaction, voids its live offers (each logged), records every
	// captured payment of a voided offer as owed in full, queues the
	// event.cancelled mail to every entry not erased (with the refund's
	// amount) and writes the event and audit logs. ErrInvalidTransition
	// when the event is no longer in tx.From.
	CancelEvent(ctx context.Context, tx CancelTx) (CancelResult, error)
}

// maxCancelNotify is how many cancellation mails are handed to the worker
// at once; the outbox sweep sends the rest of a very large event.
const maxCancelNotify = 5000

// CancelEvent carries out lottery.ActionCancel (lottery.Canceller): the
// store's transaction, then the refunds asked of the payment provider. A
// refund the provider refuses stays owed; the worker's payment:refunds pass
// (RetryRefunds) asks again with the same idempotency key.
func (s *Service) CancelEvent(ctx context.Context, ev lottery.Event, actor lottery.StaffAccount) (lottery.Event, error) {
	res, err := s.store.CancelEvent(ctx, CancelTx{Slug: ev.Slug, From: ev.Status, Now: s.clock.Now(), Actor: actor.Actor()})
	s.events.ForgetEvent(ev.Slug)
	if err != nil {
		return lottery.Event{}, fmt.Errorf("cancel %s: %w", ev.Slug, err)
	}
	if s.notify != nil {
		for i, id := range res.Mails {
			if i == maxCancelNotify {
				break
			}
			if err := s.notify.MailQueued(ctx, id); err != nil {
				s.log.WarnContext(ctx, "cancellation mail not queued; the outbox sweep sends it", "outbox_id", id, "err", err)
			}
		}
	}
	owed := 0
	for _, r := range res.Refunds {
		if s.refund(ctx, r).Owed() {
			owed++
		}
	}
	s.log.InfoContext(ctx, "event cancelled", "event", ev.Slug, "offers_ended", res.OffersEnded,
		"refunds", len(res.Refunds), "refunds_owed", owed, "mails", len(res.Mails))
	return res.Event, nil
}
