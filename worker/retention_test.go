package worker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/hibiken/asynq"
)

// TestRetentionTask: the constructor's payload round-trips, and a bad
// payload is not retried (it never reaches the service).
func TestRetentionTask(t *testing.T) {
	task, err := NewRetentionTask(7, "q")
	if err != nil || task.Type() != TypeRetention || string(task.Payload()) != `{"max_events":7}` {
		t.Fatalf("task: %v %s %s", err, task.Type(), task.Payload())
	}
	r := &Retention{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, bad := range []string{"{", `{"max_events":-1}`} {
		if err := r.HandleRetention(context.Background(), asynq.NewTask(TypeRetention, []byte(bad))); !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("payload %s: %v, want SkipRetry", bad, err)
		}
	}
}
