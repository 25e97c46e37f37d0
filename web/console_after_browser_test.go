package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
)

// TestBrowserConsoleAfterDraw: on a 390 px phone, by keyboard, in English
// and Korean, an organizer signs in, opens the event's "After the draw"
// tab, types a transfer count out of range (refused beside the field, the
// field focused, the typed value kept), corrects it and saves; then saves
// the deferral terms. Every page fits the screen, labels its controls
// (b.Check) and logs no console error.
func TestBrowserConsoleAfterDraw(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang     string
		title, bad, saved, ok string
	}{
		{"en", "en-US", "Transfers and deferrals", "Give a whole number from 0 to 1,000,000.", "Transfer terms saved.", "Deferral terms saved."},
		{"ko", "ko-KR", "양도와 연기", "0부터 1,000,000까지의 정수를 입력하세요.", "양도 조건을 저장했습니다.", "연기 조건을 저장했습니다."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s := newSite(t, true)
			code := s.enrol("", "boss@example.com", lottery.RoleOrganizer)
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			b.WatchConsole()

			s.keyboardSignIn(b, "boss@example.com", code, "/admin/events/spring/after")
			b.WaitFor("#after-transfers")
			b.Check("after", tc.lang)
			if got := b.Text("main"); !strings.Contains(got, tc.title) {
				t.Errorf("tab:\n%s", got)
			}

			b.TabTo("transfer_max", 60)
			b.Keys("2000000")
			b.KeysToPage("\r")
			b.WaitFor("#e-transfer_max")
			b.Check("after-refused", tc.lang)
			if got := b.Text("#after-transfers"); !strings.Contains(got, tc.bad) {
				t.Errorf("refusal beside the field:\n%s", got)
			}
			if f := b.Focused(); f != "transfer_max" {
				t.Errorf("focus after the refusal on %q", f)
			}
			if v := browsertest.Eval[string](b, `document.getElementById("f-transfer_max").value`); v != "2000000" {
				t.Errorf("typed value not kept: %q", v)
			}
			// Round the page by Tab back into the field (focusing selects
			// what it holds), type over it, then the fee.
			b.Keys("\t")
			b.TabTo("transfer_max", 80)
			b.Keys("12\t3000")
			b.KeysToPage("\r")
			b.WaitFor("#after-done")
			if got := b.Text("#after-done"); !strings.Contains(got, tc.saved) {
				t.Errorf("saved notice: %q", got)
			}
			if v := browsertest.Eval[string](b, `document.getElementById("f-transfer_max").value + "/" + document.getElementById("f-transfer_fee").value`); v != "12/3000" {
				t.Errorf("saved transfer terms show %q", v)
			}

			// Deferral: a deadline typed into the date-time field by keys is
			// the browser's own widget; set it, then the fee and cap by keyboard.
			browsertest.Eval[bool](b, `(document.getElementById("f-deferral_deadline").value = "2030-01-02T09:00") && true`)
			b.TabTo("deferral_fee", 60)
			b.Keys("5000\t2")
			b.KeysToPage("\r")
			b.WaitFor(`#after-done[data-done="deferral"]`)
			b.Check("after-saved", tc.lang)
			if got := b.Text("#after-done"); !strings.Contains(got, tc.ok) {
				t.Errorf("deferral saved notice: %q", got)
			}
			set, err := s.store.DeferralSettings(context.Background(), eventID(t, s))
			if err != nil || set.FeeMinor != 5000 || set.Cap != 2 {
				t.Errorf("stored deferral terms: %+v %v", set, err)
			}
			for _, e := range b.ConsoleErrors() {
				if !strings.Contains(e, "status of 422") { // the refused form's own answer
					t.Errorf("console error: %s", e)
				}
			}
		})
	}
}

func eventID(t *testing.T, s *site) int64 {
	t.Helper()
	var id int64
	s.store.DB().Raw("SELECT id FROM events WHERE slug = 'spring'").Scan(&id)
	return id
}
