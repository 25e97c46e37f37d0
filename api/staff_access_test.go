package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/staff"
)

// queueAs calls a staff route with a bearer token or a session cookie and
// returns the status (404: authenticated, the event does not exist).
func (e *env) queueAs(cred string) int {
	e.t.Helper()
	h := []string{"Authorization", "Bearer " + cred}
	if len(cred) > 9 && cred[:9] == "sl_staff=" {
		h = []string{"Cookie", cred}
	}
	return e.do("GET", "/api/v1/review/queue?event=none", nil, h...).Status
}

// loginWith signs in with the right password and the current TOTP code,
// sending extra headers, and returns the answer and the session cookie.
func (e *env) loginWith(email string, headers ...string) (resp, string) {
	e.t.Helper()
	code, err := totp.GenerateCode(e.totp[email], e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	r := e.do("POST", "/api/v1/staff/login", map[string]any{"email": email, "password": staffPassword, "otp": code}, headers...)
	if c := sessionCookie(r); c != nil {
		return r, "sl_staff=" + c.Value
	}
	return r, ""
}

// staffAudits returns the actions audited for an account, oldest first,
// leaving out login attempts.
func staffAudits(e *env, email string) ([]string, []map[string]any) {
	e.t.Helper()
	rows, err := e.store.DB().Raw(`SELECT action, details FROM audit_log WHERE target = ? AND action NOT LIKE 'staff.login%'
		ORDER BY id`, email).Rows()
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var actions []string
	var details []map[string]any
	for rows.Next() {
		var a string
		var raw []byte
		if err := rows.Scan(&a, &raw); err != nil {
			e.t.Fatal(err)
		}
		var d map[string]any
		_ = json.Unmarshal(raw, &d)
		actions, details = append(actions, a), append(details, d)
	}
	return actions, details
}

func TestStaffTokenExpires(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	tok, meta, err := e.staff.IssueTokenTTL(ctx, "rev@example.com", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if want := e.clock.Now().Add(24 * time.Hour); !meta.ExpiresAt.Equal(want) || meta.Prefix != tok[:8] {
		t.Errorf("token %+v, want expiry %s and prefix %s", meta, want, tok[:8])
	}
	if got := e.queueAs(tok); got != http.StatusNotFound {
		t.Fatalf("fresh token: %d", got)
	}
	e.clock.Add(24*time.Hour - time.Second)
	if got := e.queueAs(tok); got != http.StatusNotFound {
		t.Errorf("token a second before expiry: %d", got)
	}
	e.clock.Add(time.Second)
	if got := e.queueAs(tok); got != http.StatusUnauthorized {
		t.Errorf("expired token: %d, want 401", got)
	}
	// The default lifetime: the harness's tokens were issued at testStart.
	e.clock.Set(testStart.Add(staff.DefaultTokenTTL - time.Minute))
	if got := e.queueAs(e.reviewer); got != http.StatusNotFound {
		t.Errorf("default token before %s: %d", staff.DefaultTokenTTL, got)
	}
	e.clock.Set(testStart.Add(staff.DefaultTokenTTL))
	if got := e.queueAs(e.reviewer); got != http.StatusUnauthorized {
		t.Errorf("default token after %s: %d, want 401", staff.DefaultTokenTTL, got)
	}
	for _, ttl := range []time.Duration{0, time.Second, staff.MaxTokenTTL + time.Hour} {
		if _, _, err := e.staff.IssueTokenTTL(ctx, "rev@example.com", ttl); lottery.CodeOf(err) != lottery.CodeInvalidField {
			t.Errorf("ttl %s: %v, want invalid_field", ttl, err)
		}
	}
	_, toks, err := e.staff.Tokens(ctx, "rev@example.com")
	if err != nil || len(toks) != 2 {
		t.Fatalf("tokens: %v %+v", err, toks)
	}
	// Its last use was the one a second before expiry (the refused ones are not uses).
	if lastUse := testStart.Add(24*time.Hour - time.Second); toks[0].ID != meta.ID || toks[0].LastUsedAt == nil ||
		!toks[0].LastUsedAt.Equal(lastUse) {
		t.Errorf("listed token %+v: want id %d, last used %s", toks[0], meta.ID, lastUse)
	}
}

func TestStaffDisableEndsTokensAndSessionsAtOnce(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	_, cookie := e.login("rev@example.com", e.clock.Now())
	if cookie == "" || e.queueAs(cookie) != http.StatusNotFound || e.queueAs(e.reviewer) != http.StatusNotFound {
		t.Fatal("precondition: the session and the token work")
	}
	res, err := e.staff.Disable(ctx, "REV@example.com ")
	if err != nil {
		t.Fatal(err)
	}
	if res != (staff.AccessResult{Tokens: 1, Sessions: 1}) {
		t.Errorf("disable ended %+v", res)
	}
	for name, cred := range map[string]string{"bearer token": e.reviewer, "session cookie": cookie} {
		if got := e.queueAs(cred); got != http.StatusUnauthorized {
			t.Errorf("%s after disable: %d, want 401", name, got)
		}
	}
	e.clock.Add(time.Minute)
	if r, c := e.login("rev@example.com", e.clock.Now()); r.Status != http.StatusUnauthorized || c != "" {
		t.Errorf("login of a disabled account: %d", r.Status)
	}
	if _, err := e.staff.IssueToken(ctx, "rev@example.com"); lottery.CodeOf(err) != lottery.CodeNotFound {
		t.Errorf("token for a disabled account: %v", err)
	}
	// Enabling does not bring the old token back.
	if err := e.staff.Enable(ctx, "rev@example.com"); err != nil {
		t.Fatal(err)
	}
	if got := e.queueAs(e.reviewer); got != http.StatusUnauthorized {
		t.Errorf("old token after enable: %d, want 401", got)
	}
	e.clock.Add(time.Minute)
	if r, c := e.login("rev@example.com", e.clock.Now()); r.Status != 200 || e.queueAs(c) != http.StatusNotFound {
		t.Errorf("login after enable: %d %s", r.Status, r.Raw)
	}
	if _, err := e.staff.Disable(ctx, "nobody@example.com"); lottery.CodeOf(err) != lottery.CodeNotFound {
		t.Errorf("disable an unknown address: %v", err)
	}
	actions, details := staffAudits(e, "rev@example.com")
	if want := []string{"staff.created", "staff.token_issued", "staff.disabled", "staff.enabled"}; !slices.Equal(actions, want) {
		t.Fatalf("audited %v, want %v", actions, want)
	}
	if d := details[2]; d["tokens_revoked"] != 1.0 || d["sessions_ended"] != 1.0 || d["via"] != "cli" {
		t.Errorf("staff.disabled details %v", d)
	}
}

func TestStaffRevokeTokens(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	second, meta, err := e.staff.IssueTokenTTL(ctx, "org@example.com", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, cookie := e.login("org@example.com", e.clock.Now())
	// One token by id: the other token and the session stay.
	if res, err := e.staff.RevokeTokens(ctx, "org@example.com", meta.ID); err != nil || res.Tokens != 1 {
		t.Fatalf("revoke one: %+v %v", res, err)
	}
	if got := e.queueAs(second); got != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", got)
	}
	if e.queueAs(e.organizer) != http.StatusNotFound || e.queueAs(cookie) != http.StatusNotFound {
		t.Error("revoking one token ended others")
	}
	if _, err := e.staff.RevokeTokens(ctx, "org@example.com", meta.ID); lottery.CodeOf(err) != lottery.CodeNotFound {
		t.Errorf("revoking it again: %v", err)
	}
	// Someone else's token id is not found either.
	_, revMeta, _ := e.staff.IssueTokenTTL(ctx, "rev@example.com", time.Hour)
	if _, err := e.staff.RevokeTokens(ctx, "org@example.com", revMeta.ID); lottery.CodeOf(err) != lottery.CodeNotFound {
		t.Errorf("revoking another account's token: %v", err)
	}
	// All: every token and session.
	if res, err := e.staff.RevokeTokens(ctx, "org@example.com", 0); err != nil || res != (staff.AccessResult{Tokens: 1, Sessions: 1}) {
		t.Fatalf("revoke all: %+v %v", res, err)
	}
	if e.queueAs(e.organizer) != http.StatusUnauthorized || e.queueAs(cookie) != http.StatusUnauthorized {
		t.Error("token or session still works after revoke-tokens")
	}
	if e.queueAs(e.reviewer) != http.StatusNotFound {
		t.Error("another account's token was revoked")
	}
	actions, _ := staffAudits(e, "org@example.com")
	if want := []string{"staff.created", "staff.token_issued", "staff.token_issued", "staff.token_revoked",
		"staff.tokens_revoked"}; !slices.Equal(actions, want) {
		t.Errorf("audited %v, want %v", actions, want)
	}
}

func TestStaffReset(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	_, cookie := e.login("rev@example.com", e.clock.Now())
	oldSecret := e.totp["rev@example.com"]
	enr, res, err := e.staff.Reset(ctx, "rev@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(enr.Password) < 12 || enr.TOTPURL == "" || res != (staff.AccessResult{Tokens: 1, Sessions: 1}) {
		t.Fatalf("reset: %+v %+v", enr, res)
	}
	key, err := otp.NewKeyFromURL(enr.TOTPURL)
	if err != nil || key.Secret() == oldSecret {
		t.Fatalf("new TOTP secret: %v", err)
	}
	if e.queueAs(e.reviewer) != http.StatusUnauthorized || e.queueAs(cookie) != http.StatusUnauthorized {
		t.Error("token or session survived the reset")
	}
	login := func(password, secret string) int {
		t.Helper()
		e.clock.Add(time.Minute)
		code, _ := totp.GenerateCode(secret, e.clock.Now())
		return e.do("POST", "/api/v1/staff/login", map[string]any{"email": "rev@example.com", "password": password,
			"otp": code}).Status
	}
	tests := []struct {
		name             string
		password, secret string
		want             int
	}{
		{"old password, old code", staffPassword, oldSecret, http.StatusUnauthorized},
		{"old password, new code", staffPassword, key.Secret(), http.StatusUnauthorized},
		{"new password, old code", enr.Password, oldSecret, http.StatusUnauthorized},
		{"new password, new code", enr.Password, key.Secret(), http.StatusOK},
	}
	for _, tt := range tests {
		if got := login(tt.password, tt.secret); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	// A chosen password; too short is refused and changes nothing.
	if _, _, err := e.staff.Reset(ctx, "rev@example.com", "short"); lottery.CodeOf(err) != lottery.CodeInvalidField {
		t.Errorf("short password: %v", err)
	}
	if login(enr.Password, key.Secret()) != http.StatusOK {
		t.Error("a refused reset changed the password")
	}
	actions, details := staffAudits(e, "rev@example.com")
	if want := []string{"staff.created", "staff.token_issued", "staff.reset"}; !slices.Equal(actions, want) {
		t.Fatalf("audited %v, want %v", actions, want)
	}
	if d := details[2]; d["password_generated"] != true || d["sessions_ended"] != 1.0 {
		t.Errorf("staff.reset details %v", d)
	}
	// The audit log stays append-only.
	if err := e.store.DB().Exec(`DELETE FROM audit_log WHERE action = 'staff.reset'`).Error; err == nil {
		t.Error("an audit row could be deleted")
	}
}
