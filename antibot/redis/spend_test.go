package redis

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// counter reads the raw Redis counter of key under the first rule of its
// kind (0 when absent).
func counter(t *testing.T, l *Limiter, k Key) int64 {
	t.Helper()
	r := l.rules[k.Kind][0]
	n, err := l.rdb.Get(context.Background(), counterKey(l.prefix, r.tag, hashValue(l.secret, k.Value))).Int64()
	if err != nil && err.Error() != "redis: nil" {
		t.Fatal(err)
	}
	return n
}

// TestRefusedRequestSpendsNothing: a request refused by one key leaves no
// count on any key, so hammering one's own limit cannot spend a shared
// budget (the event valve) or someone else's (an address's).
func TestRefusedRequestSpendsNothing(t *testing.T) {
	ip := Key{Kind: KindIP, Value: ClientKey("198.51.100.7")}
	dev := Key{Kind: KindDevice, Value: "device-1"}
	victim := Key{Kind: KindEmail, Value: "victim@example.com"}
	event := Key{Kind: KindEvent, Value: "demo-marathon"}
	tests := []struct {
		name    string
		keys    []Key
		n       int
		allowed int
		want    map[Key]int64
	}{
		{"refused by the IP", []Key{ip, event, victim}, 12, 3, map[Key]int64{ip: 3, event: 3, victim: 3}},
		{"refused by the address", []Key{dev, event, victim}, 9, 5, map[Key]int64{dev: 5, event: 5, victim: 5}},
		{"refused by the event", []Key{dev, event}, 10, 0, map[Key]int64{dev: 0, event: 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rdb, prefix := testRedis(t)
			l := newTestLimiter(t, rdb, prefix,
				Rule{Kind: KindIP, Rate: rate(3, time.Minute)}, Rule{Kind: KindIP, Rate: rate(50, time.Hour)},
				Rule{Kind: KindDevice, Rate: rate(50, time.Minute)},
				Rule{Kind: KindEmail, Rate: rate(5, time.Minute)},
				Rule{Kind: KindEvent, Rate: rate(100, time.Minute)})
			ctx := context.Background()
			if tc.name == "refused by the event" {
				// Someone else filled the valve; this request spends none of its own budgets.
				for range 100 {
					if res, err := l.Allow(ctx, event); err != nil || !res.Allowed {
						t.Fatalf("filling the valve: %+v %v", res, err)
					}
				}
				tc.want[event] = 100
			}
			got := 0
			for range tc.n {
				res, err := l.Allow(ctx, tc.keys...)
				if err != nil {
					t.Fatal(err)
				}
				if res.Allowed {
					got++
				}
			}
			if got != tc.allowed {
				t.Errorf("allowed %d of %d, want %d", got, tc.n, tc.allowed)
			}
			for k, want := range tc.want {
				if n := counter(t, l, k); n != want {
					t.Errorf("%s counter = %d, want %d (only allowed requests count)", k.Kind, n, want)
				}
			}
			// The hourly IP rule did not count the refusals of the minute rule either.
			if tc.keys[0] == ip {
				h := l.rules[KindIP][1]
				if n, _ := rdb.Get(ctx, counterKey(l.prefix, h.tag, hashValue(nil, ip.Value))).Int64(); n != 3 {
					t.Errorf("hourly IP counter = %d, want 3", n)
				}
			}
		})
	}
}

// TestRefusalsUnderConcurrencyCountExactly: many concurrent requests
// refused by their IP leave the shared counter at exactly the allowed ones.
func TestRefusalsUnderConcurrencyCountExactly(t *testing.T) {
	rdb, prefix := testRedis(t)
	l := newTestLimiter(t, rdb, prefix, Rule{Kind: KindIP, Rate: rate(3, time.Minute)}, Rule{Kind: KindEvent, Rate: rate(1000, time.Minute)})
	ctx := context.Background()
	event := Key{Kind: KindEvent, Value: "demo-marathon"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ip := Key{Kind: KindIP, Value: ClientKey("198.51.100." + strconv.Itoa(g%4))}
			for range 15 {
				res, err := l.Allow(ctx, ip, event)
				if err != nil {
					t.Error(err)
					return
				}
				if res.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 12 {
		t.Errorf("allowed %d, want 4 addresses × 3", allowed)
	}
	if n := counter(t, l, event); n != int64(allowed) {
		t.Errorf("event counter = %d after %d allowed requests", n, allowed)
	}
	for i := range 4 {
		if n := counter(t, l, Key{Kind: KindIP, Value: ClientKey("198.51.100." + strconv.Itoa(i))}); n != 3 {
			t.Errorf("IP %d counter = %d, want 3", i, n)
		}
	}
}

// TestCapsNeverRefuse: a cap is counted with the request but never refuses
// it; Capped says it is spent, and a refused request spends no cap.
func TestCapsNeverRefuse(t *testing.T) {
	rdb, prefix := testRedis(t)
	l := newTestLimiter(t, rdb, prefix, Rule{Kind: KindIP, Rate: rate(2, time.Minute)}, Rule{Kind: KindOTPInbox, Rate: rate(2, time.Minute)})
	ctx := context.Background()
	inbox := []Key{{Kind: KindOTPInbox, Value: "victim@example.com"}}
	a := Key{Kind: KindIP, Value: ClientKey("198.51.100.1")}
	b := Key{Kind: KindIP, Value: ClientKey("198.51.100.2")}
	steps := []struct {
		ip                 Key
		allowed, capped    bool
		remaining, counted int64
	}{
		{a, true, false, 1, 1},
		{a, true, false, 0, 2},
		{a, false, false, 0, 2}, // refused by its IP: the cap is not spent
		{b, true, true, 1, 3},   // allowed, but over the cap
		{b, true, true, 0, 4},
		{b, false, false, 0, 4},
	}
	for i, s := range steps {
		res, err := l.AllowCapped(ctx, inbox, s.ip)
		if err != nil {
			t.Fatal(err)
		}
		if res.Allowed != s.allowed || res.Capped != s.capped || res.Remaining != s.remaining || res.Kind != KindIP {
			t.Errorf("step %d: %+v, want allowed %v capped %v with %d left of the IP rule", i, res, s.allowed, s.capped, s.remaining)
		}
		if n := counter(t, l, inbox[0]); n != s.counted {
			t.Errorf("step %d: cap counter %d, want %d", i, n, s.counted)
		}
	}
	if res, err := l.AllowCapped(ctx, nil, Key{Kind: KindIP, Value: "x"}); err != nil || !res.Allowed || res.Capped {
		t.Errorf("no caps: %+v %v", res, err)
	}
}

// TestCompensationCreatesNoKey: undoing a count on a counter whose window
// ended meanwhile must not leave a counter without expiry behind.
func TestCompensationCreatesNoKey(t *testing.T) {
	rdb, prefix := testRedis(t)
	ctx := context.Background()
	k := prefix + "rl:gone"
	if err := decrScript.Run(ctx, rdb, []string{k}).Err(); err != nil {
		t.Fatal(err)
	}
	if n := rdb.Exists(ctx, k).Val(); n != 0 {
		t.Fatalf("compensating a lapsed counter created it")
	}
	rdb.Set(ctx, k, 3, time.Minute)
	if err := decrScript.Run(ctx, rdb, []string{k}).Err(); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Get(ctx, k).Int64(); n != 2 || rdb.PTTL(ctx, k).Val() <= 0 {
		t.Fatalf("compensated counter = %d (ttl %s), want 2 with its expiry", n, rdb.PTTL(ctx, k).Val())
	}
}

func TestKnown(t *testing.T) {
	rdb, prefix := testRedis(t)
	ctx := context.Background()
	k := NewKnown(rdb, prefix, []byte("s"))
	if err := k.Remember(ctx, "dev-1", "victim@gmail.com", time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		device, address string
		want            bool
	}{
		{"dev-1", "victim@gmail.com", true},
		{"dev-2", "victim@gmail.com", false},
		{"dev-1", "other@gmail.com", false},
		{"", "victim@gmail.com", false},
	} {
		if got, err := k.Has(ctx, tc.device, tc.address); err != nil || got != tc.want {
			t.Errorf("Has(%q, %q) = %v, %v; want %v", tc.device, tc.address, got, err, tc.want)
		}
	}
	for _, key := range scanKeys(t, rdb, prefix) {
		if strings.Contains(key, "victim") || strings.Contains(key, "dev-1") {
			t.Errorf("key %q carries personal data", key)
		}
	}
}

func TestCapWithoutRuleIsOff(t *testing.T) {
	rdb, prefix := testRedis(t)
	l := newTestLimiter(t, rdb, prefix, Rule{Kind: KindIP, Rate: rate(2, time.Minute)})
	res, err := l.AllowCapped(context.Background(), []Key{{Kind: KindOTPInbox, Value: "a@example.com"}}, Key{Kind: KindIP, Value: "x"})
	if err != nil || !res.Allowed || res.Capped || res.Remaining != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := l.Allow(context.Background(), Key{Kind: KindOTPInbox, Value: "a@example.com"}); err == nil {
		t.Fatal("a key (not a cap) of a kind without rules was accepted")
	}
}
