package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
)

// TestBrowserDashboard: an organizer signs in with TOTP on a 390 px phone,
// by keyboard, and lands on the dashboard of an event with entries, offers
// (paid, declined, re-offered) and payments made through the pages. Every
// chart is drawn (an svg with its name), the totals equal the tables'
// counts, a chart's numbers open by keyboard as a table, nothing is wider
// than the screen and the console stays clean, in English and Korean.
func TestBrowserDashboard(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang string
		charts            []string
		words             []string
	}{
		{"en", "en-US", []string{"Applications over time", "Demand and capacity", "Odds of the drawn groups", "Risk scores", "Review backlog", "Offers", "Money"},
			[]string{"Dashboard", "Half Marathon · Open", "In the running", "Re-offered", "₩160,000"}},
		{"ko", "ko-KR", []string{"시간별 신청", "수요와 정원", "추첨 그룹의 당첨 확률", "위험 점수", "검토 대기", "참가 제안", "금액"},
			[]string{"대시보드", "Half Marathon · Open", "유효한 신청", "재제안", "₩160,000"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s, want := dashboardSite(t)
			enr, err := s.staff.AddTo(context.Background(), lottery.DefaultOrg, "boss@example.com", lottery.RoleOrganizer, "correct horse battery staple")
			if err != nil {
				t.Fatal(err)
			}
			key, _ := otp.NewKeyFromURL(enr.TOTPURL)
			code, _ := totp.GenerateCode(key.Secret(), s.svc.Now())

			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			b.WatchConsole()
			check := func(label string) {
				t.Helper()
				b.Check(label, tc.lang)
				if wide := b.OffScreen(); len(wide) > 0 {
					t.Errorf("%s: elements wider than the screen: %v", label, wide)
				}
			}

			s.keyboardSignIn(b, "boss@example.com", code, "/admin/events/spring/dashboard")
			b.WaitFor("section.dashboard")
			check("dashboard")

			charts := browsertest.Eval[[]string](b, `Array.from(document.querySelectorAll("figure.chart > svg[role=img]")).map(e => e.getAttribute("aria-label"))`)
			if d := cmp.Diff(tc.charts, charts); d != "" {
				t.Errorf("charts (-want +got):\n%s", d)
			}
			if n := browsertest.Eval[int](b, `document.querySelectorAll("figure.chart svg rect.bar, figure.chart svg polygon.area").length`); n < 5 {
				t.Errorf("%d bars and areas drawn: the charts are empty", n)
			}
			totals := browsertest.Eval[map[string]string](b, `Object.fromEntries(Array.from(document.querySelectorAll("dd[id^=dash-]")).map(e => [e.id, e.textContent.trim()]))`)
			if d := cmp.Diff(want, totals); d != "" {
				t.Errorf("totals (-tables +page):\n%s", d)
			}
			text := b.Text("main")
			for _, w := range tc.words {
				if !strings.Contains(text, w) {
					t.Errorf("page lacks %q", w)
				}
			}

			// The first chart's numbers, by keyboard: Tab to its summary,
			// Enter opens the table.
			summary := map[string]string{"en": "Show the numbers", "ko": "수치 보기"}[tc.lang]
			b.TabTo(summary, 40)
			b.Keys("\r")
			if open := browsertest.Eval[bool](b, `document.querySelector("details.chart-data").open`); !open {
				t.Fatalf("Enter on the summary did not open the numbers")
			}
			rows := browsertest.Eval[int](b, `document.querySelector("details.chart-data table").rows.length`)
			if rows < 2 {
				t.Errorf("the numbers table has %d rows", rows)
			}
			check("dashboard-numbers")

			if errs := b.ConsoleErrors(); len(errs) > 0 {
				t.Errorf("console errors: %v", errs)
			}
		})
	}
}
