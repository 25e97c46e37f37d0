package redis

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestReplayRedisDownIsUnavailable: a replay check that cannot reach Redis
// says ErrUnavailable, so a fail-closed guard answers 503, not 500.
func TestReplayRedisDownIsUnavailable(t *testing.T) {
	r := NewReplay(deadRedis(t), "sltest:dead:")
	if _, err := r.Claim(context.Background(), "pow:x", "owner", time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Claim on a dead Redis: %v, want ErrUnavailable", err)
	}
}
