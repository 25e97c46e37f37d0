package redis

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestReplaySingleUse: an id claimed once is refused to every other owner.
func TestReplaySingleUse(t *testing.T) {
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
		got, err := r.Claim(ctx, tc.id, tc.name, time.Minute)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: Claim(%q) = %v, want %v", tc.name, tc.id, got, tc.want)
		}
	}
}

func TestReplayExpiry(t *testing.T) {
	rdb, prefix := testRedis(t)
	r := NewReplay(rdb, prefix)
	ctx := context.Background()

	if first, err := r.Claim(ctx, "short", "req-1", 150*time.Millisecond); err != nil || !first {
		t.Fatalf("first Claim = %v, %v", first, err)
	}
	ttl, err := rdb.PTTL(ctx, r.key("short")).Result()
	if err != nil || ttl <= 0 || ttl > 150*time.Millisecond {
		t.Fatalf("PTTL = %v, %v; want (0, 150ms]", ttl, err)
	}
	if again, _ := r.Claim(ctx, "short", "req-2", 150*time.Millisecond); again {
		t.Fatal("second Claim before expiry was a first use")
	}
	time.Sleep(250 * time.Millisecond)
	if first, err := r.Claim(ctx, "short", "req-3", time.Minute); err != nil || !first {
		t.Fatalf("Claim after expiry = %v, %v; want a first use", first, err)
	}
}

func TestReplayConcurrentSingleWinner(t *testing.T) {
	rdb, prefix := testRedis(t)
	r := NewReplay(rdb, prefix)
	const n = 50
	wins := make(chan bool, n)
	for i := range n {
		go func() {
			ok, err := r.Claim(context.Background(), "race", fmt.Sprintf("req-%d", i), time.Minute)
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
	if _, err := r.Claim(context.Background(), "", "owner", time.Minute); err == nil {
		t.Error("empty id accepted")
	}
	if _, err := r.Claim(context.Background(), "x", "", time.Minute); err == nil {
		t.Error("empty owner accepted")
	}
	for _, ttl := range []time.Duration{0, -time.Second, time.Microsecond} {
		if _, err := r.Claim(context.Background(), "x", "owner", ttl); err == nil {
			t.Errorf("ttl %s accepted", ttl)
		}
	}
}

func TestReplayRedisDown(t *testing.T) {
	r := NewReplay(deadRedis(t), "sltest:dead:")
	ok, err := r.Claim(context.Background(), "id", "owner", time.Minute)
	if err == nil || ok {
		t.Fatalf("Claim on a dead Redis = %v, %v; want an error", ok, err)
	}
	if !strings.Contains(err.Error(), "replay") {
		t.Errorf("error %q does not name the operation", err)
	}
}
