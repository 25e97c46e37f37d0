package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
)

// TestBrowserConsoleLifecycle: an organizer signs in with TOTP on a 390 px
// phone and, by keyboard only, in English and Korean, publishes a draft
// through its confirmation (the commitment then shows), pauses and resumes
// an ordered group's waiting room, closes, freezes, reveals and draws (the
// draw workers run inline while the overview shows the progress, then the
// refresh link shows every group drawn) and publishes the results, then
// reads the audit log. Every page fits the screen and labels its controls
// (b.Check); no page writes a console error.
func TestBrowserConsoleLifecycle(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang             string
		paused, drawn, results, audit string
	}{
		{"en", "en-US", "Paused", "Drawn", "Published the results", "Audit log"},
		{"ko", "ko-KR", "일시 정지", "추첨 완료", "결과를 발표했습니다", "감사 기록"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s := newSite(t, true)
			ctx := context.Background()
			zero := 0
			if _, err := s.svc.CreateEvent(ctx, s.org, lottery.EventSpec{Slug: "fall", Name: "Fall Half", TimeZone: "Asia/Seoul",
				OpensAt: time.Now().Add(-time.Hour), ClosesAt: time.Now().Add(24 * time.Hour), DisputeWindow: "0s", UnreviewedPolicy: "exclude",
				Courses: []lottery.CourseSpec{{Code: "10k", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{
					{Code: "open", Label: "Open", Capacity: 5},
					{Code: "walk", Label: "Walkers", Capacity: 10, Mode: "ordered", PrequeueMinutes: &zero}}}}}); err != nil {
				t.Fatal(err)
			}
			code := s.enrol("", "boss@example.com", lottery.RoleOrganizer)

			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			b.WatchConsole()
			s.keyboardSignIn(b, "boss@example.com", code, "/admin/events/fall")
			b.WaitFor("#overview-title")
			b.Check("overview-draft", tc.lang)

			// step follows a next-step link to its confirmation and confirms.
			step := func(action string) {
				t.Helper()
				b.TabTo("action-"+action, 60)
				b.KeysToPage("\r")
				b.WaitFor("#confirm-submit")
				b.Check("confirm-"+action, tc.lang)
				b.TabTo("confirm-submit", 20)
				b.KeysToPage("\r")
				b.WaitFor("#overview-done")
				if got := browsertest.Eval[string](b, `document.querySelector("#overview-done").dataset.done`); got != action {
					t.Fatalf("after %s the overview says %q done", action, got)
				}
			}
			step("publish")
			b.WaitFor("#overview-commitment")
			b.Check("overview-published", tc.lang)

			b.TabTo("pause-10k--walk", 80)
			b.KeysToPage("\r")
			b.WaitFor("#resume-10k--walk")
			if got := b.Text(`#sq-10k--walk [data-field="room"]`); !strings.Contains(got, tc.paused) {
				t.Errorf("paused room reads %q, want %q", got, tc.paused)
			}
			b.Check("paused", tc.lang)
			b.TabTo("resume-10k--walk", 80)
			b.KeysToPage("\r")
			b.WaitFor("#pause-10k--walk")

			if _, err := s.store.InsertSyntheticLotteryEntries(ctx, "fall", 12); err != nil {
				t.Fatal(err)
			}
			step("close")
			step("freeze")
			step("reveal")
			step("draw")
			b.WaitFor("#draw-running")
			b.Check("drawing", tc.lang)
			var ids []int64
			s.store.DB().Raw(`SELECT subqueue_id FROM draws d JOIN events ev ON ev.id = d.event_id WHERE ev.slug = 'fall'`).Scan(&ids)
			for _, id := range ids {
				if _, err := s.draws.RunDraw(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			b.TabTo("overview-refresh", 60)
			b.KeysToPage("\r")
			b.WaitFor(`#sq-10k--open [data-draw="drawn"]`)
			if got := b.Text("#draw-drawn"); got != "1" {
				t.Errorf("drawn groups: %q", got)
			}
			if got := b.Text(`#sq-10k--open [data-field="draw"]`); !strings.Contains(got, tc.drawn) {
				t.Errorf("draw state %q, want %q", got, tc.drawn)
			}
			b.Check("drawn", tc.lang)
			step("publish-results")
			b.WaitFor("#overview-results")
			b.Check("results", tc.lang)

			b.TabTo(tc.audit, 40)
			b.KeysToPage("\r")
			b.WaitFor("#audit-records")
			if got := b.Text("#audit-records"); !strings.Contains(got, tc.results) || !strings.Contains(got, "boss@example.com") {
				t.Errorf("audit log:\n%s", got)
			}
			b.Check("audit", tc.lang)
			if errs := b.ConsoleErrors(); len(errs) > 0 {
				t.Errorf("console errors: %v", errs)
			}
		})
	}
}
