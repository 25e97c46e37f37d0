package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/staff"
)

const (
	staffPassword = "correct horse battery staple"
	browserUA     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"
)

// riskLogin posts a staff login with the current TOTP code under a User-Agent.
func riskLogin(e *env, email, password, ua string) resp {
	e.t.Helper()
	code, err := totp.GenerateCode(e.totp[email], e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do("POST", "/api/v1/staff/login", map[string]any{"email": email, "password": password, "otp": code},
		"User-Agent", ua)
}

// sessionCookie returns the staff session cookie a response set, or nil.
func sessionCookie(r resp) *http.Cookie {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "sl_staff" && c.Value != "" {
			return c
		}
	}
	return nil
}

type loginAudit struct {
	Action  string
	Raw     string
	Risk    antibot.Assessment
	Country *string
	Details map[string]any
}

// loginAudits reads the audit records of an account's login attempts, oldest first.
func loginAudits(e *env, email string) []loginAudit {
	e.t.Helper()
	rows, err := e.store.DB().Raw(`SELECT action, details FROM audit_log WHERE target = ? AND action LIKE 'staff.login%'
		ORDER BY id`, email).Rows()
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []loginAudit
	for rows.Next() {
		var a loginAudit
		var raw []byte
		if err := rows.Scan(&a.Action, &raw); err != nil {
			e.t.Fatal(err)
		}
		a.Raw = string(raw)
		var doc struct {
			Risk    *antibot.Assessment `json:"risk"`
			Country *string             `json:"country"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			e.t.Fatal(err)
		}
		if doc.Risk == nil || doc.Country == nil {
			e.t.Errorf("%s audited without risk or country: %s", a.Action, raw)
		} else {
			a.Risk, a.Country = *doc.Risk, doc.Country
		}
		if bytes.Contains(raw, []byte("127.0.0.1")) || bytes.Contains(raw, []byte("118.32.")) ||
			bytes.Contains(raw, []byte("146.70.")) {
			e.t.Errorf("%s audit holds a client address: %s", a.Action, raw)
		}
		_ = json.Unmarshal(raw, &a.Details)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func codes(a antibot.Assessment) []string {
	out := []string{}
	for _, r := range a.Reasons {
		out = append(out, r.Code)
	}
	return out
}

func expiresAt(t *testing.T, r resp) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, r.str("expires_at"))
	if err != nil {
		t.Fatalf("expires_at %q: %v", r.str("expires_at"), err)
	}
	return at
}

func TestStaffLoginRiskAccepted(t *testing.T) {
	e := newEnv(t, true)
	r := riskLogin(e, "rev@example.com", staffPassword, browserUA)
	if r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Raw)
	}
	if got, want := expiresAt(t, r), e.clock.Now().Add(staff.SessionTTL); !got.Equal(want) {
		t.Errorf("expires_at %s, want %s", got, want)
	}
	if c := sessionCookie(r); c == nil || c.MaxAge != int(staff.SessionTTL.Seconds()) {
		t.Errorf("session cookie %+v", c)
	}
	audits := loginAudits(e, "rev@example.com")
	if len(audits) != 1 || audits[0].Action != "staff.login" {
		t.Fatalf("audits %+v", audits)
	}
	a := audits[0]
	if a.Risk.Decision != antibot.Accept || a.Risk.Score != 0 || a.Risk.RulesVersion != "staff-login-v1" ||
		len(a.Risk.Reasons) != 0 || a.Details["short_session"] != false {
		t.Errorf("staff.login audit: %s", a.Raw)
	}
}

func TestStaffLoginRiskReviewGetsShortSession(t *testing.T) {
	e := newEnv(t, true)
	for range 3 {
		if r := riskLogin(e, "rev@example.com", "guess", browserUA); r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d %s", r.Status, r.Raw)
		}
	}
	r := riskLogin(e, "rev@example.com", staffPassword, "curl/8.0")
	if r.Status != 200 {
		t.Fatalf("curl login after 3 failures: %d %s", r.Status, r.Raw)
	}
	if got, want := expiresAt(t, r), e.clock.Now().Add(staff.RiskySessionTTL); !got.Equal(want) {
		t.Errorf("expires_at %s, want %s", got, want)
	}
	c := sessionCookie(r)
	if c == nil || c.MaxAge != int(staff.RiskySessionTTL.Seconds()) {
		t.Fatalf("session cookie %+v", c)
	}
	cookie := "sl_staff=" + c.Value
	if q := e.do("GET", "/api/v1/review/queue?event=none", nil, "Cookie", cookie); q.Status != http.StatusNotFound {
		t.Errorf("short session not accepted: %d %s", q.Status, q.Raw)
	}
	e.clock.Add(staff.RiskySessionTTL + time.Second)
	if q := e.do("GET", "/api/v1/review/queue?event=none", nil, "Cookie", cookie); q.Status != http.StatusUnauthorized {
		t.Errorf("short session after %s: %d", staff.RiskySessionTTL, q.Status)
	}

	audits := loginAudits(e, "rev@example.com")
	var actions []string
	for _, a := range audits {
		actions = append(actions, a.Action)
	}
	want := []string{"staff.login_failed", "staff.login_failed", "staff.login_failed", "staff.login"}
	if !slices.Equal(actions, want) {
		t.Fatalf("audited %v, want %v", actions, want)
	}
	if a := audits[0]; a.Risk.Decision != antibot.Accept || a.Details["why"] != "password" {
		t.Errorf("first failure: %s", a.Raw)
	}
	last := audits[3]
	if last.Risk.Decision != antibot.Review || last.Risk.Score != 70 ||
		!slices.Equal(codes(last.Risk), []string{"scripting_user_agent", "recent_failures"}) ||
		last.Details["short_session"] != true {
		t.Errorf("staff.login audit: %s", last.Raw)
	}
	// The owner is told: a stolen password and TOTP seed are noticed.
	var subject, body string
	if err := e.store.DB().Raw("SELECT subject, body FROM outbox WHERE to_addr = ? AND kind = 'staff_alert'",
		"rev@example.com").Row().Scan(&subject, &body); err != nil {
		t.Fatalf("no alert mail: %v", err)
	}
	// It names the commands that exist: disable ends the sessions, reset re-enrols.
	if !strings.Contains(subject, "Unusual sign-in") || !strings.Contains(body, "curl") || !strings.Contains(body, "30 minutes") ||
		!strings.Contains(body, "startline staff disable --email rev@example.com") ||
		!strings.Contains(body, "startline staff reset --email rev@example.com") {
		t.Errorf("alert mail %q:\n%s", subject, body)
	}
}

func TestStaffLoginRiskRejectAnswersLikeAWrongPassword(t *testing.T) {
	e := newEnv(t, true)
	wrong := riskLogin(e, "rev@example.com", "guess", "curl/8.0")
	// Nine more failures, written as the service writes them (bcrypt under
	// -race is too slow to spend on each).
	ctx := context.Background()
	acct, err := e.store.StaffByEmail(ctx, "rev@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for range 9 {
		if err := e.store.Audit(ctx, acct.ID, "staff.login_failed", acct.Email, map[string]any{"why": "password",
			"risk": antibot.Assessment{Decision: antibot.Review}, "country": ""}); err != nil {
			t.Fatal(err)
		}
	}
	// The right password and code, from a script hammering the account.
	blocked := riskLogin(e, "rev@example.com", staffPassword, "curl/8.0")
	if blocked.Status != wrong.Status || blocked.errCode() != "invalid_credentials" || !bytes.Equal(blocked.Raw, wrong.Raw) {
		t.Errorf("blocked login answered %d %s; a wrong password %d %s", blocked.Status, blocked.Raw, wrong.Status, wrong.Raw)
	}
	if sessionCookie(blocked) != nil {
		t.Error("a blocked login set a session cookie")
	}
	var sessions int64
	e.store.DB().Raw("SELECT count(*) FROM staff_sessions").Scan(&sessions)
	if sessions != 0 {
		t.Errorf("%d sessions after a blocked login", sessions)
	}
	audits := loginAudits(e, "rev@example.com")
	if len(audits) != 11 {
		t.Fatalf("%d audits, want 11", len(audits))
	}
	last := audits[10]
	if last.Action != "staff.login_blocked" || last.Risk.Decision != antibot.Reject || last.Risk.Score != 110 ||
		!slices.Equal(codes(last.Risk), []string{"scripting_user_agent", "recent_failures"}) ||
		last.Details["password_ok"] != true {
		t.Errorf("blocked audit: %s", last.Raw)
	}

	// The code was not used up: the owner, in a browser, still gets in, on a
	// short session since the account is under attack.
	r := riskLogin(e, "rev@example.com", staffPassword, browserUA)
	if r.Status != 200 || !expiresAt(t, r).Equal(e.clock.Now().Add(staff.RiskySessionTTL)) {
		t.Fatalf("owner's login with the same code: %d %s", r.Status, r.Raw)
	}
	if a := loginAudits(e, "rev@example.com")[11]; a.Action != "staff.login" || a.Risk.Decision != antibot.Review ||
		!slices.Equal(codes(a.Risk), []string{"recent_failures"}) {
		t.Errorf("owner's login audit: %s", a.Raw)
	}
}

func TestStaffLoginRiskNewCountry(t *testing.T) {
	e := newEnv(t, true)
	for ip, want := range map[string]string{"118.32.10.20": "KR", "146.70.9.1": "HK, hosting: AS9009 M247 Europe SRL"} {
		if got := e.svc.Network(ip).String(); got != want {
			t.Fatalf("precondition: %s is %q in the embedded tables, want %q", ip, got, want)
		}
	}
	ctx := context.Background()
	login := func(ip string) staff.Session {
		t.Helper()
		e.clock.Add(time.Minute) // a fresh TOTP step
		code, err := totp.GenerateCode(e.totp["rev@example.com"], e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		s, err := e.staff.Login(ctx, "rev@example.com", staffPassword, code, lottery.ClientInfo{IP: ip, UserAgent: browserUA})
		if err != nil {
			t.Fatalf("login from %s: %v", ip, err)
		}
		return s
	}
	tests := []struct {
		name     string
		ip       string
		decision antibot.Decision
		reasons  []string
		country  string
	}{
		{"first login, at home", "118.32.10.20", antibot.Accept, []string{}, "KR"},
		{"VPN exit abroad", "146.70.9.1", antibot.Review, []string{"hosting_network", "new_country"}, "HK"},
		{"home again", "118.32.10.20", antibot.Accept, []string{}, "KR"},
		{"the VPN again: known country, still hosting", "146.70.9.1", antibot.Accept, []string{"hosting_network"}, "HK"},
	}
	for i, tt := range tests {
		s := login(tt.ip)
		if s.Risk.Decision != tt.decision || !slices.Equal(codes(s.Risk), tt.reasons) {
			t.Errorf("%s: %s %v, want %s %v", tt.name, s.Risk.Decision, codes(s.Risk), tt.decision, tt.reasons)
		}
		ttl := staff.SessionTTL
		if tt.decision == antibot.Review {
			ttl = staff.RiskySessionTTL
		}
		if !s.ExpiresAt.Equal(e.clock.Now().Add(ttl)) {
			t.Errorf("%s: session until %s", tt.name, s.ExpiresAt)
		}
		audits := loginAudits(e, "rev@example.com")
		if len(audits) != i+1 {
			t.Fatalf("%s: %d audits", tt.name, len(audits))
		}
		if a := audits[i]; a.Action != "staff.login" || *a.Country != tt.country || a.Risk.Decision != tt.decision {
			t.Errorf("%s: audit %s", tt.name, a.Raw)
		}
	}
}
