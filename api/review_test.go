package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// login signs a staff member in with password and the current TOTP code
// and returns the session cookie header.
func (e *env) login(email string, at time.Time) (resp, string) {
	e.t.Helper()
	code, err := totp.GenerateCode(e.totp[email], at)
	if err != nil {
		e.t.Fatal(err)
	}
	r := e.do("POST", "/api/v1/staff/login", map[string]any{"email": email, "password": "correct horse battery staple", "otp": code})
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "sl_staff" && c.Value != "" {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				e.t.Errorf("session cookie attributes: %+v", c)
			}
			return r, "sl_staff=" + c.Value
		}
	}
	return r, ""
}

func TestStaffLogin(t *testing.T) {
	e := newEnv(t, true)
	bad := []struct {
		name string
		body map[string]any
	}{
		{"wrong password", map[string]any{"email": "rev@example.com", "password": "guess", "otp": "123456"}},
		{"unknown staff", map[string]any{"email": "nobody@example.com", "password": "correct horse battery staple", "otp": "123456"}},
		{"wrong code", map[string]any{"email": "rev@example.com", "password": "correct horse battery staple", "otp": "000000"}},
	}
	for _, tt := range bad {
		r := e.do("POST", "/api/v1/staff/login", tt.body)
		if r.Status != http.StatusUnauthorized || r.errCode() != "invalid_credentials" {
			t.Errorf("%s: got %d %s", tt.name, r.Status, r.Raw)
		}
	}
	now := e.clock.Now()
	r, cookie := e.login("rev@example.com", now)
	if r.Status != 200 || cookie == "" || r.str("role") != "reviewer" {
		t.Fatalf("login: %d %s", r.Status, r.Raw)
	}
	if again, _ := e.login("rev@example.com", now); again.Status != http.StatusUnauthorized {
		t.Errorf("a TOTP code worked twice: %d", again.Status)
	}
	if q := e.do("GET", "/api/v1/review/queue?event=none", nil, "Cookie", cookie); q.Status != http.StatusNotFound {
		t.Errorf("session not accepted: %d %s", q.Status, q.Raw)
	}
	if q := e.do("POST", "/api/v1/admin/events", eventBody("x"), "Cookie", cookie, "Origin", e.srv.URL); q.Status != http.StatusForbidden {
		t.Errorf("reviewer session on an organizer route: %d", q.Status)
	}
	e.do("POST", "/api/v1/staff/logout", nil, "Cookie", cookie, "Origin", e.srv.URL)
	if q := e.do("GET", "/api/v1/review/queue?event=none", nil, "Cookie", cookie); q.Status != http.StatusUnauthorized {
		t.Errorf("session after logout: %d", q.Status)
	}
	var audits int64
	e.store.DB().Raw("SELECT count(*) FROM audit_log WHERE action IN ('staff.login', 'staff.login_failed')").Scan(&audits)
	if audits < 4 {
		t.Errorf("login attempts audited: %d", audits)
	}
}

func TestReviewQueue(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	flag := func(email string, signals map[string]any) string {
		b := e.applyBody(email, e.otp("spring", email))
		b["signals"] = signals
		r := e.do("POST", "/api/v1/events/spring/entries", b)
		if r.str("status") != "in_review" {
			t.Fatalf("%s: %s", email, r.Raw)
		}
		return r.str("entry_id")
	}
	bot := flag("bot@example.com", map[string]any{"webdriver": true, "fill_ms": 30000, "fingerprint": "ffaa11"})
	// A quick but human entry on the same device fingerprint: accepted, and linked to the bot.
	quick := e.applyBody("quick@example.com", e.otp("spring", "quick@example.com"))
	quick["signals"] = map[string]any{"webdriver": false, "fill_ms": 900, "fingerprint": "ffaa11"}
	qr := e.do("POST", "/api/v1/events/spring/entries", quick)
	if qr.str("status") != "received" {
		t.Fatalf("quick human: %s", qr.Raw)
	}
	clean := e.do("POST", "/api/v1/events/spring/entries", e.applyBody("ok@example.com", e.otp("spring", "ok@example.com")))

	_, cookie := e.login("rev@example.com", e.clock.Now())
	q := e.do("GET", "/api/v1/review/queue?event=spring", nil, "Cookie", cookie)
	items, _ := q.Body["entries"].([]any)
	if q.Status != 200 || len(items) != 1 || items[0].(map[string]any)["entry_id"] != bot {
		t.Fatalf("queue: %d %s", q.Status, q.Raw)
	}
	first := items[0].(map[string]any)
	if first["risk_score"].(float64) < 50 || first["reasons"].([]any)[0].(map[string]any)["code"] != "webdriver" {
		t.Errorf("queue item: %v", first)
	}
	if f := e.do("GET", "/api/v1/review/queue?event=spring&reason=fast_fill", nil, "Cookie", cookie); len(f.Body["entries"].([]any)) != 0 {
		t.Errorf("reason filter: %s", f.Raw)
	}

	d := e.do("GET", "/api/v1/review/entries/"+bot, nil, "Cookie", cookie)
	if d.Status != 200 || d.str("email") != "bot@example.com" || d.str("fingerprint") != "ffaa11" || d.str("user_agent") == "" {
		t.Fatalf("detail: %d %s", d.Status, d.Raw)
	}
	found := false
	for _, l := range d.Body["linked"].([]any) {
		found = found || l.(map[string]any)["entry_id"] == qr.str("entry_id")
	}
	if !found {
		t.Errorf("entry sharing the fingerprint is not linked: %s", d.Raw)
	}

	if r := e.do("POST", "/api/v1/review/entries/"+bot+"/decision", map[string]any{"decision": "reject"}, "Cookie", cookie, "Origin", e.srv.URL); r.Status != 422 || r.errField("field") != "note" {
		t.Errorf("reject without a note: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/review/entries/"+bot+"/decision", map[string]any{"decision": "maybe", "note": "x"}, "Cookie", cookie, "Origin", e.srv.URL); r.Status != 422 {
		t.Errorf("unknown decision: %d", r.Status)
	}
	if r := e.do("POST", "/api/v1/review/entries/"+bot+"/decision", map[string]any{"decision": "reject", "note": "webdriver, shared fingerprint"}, "Cookie", cookie, "Origin", e.srv.URL); r.Status != 200 {
		t.Fatalf("reject: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/review/entries/"+bot+"/decision", map[string]any{"decision": "approve"}, "Cookie", cookie, "Origin", e.srv.URL); r.Status != http.StatusConflict {
		t.Errorf("decide twice: %d", r.Status)
	}
	if r := e.do("POST", "/api/v1/review/entries/"+clean.str("entry_id")+"/decision", map[string]any{"decision": "approve"}, "Authorization", "Bearer "+e.reviewer); r.Status != http.StatusConflict {
		t.Errorf("approve an entry not in review: %d", r.Status)
	}
	var kinds []string
	e.store.DB().Raw("SELECT action FROM audit_log WHERE target = ? ORDER BY id", bot).Scan(&kinds)
	if strings.Join(kinds, ",") != "review.view,review.reject" {
		t.Errorf("audit trail: %v", kinds)
	}
	var to string
	e.store.DB().Raw("SELECT to_status FROM event_log WHERE entry_id = ? AND kind = 'entry.review'", bot).Scan(&to)
	if to != "rejected" {
		t.Errorf("event log: %q", to)
	}
	if r := e.do("GET", "/api/v1/review/queue?event=spring", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("queue without staff: %d", r.Status)
	}
}
