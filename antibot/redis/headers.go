package redis

import (
	"strconv"
	"time"
)

// Headers returns the rate-limit response headers for r: RateLimit-Limit,
// RateLimit-Remaining and RateLimit-Reset (seconds until the window resets,
// IETF draft style), the X-RateLimit-* equivalents (X-RateLimit-Reset as a
// Unix time, as GitHub and ulule's own middleware send it) and, when refused,
// Retry-After in seconds. A result with no limit (no keys, or failing open)
// gets no headers.
func Headers(r Result) map[string]string {
	if r.Limit <= 0 {
		return map[string]string{}
	}
	limit := strconv.FormatInt(r.Limit, 10)
	remaining := strconv.FormatInt(max(r.Remaining, 0), 10)
	h := map[string]string{
		"RateLimit-Limit":       limit,
		"RateLimit-Remaining":   remaining,
		"RateLimit-Reset":       strconv.FormatInt(ceilSeconds(time.Until(r.Reset)), 10),
		"X-RateLimit-Limit":     limit,
		"X-RateLimit-Remaining": remaining,
		"X-RateLimit-Reset":     strconv.FormatInt(r.Reset.Unix(), 10),
	}
	if !r.Allowed {
		h["Retry-After"] = strconv.FormatInt(max(ceilSeconds(r.RetryAfter), 1), 10)
	}
	return h
}

// ceilSeconds rounds d up to whole seconds, never below zero.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
