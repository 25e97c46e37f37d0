package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
)

// TestBrowserCheckin: on a 390 px phone, by keyboard, in English and
// Korean, a confirmed runner's status page shows the check-in QR code and
// code; a reviewer signs in, opens the check-in page and types that code:
// the runner's name, birth year and bib with a big OK; the same code again
// is refused as already picked up; with no signal a code waits on the
// phone (counted) and is checked in when the connection is back. Every page fits the screen, labels its
// controls (b.Check) and logs no console error.
func TestBrowserCheckin(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang string
		status, ok, again string
		pickedUp          string   // the runner's status page after the pickup
		replayed          string   // the list's summary
		answers           []string // the replayed codes' answers
	}{
		{"en", "en-US", "Your race-day check-in code", "OK: hand out the bib", "already picked up",
			"You picked up your bib on", "3 saved code(s) sent", []string{"OK: hand out the bib", "already picked up", "Do not hand out a bib"}},
		{"ko", "ko-KR", "대회 당일 체크인 코드", "확인: 배번을 지급하세요", "이미 수령",
			"배번을 수령하셨습니다", "저장된 코드 3개를 보냈습니다", []string{"확인: 배번을 지급하세요", "이미 수령", "배번을 지급하지 마세요"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s := newSite(t, true)
			ids := s.seedEntries(4)
			s.store.DB().Exec(`UPDATE entries SET bib = 777 WHERE id = ?`, ids[2])
			enr, err := s.staff.Add(context.Background(), "desk@example.com", lottery.RoleReviewer, "correct horse battery staple")
			if err != nil {
				t.Fatal(err)
			}
			key, _ := otp.NewKeyFromURL(enr.TOTPURL)
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			b.WatchConsole()

			b.Open(s.srv.URL + "/entries/" + ids[2] + "?token=" + url.QueryEscape(s.receipt(ids[2])))
			b.WaitFor("#checkin img")
			b.Check("entry-checkin", tc.lang)
			if got := b.Text("#checkin"); !strings.Contains(got, tc.status) {
				t.Errorf("status page's check-in section:\n%s", got)
			}
			code := b.Text("[data-checkin-code]")

			otpCode, _ := totp.GenerateCode(key.Secret(), time.Now())
			s.keyboardSignIn(b, "desk@example.com", otpCode, "/checkin")
			b.WaitFor("#checkin-code")
			b.Check("checkin", tc.lang)
			if b.Focused() != "code" {
				b.TabTo("code", 20)
			}
			b.Keys(strings.ToLower(code) + "\r")
			b.WaitFor("#checkin-live.checkin-ok")
			got := b.Text("#checkin-live")
			for _, want := range []string{tc.ok, "Runner 002", "1990", "777"} {
				if !strings.Contains(got, want) {
					t.Errorf("check-in result lacks %q:\n%s", want, got)
				}
			}
			b.Check("checkin-ok", tc.lang)
			if b.Focused() != "code" {
				t.Errorf("after a check-in the focus is on %q, not the code", b.Focused())
			}
			b.Keys(code + "\r")
			b.WaitFor("#checkin-live.checkin-refused")
			if got := b.Text("#checkin-live"); !strings.Contains(got, tc.again) || !strings.Contains(got, "777") {
				t.Errorf("second check-in:\n%s", got)
			}
			b.Check("checkin-again", tc.lang)

			// No signal: the codes wait on the phone, counted, and go when
			// the connection is back; their answers are listed in scan order
			// (checked in, already picked up, refused: transferred away).
			s.store.DB().Exec(`UPDATE entries SET status = 'transferred' WHERE id = ?`, ids[1])
			browsertest.Eval[bool](b, `Object.defineProperty(navigator, "onLine", {get: () => false, configurable: true}) && true`)
			for _, c := range []string{s.checkinCode(ids[3]), code, s.checkinCode(ids[1])} {
				b.Keys(c + "\r")
			}
			b.WaitFor("#checkin-queue")
			if got := b.Text("#checkin-queue"); !strings.Contains(got, "3") {
				t.Errorf("offline queue: %q", got)
			}
			b.Check("checkin-offline", tc.lang)
			browsertest.Eval[bool](b, `Object.defineProperty(navigator, "onLine", {get: () => true, configurable: true}) && window.dispatchEvent(new Event("online"))`)
			deadline := time.Now().Add(10 * time.Second)
			var picked int64
			for picked == 0 && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
				s.store.DB().Raw(`SELECT count(*) FROM entries WHERE id = ? AND picked_up_at IS NOT NULL`, ids[3]).Scan(&picked)
			}
			if picked != 1 {
				t.Error("the queued code was not checked in when back online")
			}
			if n := browsertest.Eval[int](b, `JSON.parse(localStorage.getItem("startline.checkin.queue") || "[]").length`); n != 0 {
				t.Errorf("%d codes still queued", n)
			}
			b.WaitFor(`#checkin-replayed li:nth-child(3)`)
			got = b.Text("#checkin-replayed")
			for _, want := range append([]string{tc.replayed, "Runner 003"}, tc.answers...) {
				if !strings.Contains(got, want) {
					t.Errorf("replayed answers lack %q:\n%s", want, got)
				}
			}
			if kinds := browsertest.Eval[string](b, `[...document.querySelectorAll("#checkin-replayed li")].map(li => li.dataset.replayed).join(",")`); kinds != "ok,refused,refused" {
				t.Errorf("replayed answers in order: %s", kinds)
			}
			b.Check("checkin-replayed", tc.lang)

			// The runner's status page now says the bib was picked up and
			// offers no transfer, give-back or deferral of the place.
			b.Open(s.srv.URL + "/entries/" + ids[2] + "?token=" + url.QueryEscape(s.receipt(ids[2])))
			b.WaitFor("#checkin-picked-up")
			if got := b.Text("#checkin-picked-up"); !strings.Contains(got, tc.pickedUp) {
				t.Errorf("status page after the pickup:\n%s", got)
			}
			if n := browsertest.Eval[int](b, `document.querySelectorAll('a[href*="/give-back"], a[href*="/defer"], form[action*="/transfer"]').length`); n != 0 {
				t.Errorf("status page after the pickup still offers %d give-back, deferral or transfer steps", n)
			}
			b.Check("entry-picked-up", tc.lang)
			if errs := b.ConsoleErrors(); len(errs) > 0 {
				t.Errorf("console errors: %v", errs)
			}
		})
	}
}
