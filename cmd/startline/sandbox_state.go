package main

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisSandboxState keeps the dev payment sandbox's payments and saved
// cards in Redis (sandbox.NewShared), so every process of a deployment sees
// them: a checkout made by one API node is shown and paid on another, and
// the worker refunds and charges what an API node took. Test money only,
// kept 30 days.
type redisSandboxState struct {
	rdb    redis.UniversalClient
	prefix string
}

const sandboxStateTTL = 30 * 24 * time.Hour

// Get implements sandbox.State.
func (s redisSandboxState) Get(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := s.rdb.Get(ctx, s.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// Set implements sandbox.State.
func (s redisSandboxState) Set(ctx context.Context, key string, value []byte) error {
	return s.rdb.Set(ctx, s.prefix+key, value, sandboxStateTTL).Err()
}
