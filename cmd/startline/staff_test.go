package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/postgres/pgtest"
)

var (
	passwordRe = regexp.MustCompile(`password: (\S+)`)
	totpURLRe  = regexp.MustCompile(`(otpauth://\S+)`)
)

// TestStaffAccessCommands drives `startline staff` end to end: tokens are
// issued, listed (never shown again), revoked one by one or all at once;
// disable cuts a token off on the running API; reset replaces the password
// and TOTP secret. Every change is audited.
func TestStaffAccessCommands(t *testing.T) {
	store, dsn := pgtest.NewStore(t)
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("STARTLINE_ENV", "production")
	t.Setenv("STARTLINE_SECRET_KEY", "staff-test-secret-key-staff-test-secret-key")
	ctx := context.Background()
	const email = "ops@example.com"
	cli := func(args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		err := run(ctx, append([]string{"staff"}, args...), &out)
		return out.String(), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := cli(args...)
		if err != nil {
			t.Fatalf("staff %v: %v\n%s", args, err, out)
		}
		return out
	}
	enrolment := must("add", "--email", email, "--role", "organizer", "--password", "first password 1234")
	if _, err := cli("add", "--email", email, "--role", "organizer"); err == nil ||
		!strings.Contains(err.Error(), "startline staff reset --email "+email) {
		t.Errorf("add on an existing address: %v", err)
	}
	tokA := strings.TrimSpace(must("token", "--email", email, "--ttl", "30d"))
	tokB := strings.TrimSpace(must("token", "--email", email))
	for _, tok := range []string{tokA, tokB} {
		if !strings.HasPrefix(tok, "slt_") || strings.Contains(tok, "\n") {
			t.Fatalf("token output %q", tok)
		}
	}
	for _, ttl := range []string{"0d", "367d", "10s", "soon"} {
		if _, err := cli("token", "--email", email, "--ttl", ttl); err == nil {
			t.Errorf("--ttl %s accepted", ttl)
		}
	}

	// The API, as `startline serve` builds it.
	a, srv := serveApp(t)
	call := func(tok string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/admin/events/none/offers", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	const authed = http.StatusNotFound // signed in; the event does not exist
	if call(tokA) != authed || call(tokB) != authed {
		t.Fatal("fresh tokens refused")
	}

	list := must("tokens", "--email", email)
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "enabled") || !strings.Contains(lines[1], "LAST USED") ||
		!strings.Contains(lines[2], tokB[:8]+"…") || !strings.Contains(lines[3], tokA[:8]+"…") ||
		strings.Contains(list, tokA[8:16]) || strings.Contains(list, tokB[8:16]) {
		t.Fatalf("tokens listing:\n%s", list)
	}
	wantExpiry := time.Now().Add(30 * 24 * time.Hour).UTC().Format("2006-01-02")
	if !strings.Contains(lines[3], wantExpiry) || !strings.HasSuffix(lines[3], "live") {
		t.Errorf("token A row %q: want expiry %s and live", lines[3], wantExpiry)
	}
	idA := strings.Fields(lines[3])[0]

	// One token by id.
	if out := must("revoke-tokens", "--email", email, "--id", idA); !strings.Contains(out, "1 tokens revoked") {
		t.Errorf("revoke-tokens --id: %s", out)
	}
	if call(tokA) != http.StatusUnauthorized || call(tokB) != authed {
		t.Errorf("after revoking token A: A %d, B %d", call(tokA), call(tokB))
	}
	// Disable: B stops at once, on the running server.
	if out := must("disable", "--email", email); !strings.Contains(out, "disabled; 1 tokens revoked") {
		t.Errorf("disable: %s", out)
	}
	if got := call(tokB); got != http.StatusUnauthorized {
		t.Errorf("token after disable: %d, want 401", got)
	}
	if list := must("tokens", "--email", email); !strings.Contains(list, "disabled since") || strings.Contains(list, " live") {
		t.Errorf("tokens of a disabled account:\n%s", list)
	}
	if _, err := cli("token", "--email", email); err == nil {
		t.Error("a disabled account got a token")
	}
	must("enable", "--email", email)
	if call(tokB) != http.StatusUnauthorized {
		t.Error("enable revived a revoked token")
	}
	tokC := strings.TrimSpace(must("token", "--email", email))
	if call(tokC) != authed {
		t.Error("new token after enable refused")
	}

	// Reset: new credentials, the token ends, only the new password and code sign in.
	reset := must("reset", "--email", email)
	newPassword, newURL := passwordRe.FindStringSubmatch(reset), totpURLRe.FindStringSubmatch(reset)
	if newPassword == nil || newURL == nil || !strings.Contains(reset, "1 tokens revoked") {
		t.Fatalf("reset output:\n%s", reset)
	}
	if call(tokC) != http.StatusUnauthorized {
		t.Error("token survived reset")
	}
	oldKey, _ := otp.NewKeyFromURL(totpURLRe.FindStringSubmatch(enrolment)[1])
	newKey, _ := otp.NewKeyFromURL(newURL[1])
	login := func(password string, key *otp.Key) error {
		code, _ := totp.GenerateCode(key.Secret(), time.Now())
		_, err := a.staff.Login(ctx, email, password, code, lottery.ClientInfo{IP: "127.0.0.1", UserAgent: "Mozilla/5.0"})
		return err
	}
	if err := login("first password 1234", oldKey); err == nil {
		t.Error("old password and TOTP still sign in")
	}
	if err := login(newPassword[1], oldKey); err == nil {
		t.Error("the old TOTP secret still signs in")
	}
	if err := login(newPassword[1], newKey); err != nil {
		t.Errorf("new password and TOTP: %v", err)
	}

	if _, err := cli("disable", "--email", "nobody@example.com"); lottery.CodeOf(err) != lottery.CodeNotFound {
		t.Errorf("disable an unknown address: %v", err)
	}
	if _, err := cli("frobnicate", "--email", email); err == nil {
		t.Error("unknown subcommand accepted")
	}
	var actions []string
	if err := store.DB().Raw(`SELECT action FROM audit_log WHERE target = ? AND action NOT LIKE 'staff.login%' ORDER BY id`,
		email).Scan(&actions).Error; err != nil {
		t.Fatal(err)
	}
	want := []string{"staff.created", "staff.token_issued", "staff.token_issued", "staff.token_revoked",
		"staff.disabled", "staff.enabled", "staff.token_issued", "staff.reset"}
	if !slices.Equal(actions, want) {
		t.Errorf("audited %v\nwant    %v", actions, want)
	}
}
