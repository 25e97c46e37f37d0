package staff

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/internal/testrand"
	"github.com/startline/startline/lottery"
)

// TestTOTPStep: a code is accepted for its own 30-second step and one step
// either side (clock skew), and names the step it belongs to, so the store
// can refuse its reuse; anything else is refused.
func TestTOTPStep(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXP"
	now := time.Date(2027, 3, 1, 9, 0, 15, 0, time.UTC)
	codeAt := func(at time.Time) string {
		c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix,
			Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		name     string
		code     string
		wantOK   bool
		wantStep int64
	}{
		{"this step", codeAt(now), true, now.Unix() / 30},
		{"the step before", codeAt(now.Add(-30 * time.Second)), true, now.Unix()/30 - 1},
		{"the step after", codeAt(now.Add(30 * time.Second)), true, now.Unix()/30 + 1},
		{"two steps old", codeAt(now.Add(-60 * time.Second)), false, 0},
		{"not digits", "abcdef", false, 0},
		{"empty", "", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step, ok := totpStep(secret, tc.code, now)
			if ok != tc.wantOK || step != tc.wantStep {
				t.Errorf("totpStep = %d, %v; want %d, %v", step, ok, tc.wantStep, tc.wantOK)
			}
		})
	}
}

// TestTokenRulesWithoutStore: a token lifetime out of bounds is a field
// error, and a bearer that is not a token or a session of ours is
// unauthorized, both before persistence is asked anything (the store here
// is nil and would panic).
func TestTokenRulesWithoutStore(t *testing.T) {
	s := newRandomService(t, &testrand.Counter{})
	ctx := context.Background()
	for _, ttl := range []time.Duration{0, MinTokenTTL - time.Second, MaxTokenTTL + time.Hour, -time.Hour} {
		if _, _, err := s.IssueTokenTTL(ctx, "org@example.com", ttl); lottery.CodeOf(err) != lottery.CodeInvalidField {
			t.Errorf("ttl %s: %v, want invalid_field", ttl, err)
		}
	}
	for _, tok := range []string{"", "Bearer x", "abc", tokenPrefix + strings.Repeat("a", 200),
		sessionPrefix + strings.Repeat("a", 200)} {
		if _, err := s.Authenticate(ctx, tok); lottery.CodeOf(err) != lottery.CodeUnauthorized {
			t.Errorf("Authenticate(%.12q): %v, want unauthorized", tok, err)
		}
	}
}
