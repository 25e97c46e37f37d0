package worker

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"
)

// TypeExpireTransfers is the periodic pass that expires open face-value
// transfers past their end (issue 15): without it they end only when
// someone opens them, and the recipient's hold and the giver's wait would
// linger. The same pass cancels deferrals whose fee was not paid in time.
const TypeExpireTransfers = "transfer:expire"

// NewExpireTransfersTask builds the transfer expiry pass task. Unique for
// less than its period, so a slow pass is never doubled.
func NewExpireTransfersTask(queue string) *asynq.Task {
	return asynq.NewTask(TypeExpireTransfers, nil, asynq.Queue(queue), asynq.MaxRetry(0), asynq.Unique(50*time.Second),
		asynq.Timeout(5*time.Minute))
}

// transferSweepMax bounds one pass; a backlog is worked off over passes.
const transferSweepMax = 5000

// HandleExpireTransfers runs one pass (offers.Service.ExpireTransfers and
// CancelUnpaidDeferrals). Its state is in PostgreSQL, so a lost or doubled
// task costs nothing.
func (d *Drawer) HandleExpireTransfers(ctx context.Context, _ *asynq.Task) error {
	n, err := d.Offers.ExpireTransfers(ctx, transferSweepMax)
	if n > 0 {
		d.Log.InfoContext(ctx, "expired open transfers", "count", n)
	}
	m, derr := d.Offers.CancelUnpaidDeferrals(ctx, transferSweepMax)
	if m > 0 {
		d.Log.InfoContext(ctx, "cancelled unpaid deferrals", "count", m)
	}
	return errors.Join(err, derr)
}
