package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"

	abredis "github.com/startline/startline/antibot/redis"
)

func TestProofOfWork(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	ch := e.do("POST", "/api/v1/events/spring/challenge", nil)
	for _, f := range []string{"algorithm", "challenge", "salt", "signature"} {
		if ch.str(f) == "" {
			t.Errorf("challenge lacks %s: %s", f, ch.Raw)
		}
	}
	if ch.str("algorithm") != "SHA-256" || ch.Body["maxnumber"] == nil {
		t.Errorf("challenge: %s", ch.Raw)
	}
	var device *http.Cookie
	for _, c := range (&http.Response{Header: ch.Header}).Cookies() {
		if c.Name == "sl_device" {
			device = c
		}
	}
	if device == nil || !device.HttpOnly {
		t.Fatalf("no signed sl_device cookie set: %v", ch.Header)
	}
	withCookie := e.do("POST", "/api/v1/events/spring/challenge", nil, "Cookie", "sl_device="+device.Value)
	forged := e.do("POST", "/api/v1/events/spring/challenge", nil, "Cookie", "sl_device=AAAAAAAAAAAAAAAAAAAAAA.forged")
	if withCookie.Body["maxnumber"].(float64) >= ch.Body["maxnumber"].(float64) ||
		forged.Body["maxnumber"].(float64) != ch.Body["maxnumber"].(float64) {
		t.Errorf("difficulty: no cookie %v, signed cookie %v, forged cookie %v", ch.Body["maxnumber"],
			withCookie.Body["maxnumber"], forged.Body["maxnumber"])
	}

	code := e.otp("spring", "pow@example.com")
	tests := []struct {
		name   string
		altcha string
	}{
		{"missing", ""},
		{"not base64", "%%%"},
		{"tampered", func() string { a := []byte(e.altcha("spring")); a[10] ^= 1; return string(a) }()},
	}
	for _, tt := range tests {
		b := e.applyBody("pow@example.com", code)
		b["altcha"] = tt.altcha
		r := e.do("POST", "/api/v1/events/spring/entries", b)
		if r.Status != 422 || r.errCode() != "invalid_proof_of_work" || r.errField("field") != "altcha" {
			t.Errorf("%s: got %d %s", tt.name, r.Status, r.Raw)
		}
	}
	// A solution is spent by its first request; another request cannot reuse it.
	b := e.applyBody("pow@example.com", code)
	if r := e.do("POST", "/api/v1/events/spring/entries", b); r.Status != 201 {
		t.Fatalf("valid: %d %s", r.Status, r.Raw)
	}
	other := e.applyBody("pow2@example.com", e.otp("spring", "pow2@example.com"))
	other["altcha"] = b["altcha"]
	if r := e.do("POST", "/api/v1/events/spring/entries", other); r.Status != 422 || r.errCode() != "invalid_proof_of_work" {
		t.Errorf("replayed solution: got %d %s", r.Status, r.Raw)
	}
	if n := e.countEntries(); n != 1 {
		t.Errorf("entries: %d", n)
	}
}

// TestEventLimit: code requests, applies and joins of one event share the
// event's budget, whoever sends them; another event is not affected.
func TestEventLimit(t *testing.T) {
	rules := append([]abredis.Rule{{Kind: abredis.KindEvent, Rate: limiter.Rate{Limit: 3, Period: time.Minute}}}, generous[:5]...)
	e := newEnvRules(t, true, rules, true)
	e.openEvent("spring")
	for i := range 3 {
		if r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": fmt.Sprintf("r%d@example.com", i)}); r.Status != 202 {
			t.Fatalf("code request %d: %d %s", i, r.Status, r.Raw)
		}
	}
	for name, r := range map[string]resp{
		"code request": e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "late@example.com"}),
		"apply":        e.do("POST", "/api/v1/events/spring/entries", e.applyBody("late@example.com", "123456")),
		"join": e.do("POST", "/api/v1/events/spring/queue", map[string]any{"course": "half", "pace_group": "fcfs",
			"email": "late@example.com", "altcha": e.altcha("spring")}),
	} {
		if r.Status != http.StatusTooManyRequests || r.errCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s over the event's budget: %d %s", name, r.Status, r.Raw)
		}
	}
	// Reads are not counted.
	if r := e.do("GET", "/api/v1/events/spring", nil); r.Status != 200 {
		t.Errorf("event read: %d", r.Status)
	}
}

func TestRateLimits(t *testing.T) {
	rules := append([]abredis.Rule{
		{Kind: abredis.KindIP, Rate: limiter.Rate{Limit: 6, Period: time.Minute}},
		{Kind: abredis.KindOTPEmail, Rate: limiter.Rate{Limit: 2, Period: 10 * time.Minute}},
	}, generous[1], generous[2], generous[5])
	e := newEnvRules(t, true, rules, true)
	e.openEvent("spring")
	for i := 0; i < 2; i++ {
		if r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "a.b@gmail.com"}); r.Status != 202 {
			t.Fatalf("otp %d: %d", i, r.Status)
		}
	}
	// The third code for the same person (a Gmail variant counts as the same) is refused.
	r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "ab+x@gmail.com"})
	if r.Status != http.StatusTooManyRequests || r.errCode() != "rate_limited" {
		t.Fatalf("third otp: %d %s", r.Status, r.Raw)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 600 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	if r.Header.Get("RateLimit-Limit") != "2" || r.Header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("rate-limit headers: %v", r.Header)
	}
	var otps int64
	e.store.DB().Raw("SELECT count(*) FROM outbox").Scan(&otps)
	if otps != 2 {
		t.Errorf("refused request still queued mail: %d messages", otps)
	}
	// Another address is fine until the IP budget (6 per minute) runs out;
	// the refused request above spent none of it.
	for i := 0; i < 4; i++ {
		e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "other" + strconv.Itoa(i) + "@example.com"})
	}
	if r := e.do("POST", "/api/v1/events/spring/challenge", nil); r.Status != http.StatusTooManyRequests {
		t.Errorf("IP budget: got %d, want 429", r.Status)
	}
	// Behind a proxy that is not trusted, X-Forwarded-For changes nothing.
	if r := e.do("POST", "/api/v1/events/spring/challenge", nil, "X-Forwarded-For", "203.0.113.9"); r.Status != http.StatusTooManyRequests {
		t.Errorf("spoofed X-Forwarded-For escaped the limit: %d", r.Status)
	}
}

func TestRedisDown(t *testing.T) {
	for _, tt := range []struct {
		name     string
		failOpen bool
		want     int
	}{{"fail open", true, http.StatusAccepted}, {"fail closed", false, http.StatusServiceUnavailable}} {
		t.Run(tt.name, func(t *testing.T) {
			redisURLOverride[t] = deadRedisURL
			e := newEnvRules(t, true, generous, tt.failOpen)
			delete(redisURLOverride, t)
			e.openEvent("spring")
			r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "down@example.com"})
			if r.Status != tt.want {
				t.Errorf("otp with Redis down: got %d %s, want %d", r.Status, r.Raw, tt.want)
			}
		})
	}
}
