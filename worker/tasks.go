// Package worker runs Startline's background work on Asynq: task types and
// their payloads, the handlers, the periodic scheduler, and the client the
// service uses to enqueue work after a commit.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/startline/startline/lottery"
)

// Task types.
const (
	TypeSendMail     = "mail:send"
	TypeSweepOutbox  = "mail:sweep"
	TypeDrawSubqueue = "draw:subqueue"
)

// SendMailPayload names the outbox message to deliver.
type SendMailPayload struct {
	OutboxID int64 `json:"outbox_id"`
}

// NewSendMailTask builds the delivery task for one outbox message. The task
// id makes enqueueing idempotent while a delivery is pending or retrying.
func NewSendMailTask(outboxID int64, queue string) (*asynq.Task, error) {
	b, err := json.Marshal(SendMailPayload{OutboxID: outboxID})
	if err != nil {
		return nil, fmt.Errorf("mail task: %w", err)
	}
	return asynq.NewTask(TypeSendMail, b, asynq.TaskID(fmt.Sprintf("mail:%d", outboxID)), asynq.Queue(queue),
		asynq.MaxRetry(10), asynq.Timeout(30*time.Second)), nil
}

// NewSweepOutboxTask builds the periodic task that re-enqueues mail whose
// delivery task was lost (Redis flushed, enqueue failed after commit).
func NewSweepOutboxTask(queue string) *asynq.Task {
	return asynq.NewTask(TypeSweepOutbox, nil, asynq.Queue(queue), asynq.MaxRetry(0), asynq.Unique(14*time.Second))
}

// DrawSubqueuePayload names the sub-queue to draw.
type DrawSubqueuePayload struct {
	SubqueueID int64 `json:"subqueue_id"`
}

// NewDrawSubqueueTask builds the draw task of one sub-queue. Its task id
// makes a repeated draw request enqueue nothing while one is pending; the
// draw itself is idempotent, so a retry after a crash is safe.
func NewDrawSubqueueTask(subqueueID int64, queue string) (*asynq.Task, error) {
	b, err := json.Marshal(DrawSubqueuePayload{SubqueueID: subqueueID})
	if err != nil {
		return nil, fmt.Errorf("draw task: %w", err)
	}
	return asynq.NewTask(TypeDrawSubqueue, b, asynq.TaskID(fmt.Sprintf("draw:%d", subqueueID)), asynq.Queue(queue),
		asynq.MaxRetry(20), asynq.Timeout(10*time.Minute)), nil
}

// TypeReconcileDraws moves to drawn the frozen events whose sub-queues are
// all drawn.
const TypeReconcileDraws = "draw:reconcile"

// NewReconcileDrawsTask builds the periodic draw reconciler task.
func NewReconcileDrawsTask(queue string) *asynq.Task {
	return asynq.NewTask(TypeReconcileDraws, nil, asynq.Queue(queue), asynq.MaxRetry(0), asynq.Unique(50*time.Second))
}

// Client enqueues tasks; it implements lottery.Notifier.
type Client struct {
	c     *asynq.Client
	queue string
}

// NewClient wraps an Asynq client for the given queue.
func NewClient(redis asynq.RedisConnOpt, queue string) *Client {
	return &Client{c: asynq.NewClient(redis), queue: queue}
}

// Close releases the client's connections.
func (c *Client) Close() error { return c.c.Close() }

// MailQueued enqueues delivery of an outbox message.
func (c *Client) MailQueued(ctx context.Context, outboxID int64) error {
	t, err := NewSendMailTask(outboxID, QueuesFor(c.queue).Mail)
	if err != nil {
		return err
	}
	if _, err := c.c.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue mail %d: %w", outboxID, err)
	}
	return nil
}

// DrawRequested enqueues the draw of one sub-queue.
func (c *Client) DrawRequested(ctx context.Context, subqueueID int64) error {
	t, err := NewDrawSubqueueTask(subqueueID, c.queue)
	if err != nil {
		return err
	}
	if _, err := c.c.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		// Redis is not taking tasks; the request is recorded in PostgreSQL
		// and asking again enqueues what is still undrawn: 503, retry.
		return fmt.Errorf("enqueue draw %d: %w: %w", subqueueID, lottery.ErrUnavailable, err)
	}
	return nil
}

// TypeClusterSweep recomputes linked-entry clusters of open events.
const TypeClusterSweep = "cluster:sweep"

// NewClusterSweepTask builds the periodic clustering task; Unique keeps
// one pending at a time.
func NewClusterSweepTask(queue string) *asynq.Task {
	return asynq.NewTask(TypeClusterSweep, nil, asynq.Queue(queue), asynq.MaxRetry(1), asynq.Unique(25*time.Second),
		asynq.Timeout(5*time.Minute))
}

// Offer task types.
const (
	TypeExpireOffer     = "offer:expire"
	TypeReconcileOffers = "offer:reconcile"
)

// ExpireOfferPayload names the offer to expire.
type ExpireOfferPayload struct {
	OfferID string `json:"offer_id"`
}

// NewExpireOfferTask builds the task that expires an offer at its end; the
// task id keeps one per offer.
func NewExpireOfferTask(offerID string, at time.Time, queue string) (*asynq.Task, error) {
	b, err := json.Marshal(ExpireOfferPayload{OfferID: offerID})
	if err != nil {
		return nil, fmt.Errorf("expire task: %w", err)
	}
	return asynq.NewTask(TypeExpireOffer, b, asynq.TaskID("offer-expire:"+offerID), asynq.Queue(queue), asynq.ProcessAt(at),
		asynq.MaxRetry(20), asynq.Timeout(time.Minute)), nil
}

// NewReconcileOffersTask builds the periodic reconciler task.
func NewReconcileOffersTask(queue string) *asynq.Task {
	return asynq.NewTask(TypeReconcileOffers, nil, asynq.Queue(queue), asynq.MaxRetry(0), asynq.Unique(50*time.Second))
}

// TypeRemindOffers is the periodic pass that queues offer reminders.
const TypeRemindOffers = "offer:remind"

// NewRemindOffersTask builds the reminder pass task.
func NewRemindOffersTask(queue string) *asynq.Task {
	return asynq.NewTask(TypeRemindOffers, nil, asynq.Queue(queue), asynq.MaxRetry(0), asynq.Unique(50*time.Second))
}

// TypeRetryRefunds is the periodic pass that retries refunds a give-back
// could not make (the provider was down).
const TypeRetryRefunds = "payment:refunds"

// NewRetryRefundsTask builds the refund retry pass task.
func NewRetryRefundsTask(queue string) *asynq.Task {
	return asynq.NewTask(TypeRetryRefunds, nil, asynq.Queue(queue), asynq.MaxRetry(0), asynq.Unique(4*time.Minute))
}

// TypeAdmitQueues is the waiting rooms' periodic admission pass.
const TypeAdmitQueues = "queue:admit"

// NewAdmitQueuesTask builds the admission pass task. Unique for less than
// its period, so a slow pass is never doubled but the next one still runs.
func NewAdmitQueuesTask(queue string) *asynq.Task {
	return asynq.NewTask(TypeAdmitQueues, nil, asynq.Queue(queue), asynq.MaxRetry(0), asynq.Unique(4*time.Second),
		asynq.Timeout(30*time.Second))
}

// OffersIssued queues each offer's mail and its expiry at ExpiresAt.
func (c *Client) OffersIssued(ctx context.Context, issued []lottery.OfferIssue) error {
	for _, is := range issued {
		if is.OutboxID != 0 {
			if err := c.MailQueued(ctx, is.OutboxID); err != nil {
				return err
			}
		}
		t, err := NewExpireOfferTask(is.Offer.ID, is.Offer.ExpiresAt, c.queue)
		if err != nil {
			return err
		}
		if _, err := c.c.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("enqueue expiry of %s: %w", is.Offer.ID, err)
		}
	}
	return nil
}
