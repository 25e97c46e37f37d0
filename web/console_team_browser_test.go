package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
)

// TestBrowserTeamInvite: on a 390 px phone, by keyboard, in English and
// Korean, an organizer signs in with TOTP, invites a reviewer from the Team
// page; the invitation mail's link opens the accept page, where the
// reviewer chooses a password and gets the authenticator QR code and key;
// with a code from that key the reviewer signs in and lands on the review
// queue. Every page fits the screen, labels its controls (b.Check) and logs
// no console error.
func TestBrowserTeamInvite(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang string
		team, invited     string // words of the Team page and its notice
		accept, enrolled  string // of the accept page before and after
		next              string // the link to the sign-in
	}{
		{"en", "en-US", "Open invitations", "Invitation sent.", "Choose a password", "Add the account to your authenticator app", "Next: sign in"},
		{"ko", "ko-KR", "대기 중인 초대", "초대를 보냈습니다.", "비밀번호를 정하면", "인증 앱에 계정 추가", "다음: 로그인"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s := newSite(t, true)
			code := s.enrol("", "boss@example.com", lottery.RoleOrganizer)
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			b.WatchConsole()

			s.keyboardSignIn(b, "boss@example.com", code, "/admin/team")
			b.WaitFor("#team-invite")
			b.Check("team", tc.lang)
			if got := b.Text("main"); !strings.Contains(got, tc.team) || !strings.Contains(got, "org@example.com") {
				t.Errorf("team page:\n%s", got)
			}

			// The invitation form: address, role (reviewer is chosen), the
			// mail's language (the page's), then Enter.
			b.TabTo("email", 40)
			b.Keys("newrev@example.com")
			b.KeysToPage("\r")
			b.WaitFor("p.notice")
			b.Check("team-invited", tc.lang)
			if got := b.Text("main"); !strings.Contains(got, tc.invited) || !strings.Contains(got, "newrev@example.com") {
				t.Errorf("after inviting:\n%s", got)
			}

			msgs, _ := s.store.OutboxFor(context.Background(), "newrev@example.com", 1)
			if len(msgs) != 1 {
				t.Fatalf("no invitation mail")
			}
			link := inviteLinkRe.FindString(msgs[0].Body)
			if !strings.HasPrefix(link, s.srv.URL+"/staff/invite/") {
				t.Fatalf("the mail's link %q is not absolute on this site", link)
			}
			b.Open(link)
			b.WaitFor("input[name=password]")
			b.Check("invite", tc.lang)
			if got := b.Text("main"); !strings.Contains(got, tc.accept) {
				t.Errorf("accept page:\n%s", got)
			}
			b.TabTo("password", 20)
			b.Keys("a long reviewer password\ta long reviewer password")
			b.KeysToPage("\r")
			b.WaitFor("img.qr")
			b.Check("invite-enrolled", tc.lang)
			if got := b.Text("main"); !strings.Contains(got, tc.enrolled) {
				t.Errorf("enrolment page:\n%s", got)
			}
			secret := b.Text("[data-totp-secret]")

			b.TabTo(tc.next, 20)
			b.KeysToPage("\r")
			b.TabTo("email", 20)
			code, _ = totp.GenerateCode(secret, time.Now())
			b.Keys("newrev@example.com\ta long reviewer password\t" + code)
			b.KeysToPage("\r")
			b.WaitFor("main h1")
			if u := b.URL(); !strings.Contains(u, "/review") {
				t.Fatalf("the new reviewer's sign-in went to %s", u)
			}
			b.Check("reviewer-queue", tc.lang)
			if errs := b.ConsoleErrors(); len(errs) > 0 {
				t.Errorf("console errors: %v", errs)
			}
		})
	}
}
