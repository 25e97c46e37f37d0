package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/startline/startline/internal/browsertest"
)

// TestBrowserConsoleEventForm: an organizer signs in with TOTP on a 390 px
// phone and lands on the events list, opens the event form by keyboard,
// fills two courses with pace groups (the second course added with "add
// another course"), meets a refused pace in place with the focus on it,
// fixes it, renames the draft in its edit form, and previews it, in
// English and Korean. Every page fits
// the screen and labels its controls (b.Check); the console stays free of
// errors.
func TestBrowserConsoleEventForm(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang string
		list, newEvent    string
		refused, preview  []string
	}{
		{"en", "en-US", "Your events", "New event", []string{"Nothing was saved", "Course 2 · pace group 1 · Slowest pace (m:ss per km): give a pace per km as m:ss"},
			[]string{"Preview — not public", "Han River Run", "10 km", "Half Marathon", "Under 45 min"}},
		{"ko", "ko-KR", "우리 대회", "새 대회", []string{"저장하지 않았습니다", "코스 2 · 페이스 그룹 1 · 가장 느린 페이스 (km당 분:초)", "이 항목을 고쳐 주세요"},
			[]string{"미리 보기 — 공개되지 않음", "Han River Run", "10 km", "Half Marathon", "Under 45 min"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			s := newSite(t, true)
			code := s.enrol("", "boss@example.com", "organizer")
			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			b.WatchConsole()
			q := func(name string) chromedp.CSS { return chromedp.CSS(`[name="` + name + `"]`) }

			s.keyboardSignIn(b, "boss@example.com", code, "")
			b.WaitFor(".console-events")
			if u := b.URL(); !strings.HasSuffix(u, "/admin") {
				t.Fatalf("the organizer landed on %s", u)
			}
			if got := b.Text("main"); !strings.Contains(got, tc.list) || !strings.Contains(got, "Spring Marathon") {
				t.Errorf("events list:\n%s", got)
			}
			b.Check("events", tc.lang)

			b.TabTo(tc.newEvent, 30)
			b.KeysToPage("\r")
			b.WaitFor(string(q("slug")))
			b.Check("new", tc.lang)
			b.Do(chromedp.SendKeys(q("slug"), "han-river"),
				chromedp.SendKeys(q("name"), "Han River Run"),
				chromedp.SendKeys(q("time_zone"), "Asia/Seoul"),
				chromedp.SetValue(q("opens_at"), "2031-04-01T09:00"),
				chromedp.SetValue(q("closes_at"), "2031-04-08T18:00"),
				chromedp.SendKeys(q("courses[0].code"), "10k"),
				chromedp.SendKeys(q("courses[0].name"), "10 km"),
				chromedp.SendKeys(q("courses[0].distance_km"), "10"),
				chromedp.SendKeys(q("courses[0].pace_groups[0].code"), "fast"),
				chromedp.SendKeys(q("courses[0].pace_groups[0].label"), "Under 45 min"),
				chromedp.SendKeys(q("courses[0].pace_groups[0].pace_max"), "4:30"),
				chromedp.SendKeys(q("courses[0].pace_groups[0].capacity"), "300"),
				chromedp.SendKeys(q("courses[0].pace_groups[0].price"), "40000"),
				chromedp.SendKeys(q("courses[0].pace_groups[1].code"), "open"),
				chromedp.SendKeys(q("courses[0].pace_groups[1].label"), "Open"),
				chromedp.SendKeys(q("courses[0].pace_groups[1].capacity"), "700"),
				chromedp.SetValue(q("courses[0].pace_groups[1].mode"), "ordered"),
				chromedp.Focus(chromedp.CSS(`button[value="course"]`)))
			b.KeysToPage("\r") // "Add another course", by keyboard
			b.WaitFor(string(q("courses[1].code")))
			if got := browsertest.Eval[string](b, `document.querySelector('[name="courses[0].pace_groups[0].label"]').value`); got != "Under 45 min" {
				t.Errorf("adding a course lost what was typed: %q", got)
			}
			b.Do(chromedp.SendKeys(q("courses[1].code"), "half"),
				chromedp.SendKeys(q("courses[1].name"), "Half Marathon"),
				chromedp.SendKeys(q("courses[1].distance_km"), "21.1"),
				chromedp.SendKeys(q("courses[1].pace_groups[0].code"), "open"),
				chromedp.SendKeys(q("courses[1].pace_groups[0].label"), "Open"),
				chromedp.SendKeys(q("courses[1].pace_groups[0].pace_max"), "4:7"), // not m:ss: refused
				chromedp.SendKeys(q("courses[1].pace_groups[0].capacity"), "500"),
				chromedp.Focus(q("courses[1].pace_groups[0].capacity")))
			b.KeysToPage("\r") // Enter in a field saves (never "add another")
			b.WaitFor("small.error")
			b.Check("refused", tc.lang)
			page := b.Text("main")
			for _, w := range tc.refused {
				if !strings.Contains(page, w) {
					t.Errorf("refused form lacks %q", w)
				}
			}
			const bad = "courses[1].pace_groups[0].pace_max"
			if f := b.Focused(); f != bad {
				t.Errorf("focus after the refusal on %q, want %q", f, bad)
			}
			near := browsertest.Eval[string](b, `document.querySelector('[name="`+bad+`"]').closest("label").innerText`)
			if !strings.Contains(near, "m:ss") {
				t.Errorf("the error is not beside the pace: %q", near)
			}
			kept := browsertest.Eval[string](b, `["name", "courses[0].pace_groups[1].mode", "courses[1].name", "`+bad+`"]
				.map(n => document.querySelector('[name="' + n + '"]').value).join("|")`)
			if want := "Han River Run|ordered|Half Marathon|4:7"; kept != want {
				t.Errorf("input after the refusal: %q, want %q", kept, want)
			}

			// Fixed in place by keyboard, then saved with Enter.
			browsertest.Eval[string](b, `document.querySelector('[name="`+bad+`"]').select(), ""`)
			b.Keys("4:45")
			b.KeysToPage("\r")
			b.WaitFor("[data-saved]")
			b.Check("saved", tc.lang)
			if u := b.URL(); !strings.Contains(u, "/admin/events/han-river/edit") {
				t.Fatalf("after creating: %s", u)
			}

			// The draft changes in full: its name, typed over and saved with Enter.
			browsertest.Eval[string](b, `document.querySelector('[data-saved]').remove(), ""`)
			b.Do(chromedp.Focus(q("name")))
			browsertest.Eval[string](b, `document.querySelector('[name="name"]').select(), ""`)
			b.Keys("Han River Run 2031")
			b.KeysToPage("\r")
			b.WaitFor("[data-saved]")
			if got := b.Text("h1"); got != "Han River Run 2031" {
				t.Errorf("the draft's name after the edit: %q", got)
			}

			b.TabTo(map[string]string{"en": "Preview", "ko": "미리 보기"}[tc.lang], 30)
			b.KeysToPage("\r")
			b.WaitFor("[data-preview]")
			b.Check("preview", tc.lang)
			page = b.Text("main")
			for _, w := range tc.preview {
				if !strings.Contains(page, w) {
					t.Errorf("preview lacks %q:\n%s", w, page)
				}
			}
			if n := browsertest.Eval[int](b, `document.querySelectorAll('#step1 input:not([disabled]), #step1 button:not([disabled])').length`); n != 0 {
				t.Errorf("the preview has %d usable apply controls", n)
			}
			// The refused form is answered 422 on purpose (Chromium logs any
			// 4xx document as a failed load); nothing else may be logged.
			var errs []string
			for _, e := range b.ConsoleErrors() {
				if !strings.Contains(e, "status of 422") || !strings.Contains(e, "/admin/events/new:") {
					errs = append(errs, e)
				}
			}
			if len(errs) > 0 {
				t.Errorf("console errors: %v", errs)
			}
		})
	}
}
