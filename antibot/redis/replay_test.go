package redis

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestReplayUse(t *testing.T) {
	rdb, prefix := testRedis(t)
	r := NewReplay(rdb, prefix)
	ctx := context.Background()

	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"first use", "challenge-a", true},
		{"second use", "challenge-a", false},
		{"third use", "challenge-a", false},
		{"another id", "challenge-b", true},
		{"case matters", "CHALLENGE-A", true},
	}
	for _, tc := range tests {
		got, err := r.Use(ctx, tc.id, time.Minute)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: Use(%q) = %v, want %v", tc.name, tc.id, got, tc.want)
		}
	}
}

func TestReplayExpiry(t *testing.T) {
	rdb, prefix := testRedis(t)
	r := NewReplay(rdb, prefix)
	ctx := context.Background()

	if first, err := r.Use(ctx, "short", 150*time.Millisecond); err != nil || !first {
		t.Fatalf("first Use = %v, %v", first, err)
	}
	ttl, err := rdb.PTTL(ctx, r.key("short")).Result()
	if err != nil || ttl <= 0 || ttl > 150*time.Millisecond {
		t.Fatalf("PTTL = %v, %v; want (0, 150ms]", ttl, err)
	}
	if again, _ := r.Use(ctx, "short", 150*time.Millisecond); again {
		t.Fatal("second Use before expiry was a first use")
	}
	time.Sleep(250 * time.Millisecond)
	if first, err := r.Use(ctx, "short", time.Minute); err != nil || !first {
		t.Fatalf("Use after expiry = %v, %v; want a first use", first, err)
	}
}

func TestReplayConcurrentSingleWinner(t *testing.T) {
	rdb, prefix := testRedis(t)
	r := NewReplay(rdb, prefix)
	const n = 50
	wins := make(chan bool, n)
	for range n {
		go func() {
			ok, err := r.Use(context.Background(), "race", time.Minute)
			if err != nil {
				t.Error(err)
			}
			wins <- ok
		}()
	}
	count := 0
	for range n {
		if <-wins {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("%d of %d concurrent uses were first uses, want 1", count, n)
	}
}

func TestReplayRejectsBadArguments(t *testing.T) {
	rdb, prefix := testRedis(t)
	r := NewReplay(rdb, prefix)
	if _, err := r.Use(context.Background(), "", time.Minute); err == nil {
		t.Error("empty id accepted")
	}
	for _, ttl := range []time.Duration{0, -time.Second, time.Microsecond} {
		if _, err := r.Use(context.Background(), "x", ttl); err == nil {
			t.Errorf("ttl %s accepted", ttl)
		}
	}
}

func TestReplayRedisDown(t *testing.T) {
	r := NewReplay(deadRedis(t), "sltest:dead:")
	ok, err := r.Use(context.Background(), "id", time.Minute)
	if err == nil || ok {
		t.Fatalf("Use on a dead Redis = %v, %v; want an error", ok, err)
	}
	if !strings.Contains(err.Error(), "replay") {
		t.Errorf("error %q does not name the operation", err)
	}
}
