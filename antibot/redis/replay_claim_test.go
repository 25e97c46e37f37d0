package redis

import (
	"context"
	"testing"
	"time"
)

func TestReplayClaim(t *testing.T) {
	rdb, prefix := testRedis(t)
	r := NewReplay(rdb, prefix)
	ctx := context.Background()
	steps := []struct {
		id, owner string
		want      bool
	}{
		{"c1", "req-a", true},  // first claim
		{"c1", "req-a", true},  // identical retry
		{"c1", "req-b", false}, // another request reusing the solution
		{"c2", "req-b", true},
	}
	for _, s := range steps {
		got, err := r.Claim(ctx, s.id, s.owner, time.Minute)
		if err != nil || got != s.want {
			t.Errorf("Claim(%s, %s) = %v, %v; want %v", s.id, s.owner, got, err, s.want)
		}
	}
	if _, err := r.Claim(ctx, "", "x", time.Minute); err == nil {
		t.Error("empty id accepted")
	}
}
