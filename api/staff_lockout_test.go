package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/ulule/limiter/v3"

	abredis "github.com/startline/startline/antibot/redis"
	"github.com/startline/startline/lottery/staff"
)

// lockoutEnv serves with the production staff login rules (accountWindow
// replaces staff_account's minute when set, so a test can outwait it) and
// believes X-Forwarded-For from loopback, so requests come from any address.
func lockoutEnv(t *testing.T, accountWindow time.Duration) *env {
	t.Helper()
	trustedProxiesOverride[t] = []string{"127.0.0.1/32", "::1/128"}
	t.Cleanup(func() { delete(trustedProxiesOverride, t) })
	rules := abredis.DefaultRules()
	for i, r := range rules {
		if r.Kind == abredis.KindStaffAccount && accountWindow > 0 {
			rules[i].Rate = limiter.Rate{Limit: r.Rate.Limit, Period: accountWindow}
		}
	}
	return newEnvRules(t, true, rules, true)
}

// attempt posts a staff login from ip with the device cookie (if any), with
// the right password and current code when right is set.
func attempt(e *env, email, ip, device string, right bool) resp {
	e.t.Helper()
	password, code := "wrong password "+ip, "000000"
	if right {
		e.clock.Add(time.Minute) // a fresh TOTP step: each code works once
		password, _ = staffPassword, ""
		code, _ = totp.GenerateCode(e.totp[email], e.clock.Now())
	}
	h := []string{"X-Forwarded-For", ip, "User-Agent", browserUA}
	if device != "" {
		h = append(h, "Cookie", device)
	}
	return e.do("POST", "/api/v1/staff/login", map[string]any{"email": email, "password": password, "otp": code}, h...)
}

// deviceCookie returns the sl_device cookie a response set, as a Cookie header.
func deviceCookie(t *testing.T, r resp) string {
	t.Helper()
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "sl_device" {
			return "sl_device=" + c.Value
		}
	}
	t.Fatalf("no device cookie set: %v", r.Header)
	return ""
}

func retryAfter(r resp) time.Duration {
	s, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	return time.Duration(s) * time.Second
}

const ownerHome = "118.32.10.20" // KR in the embedded tables

// TestStaffLoginAttackDoesNotLockOutTheOwner: strangers spraying wrong
// passwords at an organizer's address from 5, then 20 addresses (once five
// from five addresses locked the owner out for 15 minutes, twenty for the
// day). The owner's browser that signed in before still gets in, on a full
// session; a new device of the owner's is at worst held back for the
// per-account window (a minute), never 15 minutes or a day.
func TestStaffLoginAttackDoesNotLockOutTheOwner(t *testing.T) {
	for _, attackers := range []int{5, 20} {
		t.Run(fmt.Sprintf("%d addresses", attackers), func(t *testing.T) {
			e := lockoutEnv(t, 0)
			const owner = "org@example.com"
			first := attempt(e, owner, ownerHome, "", true)
			if first.Status != 200 {
				t.Fatalf("owner's first login: %d %s", first.Status, first.Raw)
			}
			known := deviceCookie(t, first)

			for i := range attackers {
				r := attempt(e, owner, fmt.Sprintf("203.0.113.%d", i+1), "", false)
				switch r.Status {
				case http.StatusUnauthorized:
				case http.StatusTooManyRequests:
					if ra := retryAfter(r); ra <= 0 || ra > time.Minute {
						t.Errorf("attacker %d held back for %s: the window is a minute", i, ra)
					}
				default:
					t.Fatalf("attacker %d: %d %s", i, r.Status, r.Raw)
				}
			}

			// The owner's known browser, from home: in, on a full session.
			r := attempt(e, owner, ownerHome, known, true)
			if r.Status != 200 {
				t.Fatalf("owner on a known device after %d attacking addresses: %d %s", attackers, r.Status, r.Raw)
			}
			if got, want := expiresAt(t, r), e.clock.Now().Add(staff.SessionTTL); !got.Equal(want) {
				t.Errorf("owner's session until %s, want %s (strangers' failures do not shorten it)", got, want)
			}
			// From a device never used for this account: the strangers have
			// spent the account's window, so it waits for the window's end,
			// at most a minute, never 15 minutes or a day.
			r = attempt(e, owner, "118.32.10.99", "", true)
			if ra := retryAfter(r); r.Status != http.StatusTooManyRequests || ra <= 0 || ra > time.Minute {
				t.Errorf("owner on a new device: %d Retry-After %q, want 429 for at most a minute", r.Status,
					r.Header.Get("Retry-After"))
			}
		})
	}
}

// TestStaffLoginOwnerOnNewDeviceIsOnlySlowed: with the per-account window
// shortened to 2 s, a new device of the owner's gets in once the window
// has passed, although twenty addresses just failed on the account (on a
// short session: the failures are scored for devices the account does not
// know).
func TestStaffLoginOwnerOnNewDeviceIsOnlySlowed(t *testing.T) {
	e := lockoutEnv(t, 2*time.Second)
	const owner = "org@example.com"
	if r := attempt(e, owner, ownerHome, "", true); r.Status != 200 {
		t.Fatalf("owner's first login: %d %s", r.Status, r.Raw)
	}
	failed := 0
	for i := range 20 {
		// Paced under the window, so every guess is checked and counted.
		if i > 0 && i%5 == 0 {
			time.Sleep(2100 * time.Millisecond)
		}
		if r := attempt(e, owner, fmt.Sprintf("198.51.100.%d", i+1), "", false); r.Status == http.StatusUnauthorized {
			failed++
		}
	}
	if failed < 10 {
		t.Fatalf("only %d attacker guesses were checked; the test needs the account's failures to count", failed)
	}
	r := attempt(e, owner, "118.32.10.99", "", true)
	if r.Status == http.StatusTooManyRequests {
		if ra := retryAfter(r); ra > 2*time.Second {
			t.Fatalf("owner held back %s", ra)
		}
		time.Sleep(2100 * time.Millisecond)
		r = attempt(e, owner, "118.32.10.99", "", true)
	}
	if r.Status != 200 {
		t.Fatalf("owner on a new device after the window: %d %s", r.Status, r.Raw)
	}
	if got, want := expiresAt(t, r), e.clock.Now().Add(staff.RiskySessionTTL); !got.Equal(want) {
		t.Errorf("owner's new-device session until %s, want the short one %s", got, want)
	}
}

// TestStaffLoginAttackerAddressRefused: one address that keeps failing
// spends its own budget (10 failures per 15 minutes) and is then refused on
// every account, while the owner, from elsewhere, is not. Only failures
// count: attempts held back by an account's window spend nothing, so the
// attacker needs ten checked failures (five on org, five on addresses of
// no account, whose failures count the same).
func TestStaffLoginAttackerAddressRefused(t *testing.T) {
	e := lockoutEnv(t, 0)
	const attacker = "192.0.2.66"
	first := attempt(e, "rev@example.com", ownerHome, "", true)
	if first.Status != 200 {
		t.Fatalf("reviewer's first login: %d", first.Status)
	}
	for i := range 10 {
		email := "org@example.com"
		if i >= 5 { // org's minute window holds 5 failures
			email = fmt.Sprintf("ghost%d@example.com", i)
		}
		if r := attempt(e, email, attacker, "", false); r.Status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s, want a checked failure", i, r.Status, r.Raw)
		}
	}
	// Refused on an account whose own budget is untouched: the address is spent.
	r := attempt(e, "rev@example.com", attacker, "", true)
	if r.Status != http.StatusTooManyRequests || retryAfter(r) < 10*time.Minute {
		t.Errorf("attacker's address on a fresh account: %d Retry-After %s, want 429 for the rest of 15 minutes",
			r.Status, retryAfter(r))
	}
	if r := attempt(e, "rev@example.com", ownerHome, deviceCookie(t, first), true); r.Status != 200 {
		t.Errorf("the reviewer from home: %d %s", r.Status, r.Raw)
	}
}

// TestStaffKnownDevices: a device becomes known to an account by an
// unremarkable sign-in (not by a risky one, which may be an intruder's),
// only to that account, and is forgotten when the account is reset.
func TestStaffKnownDevices(t *testing.T) {
	e := lockoutEnv(t, 0)
	ctx := t.Context()
	first := attempt(e, "org@example.com", ownerHome, "", true)
	if first.Status != 200 {
		t.Fatalf("login: %d", first.Status)
	}
	cookie := deviceCookie(t, first)
	id := cookie[len("sl_device="):][:22] // the id, without its signature
	known := func(email string) bool {
		t.Helper()
		k, err := e.staff.DeviceKnown(ctx, email, id)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if !known("org@example.com") || !known(" ORG@example.com") {
		t.Error("the device that signed in is not known")
	}
	if known("rev@example.com") || known("nobody@example.com") {
		t.Error("the device is known to another account")
	}
	// A short-session login (a script's user agent) does not make its device known.
	e.clock.Add(time.Minute)
	code, _ := totp.GenerateCode(e.totp["rev@example.com"], e.clock.Now())
	r := e.do("POST", "/api/v1/staff/login", map[string]any{"email": "rev@example.com", "password": staffPassword, "otp": code},
		"X-Forwarded-For", ownerHome, "User-Agent", "curl/8.0", "Cookie", cookie)
	if r.Status != 200 || known("rev@example.com") {
		t.Errorf("risky login: %d, device known %v", r.Status, known("rev@example.com"))
	}
	if _, _, err := e.staff.Reset(ctx, "org@example.com", ""); err != nil {
		t.Fatal(err)
	}
	if known("org@example.com") {
		t.Error("reset did not forget the account's devices")
	}
}
