package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// Issue 14 (i14-login): staff login limits count failures only.

// TestStaffLoginSuccessesSpendNoBudget: a team on one office network signs
// in many times in a row (more than the address's 10 and each account's 5
// per window) and every login succeeds: a success spends no budget.
func TestStaffLoginSuccessesSpendNoBudget(t *testing.T) {
	e := lockoutEnv(t, 0)
	const office = "118.32.10.50"
	for i := range 24 {
		email := []string{"org@example.com", "rev@example.com"}[i%2]
		if r := attempt(e, email, office, "", true); r.Status != 200 {
			t.Fatalf("login %d (%s) from the office: %d %s", i+1, email, r.Status, r.Raw)
		}
	}
}

// TestStaffLoginFailuresThenRefusedThenWindow: an account's window holds 5
// failures; after them even the right password is refused with
// rate_limited until the window passes, then it gets in. The failures
// from one address count towards its own budget only as failures:
// successes in between do not add to it.
func TestStaffLoginFailuresThenRefusedThenWindow(t *testing.T) {
	// The window must outlast 6 bcrypt checks; under -race on a busy
	// machine it may not, and the account's window passes before the test
	// looks: then the test runs again with a longer one rather than
	// judging a limit it could not reach.
	const owner, ip = "org@example.com", "118.32.10.60"
	var e *env
	var r resp
	var window time.Duration
	for _, window = range []time.Duration{8 * time.Second, 20 * time.Second, 45 * time.Second} {
		e = lockoutEnv(t, window)
		start := time.Now()
		for i := range 5 {
			if r := attempt(e, owner, ip, "", false); r.Status != http.StatusUnauthorized || r.errCode() != "invalid_credentials" {
				t.Fatalf("failure %d: %d %s", i+1, r.Status, r.Raw)
			}
		}
		r = attempt(e, owner, ip, "", true)
		if r.Status == http.StatusOK && time.Since(start) >= window {
			t.Logf("6 logins took %s, past the %s window: again with a longer one", time.Since(start), window)
			continue
		}
		break
	}
	if r.Status != http.StatusTooManyRequests || r.errCode() != "rate_limited" {
		t.Fatalf("after 5 failures: %d %s, want 429 rate_limited", r.Status, r.Raw)
	}
	if ra := retryAfter(r); ra <= 0 || ra > window {
		t.Errorf("Retry-After %s, want within the %s window", ra, window)
	}
	// A refused attempt spends nothing: still refused, still within the window.
	if r := attempt(e, owner, ip, "", false); r.Status != http.StatusTooManyRequests {
		t.Fatalf("wrong password while refused: %d %s", r.Status, r.Raw)
	}
	time.Sleep(retryAfter(r) + 100*time.Millisecond)
	if r := attempt(e, owner, ip, "", true); r.Status != 200 {
		t.Fatalf("after the window: %d %s", r.Status, r.Raw)
	}
	// The address has spent 5 of its 10 failures; successes in between add none.
	for i := range 4 {
		if r := attempt(e, owner, ip, "", true); r.Status != 200 {
			t.Fatalf("success %d after the window: %d %s", i+1, r.Status, r.Raw)
		}
	}
	for i := range 5 {
		email := fmt.Sprintf("ghost%d@example.com", i)
		if r := attempt(e, email, ip, "", false); r.Status != http.StatusUnauthorized {
			t.Fatalf("address failure %d: %d %s", 6+i, r.Status, r.Raw)
		}
	}
	if r := attempt(e, "rev@example.com", ip, "", true); r.Status != http.StatusTooManyRequests || retryAfter(r) < 10*time.Minute {
		t.Errorf("address after 10 failures: %d Retry-After %s, want 429 for the rest of 15 minutes", r.Status, retryAfter(r))
	}
}

// TestStaffLoginReusedTOTP: a code that already signed in is refused, with
// the right password, as totp_reused (not invalid_credentials), and counts
// as a failure.
func TestStaffLoginReusedTOTP(t *testing.T) {
	e := lockoutEnv(t, 0)
	const owner = "org@example.com"
	e.clock.Add(time.Minute)
	code, err := totp.GenerateCode(e.totp[owner], e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	login := func() resp {
		return e.do("POST", "/api/v1/staff/login", map[string]any{"email": owner, "password": staffPassword, "otp": code},
			"X-Forwarded-For", ownerHome, "User-Agent", browserUA)
	}
	if r := login(); r.Status != 200 {
		t.Fatalf("first use: %d %s", r.Status, r.Raw)
	}
	r := login()
	if r.Status != http.StatusUnauthorized || r.errCode() != "totp_reused" || r.errField("field") != "otp" ||
		r.errField("message") != "this code was already used; wait for the next one" {
		t.Fatalf("reused code: %d %s", r.Status, r.Raw)
	}
	// A wrong password with the used code is still just wrong credentials.
	r = e.do("POST", "/api/v1/staff/login", map[string]any{"email": owner, "password": "wrong", "otp": code},
		"X-Forwarded-For", ownerHome, "User-Agent", browserUA)
	if r.Status != http.StatusUnauthorized || r.errCode() != "invalid_credentials" {
		t.Fatalf("wrong password with a used code: %d %s", r.Status, r.Raw)
	}
	// The next code works.
	if r := attempt(e, owner, ownerHome, "", true); r.Status != 200 {
		t.Fatalf("next code: %d %s", r.Status, r.Raw)
	}
}
