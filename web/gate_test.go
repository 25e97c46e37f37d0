package web_test

import (
	"context"
	"encoding/json"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/antibot/guard/guardtest"
	"github.com/startline/startline/antibot/pow"
	"github.com/startline/startline/internal/httpkit"
)

// deadRedisURL points at a closed port: every Redis call fails fast.
const deadRedisURL = "redis://127.0.0.1:1/0"

// solvedProof is a valid proof of work made with the test guard's key, for
// requests that must get past the proof check without Redis.
func solvedProof(t *testing.T) string {
	t.Helper()
	ch, err := pow.Issuer{Key: []byte("test-pow-key")}.New(time.Now(), 2000)
	if err != nil {
		t.Fatal(err)
	}
	return guardtest.Solve(t, ch)
}

// TestRedisDownFailClosedForms: with the limiter failing closed
// (STARTLINE_RATELIMIT_ON_REDIS_ERROR=closed) and Redis unreachable, every
// form the gate guards answers 503 with the translated unavailable page and
// Retry-After, and the outage is logged (once), never a bare 429.
func TestRedisDownFailClosedForms(t *testing.T) {
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s := newSiteGuard(t, true, guardtest.Options{FailOpen: false, RedisURL: deadRedisURL}, nil, log)
	apply := url.Values{"subqueue": {"half:open"}, "name": {"Kim Minjun"}, "email": {"down@example.com"},
		"phone": {"010-1234-5678"}, "birth_date": {"1990-04-01"}, "consents.privacy": {"default-2"}, "consents.waiver": {"default-2"}, "otp": {"123456"}, "idem": {"web-down"},
		"started": {strconv.FormatInt(time.Now().Add(-time.Minute).UnixMilli(), 10)}, "altcha": {solvedProof(t)}}
	for _, tc := range []struct {
		name, path string
		form       url.Values
		lang       string
		want       string
	}{
		{"code form", "/events/spring/apply/code", url.Values{"subqueue": {"half:open"}, "email": {"down@example.com"}, "consents.privacy": {"default-2"}, "consents.waiver": {"default-2"}}, "", "briefly unavailable"},
		{"code form in Korean", "/events/spring/apply/code", url.Values{"subqueue": {"half:open"}, "email": {"down@example.com"}, "consents.privacy": {"default-2"}, "consents.waiver": {"default-2"}}, "ko", "서비스를 잠시 이용할 수 없습니다"},
		{"apply form", "/events/spring/apply", apply, "", "briefly unavailable"},
		{"staff login", "/staff/login", url.Values{"email": {"org@example.com"}, "password": {"x"}, "otp": {"000000"}}, "", "briefly unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if tc.lang != "" {
				path += "?lang=" + tc.lang
			}
			code, body, hdr := s.post(path, tc.form)
			if code != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503: %.300s", code, body)
			}
			if ra := hdr.Get("Retry-After"); ra != httpkit.RetryAfterUnavailable {
				t.Errorf("Retry-After %q, want %q", ra, httpkit.RetryAfterUnavailable)
			}
			if !strings.Contains(html.UnescapeString(body), tc.want) {
				t.Errorf("page does not say %q: %.500s", tc.want, body)
			}
		})
	}
	if n := strings.Count(logs.String(), "dependency unavailable"); n != 1 {
		t.Errorf("%d outage lines, want 1:\n%s", n, logs.String())
	}
}

// TestFormIdempotencyConflictBeforeProof: a form resubmitted with the same
// idempotency key but other answers and the same solved proof is refused as
// a reused key (409), not as a spent proof of work.
func TestFormIdempotencyConflictBeforeProof(t *testing.T) {
	s := newSite(t, true)
	email := "2001@example.com"
	_, body, _ := s.post("/events/spring/apply/code", url.Values{"subqueue": {"half:open"}, "name": {"Kim Minjun"},
		"email": {email}, "phone": {"010-5555-2001"}, "birth_date": {"1985-02-03"}, "consents.privacy": {"default-2"}, "consents.waiver": {"default-2"}})
	step3 := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		step3.Set(m[1], html.UnescapeString(m[2]))
	}
	var ch pow.Challenge
	m := challengeRe.FindStringSubmatch(body)
	if m == nil || json.Unmarshal([]byte(html.UnescapeString(m[1])), &ch) != nil {
		t.Fatalf("no challenge on step 3: %.400s", body)
	}
	step3.Set("altcha", guardtest.Solve(t, ch))
	msgs, _ := s.store.OutboxFor(context.Background(), email, 1)
	step3.Set("otp", codeRe.FindStringSubmatch(msgs[0].Body)[1])
	code, _, hdr := s.post("/events/spring/apply", step3)
	if code != http.StatusSeeOther {
		t.Fatalf("apply: %d", code)
	}
	receipt := hdr.Get("Location")
	if code, _, hdr := s.post("/events/spring/apply", step3); code != http.StatusSeeOther || hdr.Get("Location") != receipt {
		t.Fatalf("identical resubmit: %d %s, want the receipt %s", code, hdr.Get("Location"), receipt)
	}
	step3.Set("name", "Someone Else") // same idempotency key and solved proof, other answers
	code, body, _ = s.post("/events/spring/apply", step3)
	if code != http.StatusConflict {
		t.Fatalf("same key, other answers, spent proof: %d, want 409: %.400s", code, body)
	}
	if !strings.Contains(body, "already sent with other answers") || strings.Contains(body, "did not complete") {
		t.Errorf("the page does not say the form was sent before with other answers: %.400s", body)
	}
}
