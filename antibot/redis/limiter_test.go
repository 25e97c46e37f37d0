package redis

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"
)

func rate(limit int64, period time.Duration) limiter.Rate {
	return limiter.Rate{Limit: limit, Period: period}
}

func newTestLimiter(t testing.TB, rdb goredis.UniversalClient, prefix string, rules ...Rule) *Limiter {
	t.Helper()
	l, err := NewLimiter(rdb, prefix, rules, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("NewLimiter: %v", err)
	}
	return l
}

func TestLimitHitExactlyAtCount(t *testing.T) {
	tests := []struct {
		name  string
		limit int64
		per   time.Duration
	}{
		{"one per minute", 1, time.Minute},
		{"five per minute", 5, time.Minute},
		{"twenty per hour", 20, time.Hour},
		{"three per ten seconds", 3, 10 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rdb, prefix := testRedis(t)
			l := newTestLimiter(t, rdb, prefix, Rule{Kind: KindEmail, Rate: rate(tc.limit, tc.per)})
			key := Key{Kind: KindEmail, Value: "runner@example.com"}
			ctx := context.Background()
			for i := int64(1); i <= tc.limit; i++ {
				res, err := l.Allow(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if !res.Allowed || res.Limit != tc.limit || res.Remaining != tc.limit-i || res.Kind != KindEmail || res.RetryAfter != 0 {
					t.Fatalf("request %d: %+v, want allowed with %d remaining", i, res, tc.limit-i)
				}
			}
			start := time.Now()
			for i := range 3 {
				res, err := l.Allow(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if res.Allowed || res.Remaining != 0 || res.Kind != KindEmail {
					t.Fatalf("request %d over the limit: %+v, want refused", tc.limit+int64(i)+1, res)
				}
				if res.RetryAfter < time.Second || res.RetryAfter > tc.per+time.Second {
					t.Errorf("RetryAfter = %s, want within [1s, %s]", res.RetryAfter, tc.per+time.Second)
				}
				if res.Reset.Before(start.Add(-time.Second)) || res.Reset.After(start.Add(tc.per+time.Second)) {
					t.Errorf("Reset = %s, want within the window starting near %s", res.Reset, start)
				}
			}
		})
	}
}

func TestWindowResets(t *testing.T) {
	rdb, prefix := testRedis(t)
	l := newTestLimiter(t, rdb, prefix, Rule{Kind: KindDevice, Rate: rate(2, 300*time.Millisecond)})
	key := Key{Kind: KindDevice, Value: "dev-1"}
	ctx := context.Background()
	for i, want := range []bool{true, true, false} {
		if res, err := l.Allow(ctx, key); err != nil || res.Allowed != want {
			t.Fatalf("request %d: %+v, %v; want allowed=%v", i+1, res, err, want)
		}
	}
	time.Sleep(400 * time.Millisecond)
	if res, err := l.Allow(ctx, key); err != nil || !res.Allowed || res.Remaining != 1 {
		t.Fatalf("after the window: %+v, %v; want a fresh budget", res, err)
	}
}

func TestKeysIndependent(t *testing.T) {
	rdb, prefix := testRedis(t)
	l := newTestLimiter(t, rdb, prefix,
		Rule{Kind: KindEmail, Rate: rate(2, time.Minute)},
		Rule{Kind: KindOTPEmail, Rate: rate(2, time.Minute)})
	ctx := context.Background()
	a := Key{Kind: KindEmail, Value: "a@example.com"}
	for range 3 {
		if _, err := l.Allow(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if res, _ := l.Allow(ctx, a); res.Allowed {
		t.Fatal("a@example.com still allowed after its budget")
	}
	for _, k := range []Key{
		{Kind: KindEmail, Value: "b@example.com"},      // another value, same kind
		{Kind: KindOTPEmail, Value: "a@example.com"},   // same value, another kind
		{Kind: KindEmail, Value: "A@example.com"},      // values are compared exactly: normalize first
		{Kind: KindEmail, Value: "a@example.com.evil"}, // no prefix matching
	} {
		res, err := l.Allow(ctx, k)
		if err != nil || !res.Allowed || res.Remaining != 1 {
			t.Errorf("%v: %+v, %v; want a fresh budget", k, res, err)
		}
	}
}

func TestIPv6SlashSixtyFourSharesBudget(t *testing.T) {
	rdb, prefix := testRedis(t)
	l := newTestLimiter(t, rdb, prefix, Rule{Kind: KindIP, Rate: rate(3, time.Minute)})
	ctx := context.Background()
	allow := func(ip string) Result {
		t.Helper()
		res, err := l.Allow(ctx, Key{Kind: KindIP, Value: ClientKey(ip)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// Three requests from three addresses of one /64 spend its budget...
	for _, ip := range []string{"2001:db8:aa:1::1", "2001:db8:aa:1::2", "2001:db8:aa:1:ffff:ffff:ffff:ffff"} {
		if res := allow(ip); !res.Allowed {
			t.Fatalf("%s refused early: %+v", ip, res)
		}
	}
	// ...so a fourth address in it is refused,
	if res := allow("2001:db8:aa:1:1234::9"); res.Allowed {
		t.Fatalf("fourth address of the /64 allowed: %+v", res)
	}
	// while the neighbouring /64 and IPv4 addresses have their own budgets.
	for _, ip := range []string{"2001:db8:aa:2::1", "203.0.113.7", "203.0.113.8"} {
		if res := allow(ip); !res.Allowed || res.Remaining != 2 {
			t.Errorf("%s: %+v, want a fresh budget", ip, res)
		}
	}
	// IPv4-mapped IPv6 is the same client as plain IPv4.
	if res := allow("::ffff:203.0.113.7"); res.Remaining != 1 {
		t.Errorf("::ffff:203.0.113.7 does not share 203.0.113.7's budget: %+v", res)
	}
}

func TestMostRestrictiveAndOnlyAllowedCounted(t *testing.T) {
	rdb, prefix := testRedis(t)
	l := newTestLimiter(t, rdb, prefix,
		Rule{Kind: KindIP, Rate: rate(10, time.Minute)},
		Rule{Kind: KindIP, Rate: rate(50, time.Hour)},
		Rule{Kind: KindEmail, Rate: rate(2, time.Minute)},
		Rule{Kind: KindEvent, Rate: rate(100, time.Minute)})
	ctx := context.Background()
	ip := Key{Kind: KindIP, Value: ClientKey("198.51.100.4")}
	email := Key{Kind: KindEmail, Value: "r@example.com"}
	event := Key{Kind: KindEvent, Value: "demo-marathon"}

	res, err := l.Allow(ctx, ip, email, event)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Allowed: true, Limit: 2, Remaining: 1, Kind: KindEmail}
	if res.Allowed != want.Allowed || res.Limit != want.Limit || res.Remaining != want.Remaining || res.Kind != want.Kind {
		t.Fatalf("first: %+v, want the e-mail rule (fewest left) %+v", res, want)
	}
	if _, err := l.Allow(ctx, ip, email, event); err != nil {
		t.Fatal(err)
	}
	res, err = l.Allow(ctx, ip, email, event)
	if err != nil {
		t.Fatal(err)
	}
	if res.Allowed || res.Kind != KindEmail || res.Limit != 2 {
		t.Fatalf("third: %+v, want refused by the e-mail rule", res)
	}
	// The refused request spent nothing: the IP has the two allowed ones.
	res, err = l.Allow(ctx, ip)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Allowed || res.Limit != 10 || res.Remaining != 7 {
		t.Fatalf("ip alone: %+v, want 3 of 10 per minute spent", res)
	}
	// A duplicate key in one call counts once.
	res, err = l.Allow(ctx, ip, ip, ip)
	if err != nil {
		t.Fatal(err)
	}
	if res.Remaining != 6 {
		t.Fatalf("ip three times in one call: %+v, want it counted once", res)
	}
	// No keys: nothing to limit.
	if res, err := l.Allow(ctx); err != nil || !res.Allowed || res.Limit != 0 {
		t.Fatalf("no keys: %+v, %v", res, err)
	}
}

func TestLongestRefusalWins(t *testing.T) {
	rdb, prefix := testRedis(t)
	l := newTestLimiter(t, rdb, prefix,
		Rule{Kind: KindDevice, Rate: rate(1, 10*time.Second)},
		Rule{Kind: KindEmail, Rate: rate(1, time.Hour)})
	ctx := context.Background()
	keys := []Key{{Kind: KindDevice, Value: "d"}, {Kind: KindEmail, Value: "e@example.com"}}
	if _, err := l.Allow(ctx, keys...); err != nil {
		t.Fatal(err)
	}
	res, err := l.Allow(ctx, keys...)
	if err != nil {
		t.Fatal(err)
	}
	if res.Allowed || res.Kind != KindEmail || res.RetryAfter < 59*time.Minute {
		t.Fatalf("%+v: want refused by the hourly e-mail rule with a wait near an hour", res)
	}
}

func TestUnknownKind(t *testing.T) {
	rdb, prefix := testRedis(t)
	l := newTestLimiter(t, rdb, prefix, Rule{Kind: KindIP, Rate: rate(1, time.Minute)})
	if _, err := l.Allow(context.Background(), Key{Kind: "nope", Value: "x"}); err == nil || errors.Is(err, ErrUnavailable) {
		t.Fatalf("unknown kind: %v, want a plain error", err)
	}
}

func TestNewLimiterValidates(t *testing.T) {
	rdb := deadRedis(t)
	tests := map[string][]Rule{
		"empty kind":      {{Kind: "", Rate: rate(1, time.Minute)}},
		"kind with colon": {{Kind: "ip:x", Rate: rate(1, time.Minute)}},
		"upper-case kind": {{Kind: "IP", Rate: rate(1, time.Minute)}},
		"zero limit":      {{Kind: KindIP, Rate: rate(0, time.Minute)}},
		"zero period":     {{Kind: KindIP, Rate: rate(1, 0)}},
		"sub-millisecond": {{Kind: KindIP, Rate: rate(1, 1500*time.Microsecond)}},
		"duplicate period": {
			{Kind: KindIP, Rate: rate(1, time.Minute)},
			{Kind: KindIP, Rate: rate(5, time.Minute)},
		},
	}
	for name, rules := range tests {
		if _, err := NewLimiter(rdb, "p:", rules, true, nil); err == nil {
			t.Errorf("%s: NewLimiter accepted %v", name, rules)
		}
	}
	if _, err := NewLimiter(nil, "p:", nil, true, nil); err == nil {
		t.Error("nil client accepted")
	}
	if _, err := NewLimiter(rdb, "p:", DefaultRules(), true, nil); err != nil {
		t.Errorf("DefaultRules: %v", err)
	}
}

// TestRedisDown: a client for a closed port stands in for an outage; NewLimiter
// must still succeed (no Redis round trip) and Allow must fail open or closed.
func TestRedisDown(t *testing.T) {
	tests := []struct {
		name     string
		rdb      func(testing.TB) goredis.UniversalClient
		failOpen bool
		wantErr  error
	}{
		{"closed port, fail open", deadRedis, true, nil},
		{"closed port, fail closed", deadRedis, false, ErrUnavailable},
		{"hung server, fail open", hungRedis, true, nil},
		{"hung server, fail closed", hungRedis, false, ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			l, err := NewLimiter(tc.rdb(t), "sltest:dead:", DefaultRules(), tc.failOpen, log)
			if err != nil {
				t.Fatalf("NewLimiter with Redis down: %v", err)
			}
			l.timeout = 100 * time.Millisecond
			keys := []Key{
				{Kind: KindIP, Value: ClientKey("203.0.113.99")},
				{Kind: KindEmail, Value: "secret.runner@example.com"},
			}
			for range 3 {
				start := time.Now()
				res, err := l.Allow(context.Background(), keys...)
				if took := time.Since(start); took > time.Second {
					t.Errorf("Allow took %s with a 100ms timeout", took)
				}
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
					t.Fatalf("Allow error = %v, want %v", err, tc.wantErr)
				}
				if res.Allowed != tc.failOpen {
					t.Fatalf("Allowed = %v, want %v", res.Allowed, tc.failOpen)
				}
				if h := Headers(res); len(h) != 0 {
					t.Errorf("headers for an unknown budget: %v", h)
				}
			}
			out := logs.String()
			got := strings.Count(out, `"rate limiter unavailable, failing open"`)
			if want := map[bool]int{true: 1, false: 0}[tc.failOpen]; got != want {
				t.Errorf("alarm logged %d times in 3 calls, want %d (throttled): %s", got, want, out)
			}
			if tc.failOpen && !strings.Contains(out, `"level":"ERROR"`) {
				t.Errorf("alarm not at ERROR level: %s", out)
			}
			for _, secret := range []string{"secret.runner", "example.com", "203.0.113.99"} {
				if strings.Contains(out, secret) {
					t.Errorf("log carries %q: %s", secret, out)
				}
			}
		})
	}
}

func TestCancelledContextIsNotAnOutage(t *testing.T) {
	var logs logBuffer
	l, err := NewLimiter(deadRedis(t), "sltest:dead:", DefaultRules(), true, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Allow(ctx, Key{Kind: KindIP, Value: "1.2.3.4"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Allow with a cancelled context = %v, want context.Canceled", err)
	}
	if logs.String() != "" {
		t.Errorf("a client that went away raised the alarm: %s", logs.String())
	}
}

func TestKeyNamesCarryNoPersonalData(t *testing.T) {
	rdb, prefix := testRedis(t)
	raw := []string{"Runner.Name+tag@example.com", "runner.name@example.com", "198.51.100.23", "2001:db8:77:1::5", "sl_device_abc123", "token-secret-xyz"}
	check := func(t *testing.T, prefix string, opts ...Option) []string {
		l, err := NewLimiter(rdb, prefix, DefaultRules(), false, nil, opts...)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if _, err := l.Allow(ctx,
			Key{Kind: KindIP, Value: ClientKey(raw[2])},
			Key{Kind: KindIP, Value: ClientKey(raw[3])},
			Key{Kind: KindEmail, Value: raw[1]},
			Key{Kind: KindOTPEmail, Value: raw[0]},
			Key{Kind: KindDevice, Value: raw[4]},
			Key{Kind: KindEvent, Value: "demo-marathon"},
		); err != nil {
			t.Fatal(err)
		}
		if _, err := NewReplay(rdb, prefix).Claim(ctx, raw[5], "owner", time.Minute); err != nil {
			t.Fatal(err)
		}
		keys := scanKeys(t, rdb, prefix)
		for _, k := range keys {
			rest := strings.TrimPrefix(k, prefix)
			for _, s := range append(raw, "@", "example", "198.51", "2001", "db8", "demo-marathon") {
				if strings.Contains(strings.ToLower(rest), strings.ToLower(s)) {
					t.Errorf("key %q contains %q", k, s)
				}
			}
		}
		return keys
	}
	plain := check(t, prefix)
	// ip: 2 values × 2 rules, device 2 rules, email 1, otp_email 2, event 1, replay 1.
	if len(plain) != 4+2+1+2+1+1 {
		t.Errorf("got %d keys, want 11: %v", len(plain), plain)
	}
	for _, k := range plain {
		if !strings.HasPrefix(k, prefix+"rl:") && !strings.HasPrefix(k, prefix+"replay:") {
			t.Errorf("key %q is outside %srl: and %sreplay:", k, prefix, prefix)
		}
	}
	keyed := check(t, prefix+"k:", WithHashSecret([]byte("deployment secret")))
	seen := map[string]bool{}
	for _, k := range plain {
		seen[k[strings.LastIndexByte(k, ':')+1:]] = true
	}
	for _, k := range keyed {
		if strings.Contains(k, ":rl:") && seen[k[strings.LastIndexByte(k, ':')+1:]] {
			t.Errorf("keyed hash equals the plain one in %q", k)
		}
	}
}

// TestScriptReloadedAfterFlush runs the limiter with a script Redis has
// never cached (as after a restart or SCRIPT FLUSH, which a shared test Redis
// must not suffer): the NOSCRIPT answers are retried with EVAL.
func TestScriptReloadedAfterFlush(t *testing.T) {
	rdb, prefix := testRedis(t)
	l := newTestLimiter(t, rdb, prefix, Rule{Kind: KindIP, Rate: rate(5, time.Minute)}, Rule{Kind: KindEmail, Rate: rate(5, time.Minute)})
	src := "-- " + prefix + "\n" + incrSource // unique SHA1
	l.script = goredis.NewScript(src)
	ctx := context.Background()
	if exists, _ := rdb.ScriptExists(ctx, l.script.Hash()).Result(); len(exists) != 1 || exists[0] {
		t.Fatalf("script unexpectedly cached: %v", exists)
	}
	keys := []Key{{Kind: KindIP, Value: "203.0.113.1"}, {Kind: KindEmail, Value: "x@example.com"}}
	for want := int64(4); want >= 3; want-- {
		res, err := l.Allow(ctx, keys...)
		if err != nil || !res.Allowed || res.Remaining != want {
			t.Fatalf("Allow = %+v, %v; want %d remaining", res, err, want)
		}
	}
	if exists, _ := rdb.ScriptExists(ctx, l.script.Hash()).Result(); len(exists) != 1 || !exists[0] {
		t.Fatal("EVAL fallback did not cache the script")
	}
}

// TestCountersCompatibleWithUluleStore: the counters are the ones ulule's
// Redis store keeps (store prefix = our prefix + "rl"), so its Peek and
// Reset work on them, e.g. from an admin tool lifting a block.
func TestCountersCompatibleWithUluleStore(t *testing.T) {
	rdb, prefix := testRedis(t)
	r := rate(5, time.Minute)
	l := newTestLimiter(t, rdb, prefix, Rule{Kind: KindEmail, Rate: r})
	ctx := context.Background()
	key := Key{Kind: KindEmail, Value: "runner@example.com"}
	for range 3 {
		if _, err := l.Allow(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	store, err := redisstore.NewStoreWithOptions(rdb, limiter.StoreOptions{Prefix: prefix + "rl"})
	if err != nil {
		t.Fatal(err)
	}
	id := string(KindEmail) + ":60s:{" + hashValue(nil, key.Value) + "}" // the hash is the cluster hash tag
	peek, err := store.Peek(ctx, id, r)
	if err != nil {
		t.Fatal(err)
	}
	if peek.Remaining != 2 || peek.Reached {
		t.Fatalf("ulule Peek = %+v, want 2 remaining", peek)
	}
	if ttl := rdb.PTTL(ctx, prefix+"rl:"+id).Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("counter TTL = %s, want within the window", ttl)
	}
	if _, err := store.Reset(ctx, id, r); err != nil {
		t.Fatal(err)
	}
	if res, err := l.Allow(ctx, key); err != nil || res.Remaining != 4 {
		t.Fatalf("after ulule Reset: %+v, %v; want a fresh budget", res, err)
	}
}
