package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/review"
	"github.com/startline/startline/lottery/waitroom"
)

// Drawer runs sub-queue draws.
type Drawer struct {
	Review   *review.Service // the cluster sweep
	Draws    *draws.Service
	Offers   *offers.Service   // offer expiry and the reconciler
	Waitroom *waitroom.Service // the admission pass
	Log      *slog.Logger
}

// HandleDrawSubqueue draws one sub-queue; see draws.Service.RunDraw.
func (d *Drawer) HandleDrawSubqueue(ctx context.Context, t *asynq.Task) error {
	var p DrawSubqueuePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.SubqueueID <= 0 {
		return fmt.Errorf("draw payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	art, err := d.Draws.RunDraw(ctx, p.SubqueueID)
	if err != nil {
		return err
	}
	d.Log.InfoContext(ctx, "sub-queue drawn", "subqueue_id", p.SubqueueID, "artifact_bytes", len(art))
	return nil
}

// HandleReconcileDraws moves to drawn every frozen event whose sub-queues
// are all drawn; the service logs each one it repairs.
func (d *Drawer) HandleReconcileDraws(ctx context.Context, _ *asynq.Task) error {
	_, err := d.Draws.ReconcileDraws(ctx)
	return err
}

// HandleClusterSweep recomputes clusters of every open event, flagging
// suspicious ones for review.
func (d *Drawer) HandleClusterSweep(ctx context.Context, _ *asynq.Task) error {
	n, err := d.Review.RecomputeAllClusters(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		d.Log.InfoContext(ctx, "clusters flagged entries for review", "flagged", n)
	}
	return nil
}

// HandleExpireOffer expires an offer whose hold ended and cascades its slot.
func (d *Drawer) HandleExpireOffer(ctx context.Context, t *asynq.Task) error {
	var p ExpireOfferPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.OfferID == "" {
		return fmt.Errorf("expire payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	return d.Offers.ExpireOffer(ctx, p.OfferID)
}

// HandleAdmitQueues runs one admission pass over every waiting room. Its
// state is all in PostgreSQL, so a lost or doubled task costs nothing.
func (d *Drawer) HandleAdmitQueues(ctx context.Context, _ *asynq.Task) error {
	n, err := d.Waitroom.AdmitQueues(ctx)
	if n > 0 {
		d.Log.InfoContext(ctx, "waiting rooms admitted runners", "count", n)
	}
	return err
}

// HandleRemindOffers queues the "hold ends soon" mail of every offer whose
// hold has min(24h, a quarter of the hold) left, once per offer.
func (d *Drawer) HandleRemindOffers(ctx context.Context, _ *asynq.Task) error {
	n, err := d.Offers.RemindOffers(ctx)
	if n > 0 {
		d.Log.InfoContext(ctx, "offer reminders queued", "count", n)
	}
	return err
}

// HandleRetryRefunds retries the refunds still owed after give-backs.
func (d *Drawer) HandleRetryRefunds(ctx context.Context, _ *asynq.Task) error {
	made, owed, err := d.Offers.RetryRefunds(ctx, 500)
	if made > 0 || owed > 0 {
		d.Log.InfoContext(ctx, "owed refunds retried", "made", made, "still_owed", owed)
	}
	return err
}

// HandleReconcileOffers expires, from PostgreSQL, every offer past its hold
// that its task missed (Redis flushed, worker down).
func (d *Drawer) HandleReconcileOffers(ctx context.Context, _ *asynq.Task) error {
	n, err := d.Offers.ExpireDue(ctx)
	if n > 0 {
		d.Log.InfoContext(ctx, "reconciler expired offers", "count", n)
	}
	return err
}
