package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// TypeFoldTallies is the dashboard pass: every event's pending entry-count
// deltas folded into the rollup the organizer's dashboard reads (migration
// 00031), so they never pile up for an event whose dashboard nobody opens.
const TypeFoldTallies = "dashboard:fold"

// NewFoldTalliesTask builds the periodic dashboard pass; unique for less
// than its minute, so passes never pile up.
func NewFoldTalliesTask(queue string) *asynq.Task {
	return asynq.NewTask(TypeFoldTallies, nil, asynq.Queue(queue), asynq.MaxRetry(0), asynq.Unique(50*time.Second),
		asynq.Timeout(5*time.Minute))
}

// TallyFolder folds the entry-count deltas (postgres.Store.FoldTallies).
type TallyFolder interface {
	// FoldTallies folds every event's deltas and returns how many events
	// had some.
	FoldTallies(ctx context.Context) (int, error)
}

// Tallies runs the dashboard pass.
type Tallies struct {
	Store TallyFolder
	Log   *slog.Logger
}

// HandleFoldTallies runs one pass. Its state is all in PostgreSQL (a
// dashboard read folds its event's deltas too), so a lost or doubled task
// costs nothing.
func (t *Tallies) HandleFoldTallies(ctx context.Context, _ *asynq.Task) error {
	n, err := t.Store.FoldTallies(ctx)
	if n > 0 {
		t.Log.DebugContext(ctx, "dashboard tallies folded", "events", n)
	}
	return err
}
