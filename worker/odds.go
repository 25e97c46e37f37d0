package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/startline/startline/lottery/drawstats"
)

// TypeRefreshOdds is the odds pass: the live odds of every event taking
// entries, the final odds a freeze left undone, each drawn sub-queue's
// tally.
const TypeRefreshOdds = "odds:refresh"

// NewRefreshOddsTask builds the periodic odds pass. Unique for less than
// its minute, so passes never pile up and no event's odds are computed
// more than once a minute.
func NewRefreshOddsTask(queue string) *asynq.Task {
	return asynq.NewTask(TypeRefreshOdds, nil, asynq.Queue(queue), asynq.MaxRetry(0), asynq.Unique(50*time.Second),
		asynq.Timeout(5*time.Minute))
}

// Odds runs the odds pass.
type Odds struct {
	Stats *drawstats.Service
	Log   *slog.Logger
}

// HandleRefreshOdds runs one odds pass (drawstats.Service.Refresh). Its
// state is all in PostgreSQL, so a lost or doubled task costs nothing.
func (o *Odds) HandleRefreshOdds(ctx context.Context, _ *asynq.Task) error {
	n, err := o.Stats.Refresh(ctx)
	if n > 0 {
		o.Log.DebugContext(ctx, "odds refreshed", "snapshots", n)
	}
	return err
}
