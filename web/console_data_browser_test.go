package web_test

import (
	"strings"
	"testing"

	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
)

// TestBrowserConsoleData: an organizer signs in on a 390 px phone, reads
// the entries list, searches it and pages it, opens the exports tab, sets
// bib ranges (an overlap is shown next to its field, then fixed), assigns
// bibs after the confirmation, and downloads the entries CSV with the
// page's cookies, all by keyboard, in English and Korean, with no console
// errors. Every page fits the screen and labels its controls (b.Check).
func TestBrowserConsoleData(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang                  string
		next, exportsTab, assign, assignDo string
		words                              []string // the entries page, the bib error, the result
	}{
		{"en", "en-US", "Next page", "Exports", "Assign bibs…", "Assign bibs",
			[]string{"Half Marathon · Open", "Not flagged", "This range overlaps another pace group's range.", "Bibs assigned: 2 new, 2 runners hold a bib."}},
		{"ko", "ko-KR", "다음 페이지", "내보내기", "배번 부여…", "배번 부여",
			[]string{"Half Marathon · Open", "검토 대상 아님", "이 범위가 다른 페이스 그룹의 범위와 겹칩니다.", "배번을 부여했습니다: 새로 2명, 배번이 있는 참가자 2명."}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s := newSite(t, true)
			s.seedEntries(60)
			enr, err := s.staff.Add(t.Context(), "boss@example.com", lottery.RoleOrganizer, "correct horse battery staple")
			if err != nil {
				t.Fatal(err)
			}
			code := totpNow(t, enr.TOTPURL)
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			b.WatchConsole()

			s.keyboardSignIn(b, "boss@example.com", code, "/admin/events/spring/entries")
			b.WaitFor("table.entries")
			b.Check("entries", tc.lang)
			got := b.Text("main")
			for _, w := range []string{tc.words[0], tc.words[1], "Runner 059"} {
				if !strings.Contains(got, w) {
					t.Errorf("entries page lacks %q", w)
				}
			}

			// Page by keyboard: the oldest ten are on the second page.
			b.TabTo(tc.next, 80)
			b.KeysToPage("\r")
			b.WaitFor("table.entries")
			if got := b.Text("table.entries"); !strings.Contains(got, "Runner 009") || strings.Contains(got, "Runner 059") {
				t.Errorf("second page:\n%s", got)
			}
			b.Check("entries-page-2", tc.lang)

			// Search by e-mail address.
			b.TabTo("q", 40)
			b.Keys("runner42@example.com")
			b.KeysToPage("\r")
			b.WaitFor("table.entries")
			if got := b.Text("table.entries"); !strings.Contains(got, "Runner 042") || strings.Contains(got, "Runner 041") {
				t.Errorf("search:\n%s", got)
			}
			b.Check("entries-search", tc.lang)

			// The exports tab; ranges that overlap, refused in place.
			b.TabTo(tc.exportsTab, 40)
			b.KeysToPage("\r")
			b.WaitFor("form.bibs")
			b.Check("exports", tc.lang)
			b.TabTo("bibs.half:sub-130.first", 40)
			b.Keys("1\t100\t50\t150")
			b.KeysToPage("\r")
			b.WaitFor("small.error")
			if got := b.Text("small.error"); got != tc.words[2] {
				t.Errorf("the range error reads %q", got)
			}
			b.Check("bibs-refused", tc.lang)
			b.TabTo("bibs.half:open.first", 40)
			browsertest.Eval[bool](b, `(document.activeElement.select(), true)`)
			b.Keys("101")
			b.KeysToPage("\r")
			b.WaitFor("p.notice")

			// Assign, after the confirmation.
			b.TabTo(tc.assign, 60)
			b.KeysToPage("\r")
			b.WaitFor("section.confirm")
			b.Check("assign-confirm", tc.lang)
			b.TabTo(tc.assignDo, 40)
			b.KeysToPage("\r")
			b.WaitFor("p.notice")
			if got := b.Text("p.notice"); got != tc.words[3] {
				t.Errorf("after assigning: %q", got)
			}
			b.Check("assigned", tc.lang)

			// The download link answers the CSV to the page's cookies.
			header := browsertest.Eval[string](b, `fetch(document.querySelector('a[href$="/exports/entries.csv"]').href)
				.then(r => r.ok && r.headers.get("Content-Type") === "text/csv; charset=utf-8" ? r.text() : "status " + r.status)
				.then(t => t.replace(/^\uFEFF/, "").split("\n")[0])`)
			if want := "Entry ID,Created at (Asia/Seoul),Status,Course,Pace group,E-mail,Name,Phone,Birth date,Group,Risk score,Review state,Tickets,Language,Privacy notice version,Privacy accepted at,Waiver version,Waiver accepted at"; header != want {
				t.Errorf("entries.csv header:\n got %s\nwant %s", header, want)
			}
			start := browsertest.Eval[string](b, `fetch(document.querySelector('a[href$="/exports/start-list.csv"]').href).then(r => r.text())`)
			if !strings.Contains(start, "101,Runner 002") || !strings.Contains(start, "102,Runner 003") {
				t.Errorf("start list:\n%s", start)
			}
			// The refused ranges form is answered 422 on purpose (the page
			// with the error in place); Chromium logs that status of the
			// document itself. Nothing else may be logged.
			for _, e := range b.ConsoleErrors() {
				if !strings.Contains(e, "status of 422") || !strings.Contains(e, "/admin/events/spring/exports/bibs:") {
					t.Errorf("console error: %s", e)
				}
			}
		})
	}
}
