package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/lottery"
)

var (
	inviteLinkRe   = regexp.MustCompile(`https?://[^\s]+/staff/invite/([A-Za-z0-9_-]+)`)
	inviteSecretRe = regexp.MustCompile(`data-totp-secret>([A-Z2-7]+)<`)
)

// inviteLink returns the token of the newest invitation mailed to addr.
func (s *site) inviteLink(addr string) string {
	s.t.Helper()
	msgs, err := s.store.OutboxFor(context.Background(), addr, 1)
	if err != nil || len(msgs) == 0 {
		s.t.Fatalf("no mail to %s: %v", addr, err)
	}
	m := inviteLinkRe.FindStringSubmatch(msgs[0].Body)
	if m == nil {
		s.t.Fatalf("mail to %s has no invitation link:\n%s", addr, msgs[0].Body)
	}
	return m[1]
}

// TestTeamInvitations: an organizer's Team page lists the organization's
// members, invites a reviewer (audited, mailed with an absolute link),
// refuses an address that has an account and a bad one in place; the link's
// page makes the account with a password and shows the authenticator
// enrolment once, after which the link is used up and the reviewer signs in
// with a TOTP code. A revoked or expired link says so; another
// organization's organizer cannot revoke; reviewers and the public cannot
// see the page.
func TestTeamInvitations(t *testing.T) {
	s := newSite(t, true)
	ctx := context.Background()
	cookie := s.staffLogin("boss@example.com", lottery.RoleOrganizer)

	if code, _, hdr := s.get("/admin/team"); code != http.StatusFound || !strings.HasPrefix(hdr.Get("Location"), "/staff/login") {
		t.Errorf("anonymous: %d %v", code, hdr)
	}
	if code, _, _ := s.get("/admin/team", "Cookie", s.staffLogin("rev@example.com", lottery.RoleReviewer)); code != http.StatusForbidden {
		t.Errorf("reviewer: %d, want 403", code)
	}
	code, body, _ := s.get("/admin/team", "Cookie", cookie)
	if code != 200 || !strings.Contains(body, `data-member="org@example.com"`) || !strings.Contains(body, `data-member="rev@example.com"`) ||
		!strings.Contains(body, "No invitations are open.") {
		t.Fatalf("team page: %d %s", code, body)
	}
	csrf := csrfRe.FindStringSubmatch(body)[1]

	if code, _ := s.postWith("/admin/team/invites", url.Values{"email": {"new@example.com"}, "role": {"reviewer"}}, "Cookie", cookie); code != http.StatusForbidden {
		t.Errorf("invite without the csrf token: %d, want 403", code)
	}
	for _, tc := range []struct {
		email, role, want string
		status            int
	}{
		{"org@example.com", "reviewer", "This address already has a staff account.", http.StatusConflict},
		{"not an address", "reviewer", "Give a plain e-mail address.", http.StatusUnprocessableEntity},
		{"x@example.com", "admin", "Choose organizer or reviewer.", http.StatusUnprocessableEntity},
	} {
		st, body, _ := s.postForm("/admin/team/invites", url.Values{"csrf": {csrf}, "email": {tc.email}, "role": {tc.role}, "mail_lang": {"en"}}, "Cookie", cookie)
		if st != tc.status || !strings.Contains(body, tc.want) || !strings.Contains(body, html.EscapeString(tc.email)) {
			t.Errorf("invite %q as %q: %d, want %d with %q", tc.email, tc.role, st, tc.status, tc.want)
		}
	}
	code, hdr := s.postWith("/admin/team/invites", url.Values{"csrf": {csrf}, "email": {"New@Example.com"}, "role": {"reviewer"}, "mail_lang": {"ko"}}, "Cookie", cookie)
	if code != http.StatusSeeOther || hdr.Get("Location") != "/admin/team?done=invited" {
		t.Fatalf("invite: %d %v", code, hdr)
	}
	var audited int
	s.store.DB().Raw(`SELECT count(*) FROM audit_log WHERE action = 'staff.invited' AND target = 'new@example.com'`).Scan(&audited)
	if audited != 1 {
		t.Errorf("staff.invited audited %d times", audited)
	}
	msgs, _ := s.store.OutboxFor(ctx, "new@example.com", 1)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Body, "검토자로 초대했습니다") || !strings.Contains(msgs[0].Body, "boss@example.com") {
		t.Fatalf("invitation mail: %+v", msgs)
	}
	tok := s.inviteLink("new@example.com")
	if _, body, _ := s.get("/admin/team", "Cookie", cookie); !strings.Contains(body, `data-invite="new@example.com"`) {
		t.Errorf("the open invitation is not listed: %s", body)
	}

	if code, _, _ := s.get("/staff/invite/nope"); code != http.StatusNotFound {
		t.Errorf("unknown token: %d", code)
	}
	code, body, _ = s.get("/staff/invite/" + tok)
	if code != 200 || !strings.Contains(body, `name="password"`) || !strings.Contains(body, "boss@example.com invites you to join Default organization as reviewer") {
		t.Fatalf("accept page: %d %s", code, body)
	}
	accept := func(pw, pw2 string) (int, string) {
		code, body, _ := s.postForm("/staff/invite/"+tok, url.Values{"password": {pw}, "password2": {pw2}})
		return code, body
	}
	if code, body := accept("short", "short"); code != http.StatusUnprocessableEntity || !strings.Contains(body, "At least 12 characters.") {
		t.Errorf("short password: %d", code)
	}
	if code, body := accept("correct horse battery", "correct horse battery!"); code != http.StatusUnprocessableEntity || !strings.Contains(body, "The two passwords differ.") {
		t.Errorf("mismatch: %d", code)
	}
	code, body = accept("correct horse battery", "correct horse battery")
	if code != 200 || !strings.Contains(body, "otpauth://totp/") || !strings.Contains(body, `src="data:image/png;base64,`) {
		t.Fatalf("accepted: %d %s", code, body)
	}
	secret := inviteSecretRe.FindStringSubmatch(body)[1]
	acct, err := s.store.StaffByEmail(ctx, "new@example.com")
	if err != nil || acct.Role != lottery.RoleReviewer || acct.OrgID != s.org.OrgID {
		t.Fatalf("account: %+v %v", acct, err)
	}
	if code, body, _ := s.get("/staff/invite/" + tok); code != http.StatusGone || !strings.Contains(body, "This invitation was used already.") {
		t.Errorf("used link: %d", code)
	}
	if code, _ := accept("another password!", "another password!"); code != http.StatusGone {
		t.Errorf("second acceptance: %d", code)
	}
	otpCode, _ := totp.GenerateCode(secret, time.Now())
	if code, _, _ := s.post("/staff/login", url.Values{"email": {"new@example.com"}, "password": {"correct horse battery"}, "otp": {otpCode}}); code != http.StatusSeeOther {
		t.Errorf("the invited reviewer's login: %d", code)
	}

	// An address that got an account after its invitation cannot take it.
	if code, _ := s.postWith("/admin/team/invites", url.Values{"csrf": {csrf}, "email": {"taken@example.com"}, "role": {"reviewer"}}, "Cookie", cookie); code != http.StatusSeeOther {
		t.Fatalf("invite taken@: %d", code)
	}
	if _, err := s.staff.Add(ctx, "taken@example.com", lottery.RoleReviewer, ""); err != nil {
		t.Fatal(err)
	}
	code, body, _ = s.postForm("/staff/invite/"+s.inviteLink("taken@example.com"), url.Values{"password": {"correct horse battery"}, "password2": {"correct horse battery"}})
	if code != http.StatusConflict || !strings.Contains(body, "This address already has a staff account.") {
		t.Errorf("accepting for an address with an account: %d", code)
	}

	// Revoked, expired, and another organization's organizer.
	for _, addr := range []string{"gone@example.com", "late@example.com"} {
		if code, _ := s.postWith("/admin/team/invites", url.Values{"csrf": {csrf}, "email": {addr}, "role": {"organizer"}}, "Cookie", cookie); code != http.StatusSeeOther {
			t.Fatalf("invite %s: %d", addr, code)
		}
	}
	var goneID, lateID int64
	s.store.DB().Raw(`SELECT id FROM staff_invites WHERE email = 'gone@example.com'`).Scan(&goneID)
	s.store.DB().Raw(`SELECT id FROM staff_invites WHERE email = 'late@example.com'`).Scan(&lateID)
	enr, err := s.staff.AddTo(ctx, "other-club", "rival@example.com", lottery.RoleOrganizer, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := otp.NewKeyFromURL(enr.TOTPURL)
	rivalCode, _ := totp.GenerateCode(key.Secret(), time.Now())
	rival := s.login("rival@example.com", rivalCode)
	_, rivalPage, _ := s.get("/admin/team", "Cookie", rival)
	if strings.Contains(rivalPage, "gone@example.com") || strings.Contains(rivalPage, "boss@example.com") {
		t.Errorf("another organization's team page shows this one's people")
	}
	rivalCSRF := csrfRe.FindStringSubmatch(rivalPage)[1]
	if code, _ := s.postWith("/admin/team/invites/"+strconv.FormatInt(goneID, 10)+"/revoke", url.Values{"csrf": {rivalCSRF}}, "Cookie", rival); code != http.StatusNotFound {
		t.Errorf("another organization's revoke: %d, want 404", code)
	}
	code, hdr = s.postWith("/admin/team/invites/"+strconv.FormatInt(goneID, 10)+"/revoke", url.Values{"csrf": {csrf}}, "Cookie", cookie)
	if code != http.StatusSeeOther || hdr.Get("Location") != "/admin/team?done=revoked" {
		t.Errorf("revoke: %d %v", code, hdr)
	}
	if code, body, _ := s.get("/staff/invite/" + s.inviteLink("gone@example.com")); code != http.StatusGone || !strings.Contains(body, "This invitation was revoked.") {
		t.Errorf("revoked link: %d", code)
	}
	s.store.DB().Exec(`UPDATE staff_invites SET expires_at = now() - interval '1 minute' WHERE id = ?`, lateID)
	if code, body, _ := s.get("/staff/invite/"+s.inviteLink("late@example.com"), "Accept-Language", "ko"); code != http.StatusGone || !strings.Contains(body, "만료된 초대입니다.") {
		t.Errorf("expired link: %d", code)
	}
}

// postForm posts a form with headers (name, value, …) and returns the
// status, the page and the response's headers.
func (s *site) postForm(path string, form url.Values, header ...string) (int, string, http.Header) {
	s.t.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	res, body := s.send("POST", path, "application/x-www-form-urlencoded", []byte(form.Encode()), h)
	return res.StatusCode, body, res.Header
}
