package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestRetentionConfig: STARTLINE_RETENTION is a positive Go duration,
// 2160h (90 days) when unset; anything else stops the start.
func TestRetentionConfig(t *testing.T) {
	t.Setenv("STARTLINE_ENV", "production")
	t.Setenv("STARTLINE_SECRET_KEY", strings.Repeat("k", 40))
	for _, tc := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{{"", 2160 * time.Hour, true}, {"720h", 720 * time.Hour, true}, {"90d", 0, false}, {"-1h", 0, false}, {"0s", 0, false}} {
		t.Setenv("STARTLINE_RETENTION", tc.value)
		c, err := loadConfig(io.Discard)
		if (err == nil) != tc.ok || (tc.ok && c.Retention != tc.want) {
			t.Errorf("STARTLINE_RETENTION=%q: %v %v, want %v (ok %v)", tc.value, c.Retention, err, tc.want, tc.ok)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "STARTLINE_RETENTION")) {
			t.Errorf("STARTLINE_RETENTION=%q: the error does not name the variable: %v", tc.value, err)
		}
	}
}

// TestWorkerConcurrencyConfig: STARTLINE_WORKER_CONCURRENCY is a number
// from 1 to 1000, 10 when unset.
func TestWorkerConcurrencyConfig(t *testing.T) {
	t.Setenv("STARTLINE_ENV", "production")
	t.Setenv("STARTLINE_SECRET_KEY", strings.Repeat("k", 40))
	for _, tc := range []struct {
		value string
		want  int
		ok    bool
	}{{"", 10, true}, {"64", 64, true}, {"0", 0, false}, {"1001", 0, false}, {"ten", 0, false}} {
		t.Setenv("STARTLINE_WORKER_CONCURRENCY", tc.value)
		c, err := loadConfig(io.Discard)
		if (err == nil) != tc.ok || (tc.ok && c.WorkerConcurrency != tc.want) {
			t.Errorf("STARTLINE_WORKER_CONCURRENCY=%q: %v %v, want %v (ok %v)", tc.value, c.WorkerConcurrency, err, tc.want, tc.ok)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "STARTLINE_WORKER_CONCURRENCY")) {
			t.Errorf("STARTLINE_WORKER_CONCURRENCY=%q: the error does not name the variable: %v", tc.value, err)
		}
	}
}
