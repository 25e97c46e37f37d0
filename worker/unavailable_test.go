package worker_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/worker"
)

// TestDrawRequestedRedisDown: a draw that cannot be enqueued is
// unavailable (503, ask again), not an internal error.
func TestDrawRequestedRedisDown(t *testing.T) {
	c := worker.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1"}, "test")
	t.Cleanup(func() { c.Close() })
	err := c.DrawRequested(context.Background(), 42)
	if !errors.Is(err, lottery.ErrUnavailable) {
		t.Errorf("DrawRequested with Redis down: %v, want ErrUnavailable", err)
	}
}
