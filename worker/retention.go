package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/startline/startline/lottery/selfservice"
)

// TypeRetention is the retention pass: the personal data of every event's
// entries past STARTLINE_RETENTION after the event is anonymized
// (selfservice.Service.RunRetention).
const TypeRetention = "privacy:retention"

// RetentionPayload bounds one pass: at most MaxEvents events (0: 50), so a
// backlog is worked off over several passes, each a short transaction per
// event.
type RetentionPayload struct {
	MaxEvents int `json:"max_events,omitempty"`
}

// NewRetentionTask builds the periodic retention pass. Unique for less
// than its period, so passes never pile up.
func NewRetentionTask(maxEvents int, queue string) (*asynq.Task, error) {
	b, err := json.Marshal(RetentionPayload{MaxEvents: maxEvents})
	if err != nil {
		return nil, fmt.Errorf("retention task: %w", err)
	}
	return asynq.NewTask(TypeRetention, b, asynq.Queue(queue), asynq.MaxRetry(1), asynq.Unique(50*time.Minute),
		asynq.Timeout(10*time.Minute)), nil
}

// Retention runs the retention pass.
type Retention struct {
	Self *selfservice.Service
	Log  *slog.Logger
}

// HandleRetention runs one pass. Its state is in PostgreSQL (anonymized_at),
// so a lost or doubled task costs nothing; a bad payload is not retried.
func (r *Retention) HandleRetention(ctx context.Context, t *asynq.Task) error {
	var p RetentionPayload
	if len(t.Payload()) > 0 {
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.MaxEvents < 0 {
			return fmt.Errorf("retention payload: %v: %w", err, asynq.SkipRetry)
		}
	}
	if p.MaxEvents == 0 {
		p.MaxEvents = 50
	}
	events, entries, err := r.Self.RunRetention(ctx, p.MaxEvents)
	if events > 0 {
		r.Log.InfoContext(ctx, "retention: personal data anonymized", "events", events, "entries", entries)
	}
	return err
}
