package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Replay is a set of single-use ids: spent proof-of-work challenges and,
// later, other one-shot tokens. An id can be used once until its TTL ends.
type Replay struct {
	rdb    goredis.UniversalClient
	prefix string
}

// NewReplay returns a replay set whose keys are prefix + "replay:{" + a hash
// of the id + "}" (the hash is the cluster hash tag, keys.go). Use one prefix per deployment (e.g. "startline:").
func NewReplay(rdb goredis.UniversalClient, prefix string) *Replay {
	return &Replay{rdb: rdb, prefix: prefix + "replay:"}
}

func (r *Replay) key(id string) string { return tagged(r.prefix, hashValue(nil, id)) }

// Claim marks id as used by owner for ttl: the first caller claims id for
// owner, and a later call succeeds only for the same owner. It lets an
// identical retry (same Idempotency-Key and body) present the same proof of
// work and get its stored answer, while any other reuse is refused. Give ttl
// at least the id's remaining validity (for a challenge: until
// Solved.Expires) so it cannot be used again after the key lapses. An error
// means the answer is unknown: refuse the request. One round trip (SET NX
// GET, Redis 7).
func (r *Replay) Claim(ctx context.Context, id, owner string, ttl time.Duration) (bool, error) {
	if id == "" || owner == "" {
		return false, errors.New("replay: empty id or owner")
	}
	if ttl < time.Millisecond {
		return false, fmt.Errorf("replay: ttl %s: must be at least 1ms", ttl)
	}
	prev, err := r.rdb.SetArgs(ctx, r.key(id), owner, goredis.SetArgs{Mode: "NX", Get: true, TTL: ttl}).Result()
	switch {
	case errors.Is(err, goredis.Nil):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("replay: %w: %w", ErrUnavailable, err)
	}
	return prev == owner, nil
}
