package redis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// testRedis connects to REDIS_URL (default 127.0.0.1:6379) and returns the
// client and a random key prefix; the test's keys are deleted when it ends.
func testRedis(tb testing.TB) (goredis.UniversalClient, string) {
	tb.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		tb.Fatalf("REDIS_URL: %v", err)
	}
	rdb := goredis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		tb.Fatalf("Redis at %s is not reachable (make test starts it): %v", opt.Addr, err)
	}
	var r [8]byte
	_, _ = rand.Read(r[:])
	prefix := "sltest:" + hex.EncodeToString(r[:]) + ":"
	tb.Cleanup(func() {
		defer rdb.Close()
		keys := scanKeys(tb, rdb, prefix)
		if len(keys) > 0 {
			if err := rdb.Del(context.Background(), keys...).Err(); err != nil {
				tb.Errorf("cleanup: %v", err)
			}
		}
	})
	return rdb, prefix
}

// scanKeys lists the keys under prefix.
func scanKeys(tb testing.TB, rdb goredis.UniversalClient, prefix string) []string {
	tb.Helper()
	var keys []string
	iter := rdb.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("scan %s*: %v", prefix, err)
	}
	return keys
}

// deadRedis is a client for a closed port that fails fast.
func deadRedis(tb testing.TB) goredis.UniversalClient {
	rdb := goredis.NewClient(&goredis.Options{
		Addr:               "127.0.0.1:1",
		MaxRetries:         -1,
		DialTimeout:        time.Second,
		DialerRetries:      1,
		DialerRetryTimeout: time.Millisecond,
	})
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// hungRedis is a client for a server that accepts connections and never
// answers, like a Redis stuck in a long command or behind a dead link.
func hungRedis(tb testing.TB) goredis.UniversalClient {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	rdb := goredis.NewClient(&goredis.Options{
		Addr:                  ln.Addr().String(),
		ContextTimeoutEnabled: true,
		MaxRetries:            -1,
		DialerRetries:         1,
	})
	tb.Cleanup(func() {
		_ = rdb.Close()
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return rdb
}

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
