package redis

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHeaders(t *testing.T) {
	reset := time.Now().Add(30*time.Second - time.Millisecond)
	epoch := strconv.FormatInt(reset.Unix(), 10)
	tests := []struct {
		name string
		in   Result
		want map[string]string
	}{
		{"allowed", Result{Allowed: true, Limit: 20, Remaining: 7, Reset: reset, Kind: KindIP}, map[string]string{
			"RateLimit-Limit": "20", "RateLimit-Remaining": "7", "RateLimit-Reset": "30",
			"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": epoch,
		}},
		{"refused", Result{Allowed: false, Limit: 5, Remaining: 0, Reset: reset, RetryAfter: 30500 * time.Millisecond, Kind: KindEmail}, map[string]string{
			"RateLimit-Limit": "5", "RateLimit-Remaining": "0", "RateLimit-Reset": "30",
			"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch,
			"Retry-After": "31",
		}},
		{"refused, reset passed", Result{Allowed: false, Limit: 5, Reset: reset.Add(-time.Hour), Kind: KindEmail}, map[string]string{
			"RateLimit-Limit": "5", "RateLimit-Remaining": "0", "RateLimit-Reset": "0",
			"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset.Add(-time.Hour).Unix(), 10),
			"Retry-After": "1",
		}},
		{"no limit (failed open)", Result{Allowed: true}, map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Headers(tc.in)); diff != "" {
				t.Errorf("Headers (-want +got):\n%s", diff)
			}
		})
	}
}
