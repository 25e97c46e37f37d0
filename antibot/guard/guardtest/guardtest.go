// Package guardtest builds a guard on the real Redis for tests: a random key
// prefix deleted when the test ends, easy puzzles, and the given limits.
package guardtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"

	"github.com/startline/startline/antibot/guard"
	"github.com/startline/startline/antibot/pow"
	abredis "github.com/startline/startline/antibot/redis"
)

// Generous limits keep the rate limiter out of tests about other things.
var Generous = []abredis.Rule{
	{Kind: abredis.KindIP, Rate: limiter.Rate{Limit: 1_000_000, Period: time.Minute}},
	{Kind: abredis.KindDevice, Rate: limiter.Rate{Limit: 1_000_000, Period: time.Minute}},
	{Kind: abredis.KindEmail, Rate: limiter.Rate{Limit: 1_000_000, Period: time.Minute}},
	{Kind: abredis.KindOTPEmail, Rate: limiter.Rate{Limit: 1_000_000, Period: time.Minute}},
	{Kind: abredis.KindStaffLogin, Rate: limiter.Rate{Limit: 1_000_000, Period: time.Minute}},
	{Kind: abredis.KindEvent, Rate: limiter.Rate{Limit: 1_000_000, Period: time.Minute}},
	{Kind: abredis.KindOTPInbox, Rate: limiter.Rate{Limit: 1_000_000, Period: time.Minute}},
	// Appended, so tests that pick rules by index keep their picks.
	{Kind: abredis.KindStaffAccount, Rate: limiter.Rate{Limit: 1_000_000, Period: time.Minute}},
	{Kind: abredis.KindStaffDevice, Rate: limiter.Rate{Limit: 1_000_000, Period: time.Minute}},
}

// Options tunes New; zero values take the defaults.
type Options struct {
	Rules    []abredis.Rule // Generous when nil
	FailOpen bool
	RedisURL string // REDIS_URL or 127.0.0.1:6379 when empty
}

// New returns a guard for t.
func New(t testing.TB, log *slog.Logger, o Options) *guard.Guard {
	t.Helper()
	url := o.RedisURL
	if url == "" {
		url = os.Getenv("REDIS_URL")
	}
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	if o.Rules == nil {
		o.Rules = Generous
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "sltest:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		if keys, _ := rdb.Keys(ctx, prefix+"*").Result(); len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		rdb.Close()
	})
	lim, err := abredis.NewLimiter(rdb, prefix, o.Rules, o.FailOpen, log)
	if err != nil {
		t.Fatal(err)
	}
	return &guard.Guard{Limiter: lim, Replay: abredis.NewReplay(rdb, prefix), Known: abredis.NewKnown(rdb, prefix, nil),
		PoW:       pow.Issuer{Key: []byte("test-pow-key")},
		CookieKey: []byte("test-cookie-key"), FailOpen: o.FailOpen, Log: log,
		Difficulty: func(risk int) int64 { return 2000 + int64(risk)*10 }}
}

// Solve answers a challenge as a browser would, returning the altcha payload.
func Solve(t testing.TB, ch pow.Challenge) string {
	t.Helper()
	n, err := pow.Solve(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	return pow.EncodePayload(ch, n)
}
