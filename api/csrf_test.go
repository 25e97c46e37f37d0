package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/startline/startline/internal/httpkit"
)

// TestCookieStateChangeNeedsCSRF: a page on another site posts a review
// decision as text/plain (no preflight) with the reviewer's cookie; it is
// refused and changes nothing. The console's own requests, and scripts with
// bearer tokens, still work.
func TestCookieStateChangeNeedsCSRF(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	flagged := func(email string) string {
		t.Helper()
		b := e.applyBody(email, e.otp("spring", email))
		b["signals"] = map[string]any{"webdriver": true, "fill_ms": 30000}
		r := e.do("POST", "/api/v1/events/spring/entries", b)
		if r.str("status") != "in_review" {
			t.Fatalf("%s: %s", email, r.Raw)
		}
		return r.str("entry_id")
	}
	ids := []string{flagged("a@example.com"), flagged("b@example.com"), flagged("c@example.com"),
		flagged("d@example.com"), flagged("e@example.com")}
	login, cookie := e.login("rev@example.com", e.clock.Now())
	token := login.str("csrf_token")
	if cookie == "" || token == "" {
		t.Fatalf("login: %s", login.Raw)
	}
	status := func(id string) string {
		var s string
		e.store.DB().Raw("SELECT status FROM entries WHERE id = ?", id).Scan(&s)
		return s
	}
	const body = `{"decision":"reject","note":"forged"}`
	refused := []struct {
		name    string
		headers []string
	}{
		{"evil Origin, text/plain", []string{"Origin", "https://evil.example", "Content-Type", "text/plain"}},
		{"evil Origin, form encoded", []string{"Origin", "https://evil.example", "Content-Type", "application/x-www-form-urlencoded"}},
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain"}},
		{"Sec-Fetch-Site same-site (a sibling subdomain)", []string{"Sec-Fetch-Site", "same-site", "Origin", e.srv.URL}},
		{"Origin null", []string{"Origin", "null"}},
		{"no Origin, no token", nil},
		{"a wrong token", []string{"X-CSRF-Token", "forged", "Origin", "https://evil.example"}},
		{"another session's token", []string{"X-CSRF-Token", httpkit.CSRFToken([]byte("test-cookie-key"), "sls_other")}},
	}
	for _, tt := range refused {
		r := e.do("POST", "/api/v1/review/entries/"+ids[0]+"/decision", body, append([]string{"Cookie", cookie}, tt.headers...)...)
		if r.Status != http.StatusForbidden || r.errCode() != "csrf_failed" {
			t.Errorf("%s: %d %s, want 403 csrf_failed", tt.name, r.Status, r.Raw)
		}
	}
	if got := status(ids[0]); got != "in_review" {
		t.Fatalf("a refused request changed the entry: %s", got)
	}
	// A forged logout is refused too: the session lives on.
	if r := e.do("POST", "/api/v1/staff/logout", nil, "Cookie", cookie, "Origin", "https://evil.example"); r.Status != http.StatusForbidden {
		t.Errorf("cross-site logout: %d", r.Status)
	}
	if e.queueAs(cookie) != http.StatusNotFound {
		t.Error("the session ended on a cross-site logout")
	}
	// Reads need no token.
	if r := e.do("GET", "/api/v1/review/entries/"+ids[0], nil, "Cookie", cookie, "Origin", "https://evil.example"); r.Status != 200 {
		t.Errorf("GET with the cookie: %d", r.Status)
	}

	allowed := []struct {
		name    string
		id      string
		headers []string
	}{
		{"same-origin Origin", ids[1], []string{"Cookie", cookie, "Origin", e.srv.URL}},
		{"Sec-Fetch-Site same-origin", ids[2], []string{"Cookie", cookie, "Sec-Fetch-Site", "same-origin"}},
		{"the session's CSRF token", ids[3], []string{"Cookie", cookie, httpkit.CSRFHeader, token}},
		{"a bearer token, whatever the Origin", ids[4], []string{"Authorization", "Bearer " + e.reviewer, "Origin", "https://evil.example"}},
	}
	for _, tt := range allowed {
		r := e.do("POST", "/api/v1/review/entries/"+tt.id+"/decision", map[string]any{"decision": "reject", "note": tt.name}, tt.headers...)
		if r.Status != 200 || status(tt.id) != "rejected" {
			t.Errorf("%s: %d %s, entry %s", tt.name, r.Status, r.Raw, status(tt.id))
		}
	}
}

func TestStaffLoginFromAnotherSiteRefused(t *testing.T) {
	e := newEnv(t, true)
	code := func(headers ...string) int {
		t.Helper()
		e.clock.Add(time.Minute) // a fresh TOTP step
		r, _ := e.loginWith("rev@example.com", headers...)
		return r.Status
	}
	if got := code("Origin", "https://evil.example"); got != http.StatusForbidden {
		t.Errorf("login posted from another site: %d, want 403", got)
	}
	if got := code("Origin", e.srv.URL); got != http.StatusOK {
		t.Errorf("login from the site: %d", got)
	}
	if got := code(); got != http.StatusOK {
		t.Errorf("login from a script: %d", got)
	}
}
