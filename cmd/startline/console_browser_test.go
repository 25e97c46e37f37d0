package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/startline/startline/antibot/pow"
	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
)

// consoleRedisDB is the Redis database the console walk's app uses (the
// matrix has 12, the journey 13).
const consoleRedisDB = 11

const consolePassword = "console walk password"

// TestBrowserOrganizerConsole is issue 14's whole walk in Debian's headless
// Chromium on a 390 px phone, against the real app in dev mode: an
// organizer signs in with TOTP and lands on the console, creates an event
// with two courses through the form, publishes it (the commitment shown),
// runners apply through the API (one of them flagged), a reviewer of the
// organization signs in and approves the flagged entry, the organizer
// closes, freezes, reveals and draws from the console with a confirmation
// for each step, the dashboard shows the numbers, the organizer downloads
// the CSVs and publishes the results. No page has a console error or an
// element past the screen's edge; screenshots are kept in
// test-output/screenshots.
func TestBrowserOrganizerConsole(t *testing.T) {
	t.Setenv("STARTLINE_TRUSTED_PROXIES", "127.0.0.1/32") // each runner its own address
	_, a, srv := serveDevApp(t, consoleRedisDB)
	ctx := context.Background()
	const org = "han-river-club"
	orgTOTP := enrolStaff(t, a, org, "organizer@console.test", lottery.RoleOrganizer)
	revTOTP := enrolStaff(t, a, org, "reviewer@console.test", lottery.RoleReviewer)

	b := browsertest.New(t, browsertest.Options{Lang: "en-US"})
	b.WatchConsole()
	check := func(label string) {
		t.Helper()
		b.Check(label, "en")
		if wide := b.OffScreen(); len(wide) > 0 {
			t.Errorf("%s: elements wider than the screen: %v", label, wide)
		}
	}
	contains := func(where string, want ...string) {
		t.Helper()
		page := b.Text("main")
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s lacks %q:\n%s", where, w, page)
			}
		}
	}
	q := func(name string) chromedp.CSS { return chromedp.CSS(`[name="` + name + `"]`) }

	// Sign in by keyboard with the authenticator's code: the console.
	signIn(t, b, srv.URL, "organizer@console.test", orgTOTP)
	b.WaitFor(".console-events")
	if u := b.URL(); !strings.HasSuffix(u, "/admin") {
		t.Fatalf("the organizer landed on %s", u)
	}
	check("console-events")

	// A new event with two courses, through the form.
	b.Open(srv.URL + "/admin/events/new")
	b.WaitFor(string(q("slug")))
	seoul, _ := time.LoadLocation("Asia/Seoul")
	local := func(t time.Time) string { return t.In(seoul).Format("2006-01-02T15:04") }
	now := time.Now()
	b.Do(chromedp.SendKeys(q("slug"), "console-race"),
		chromedp.SendKeys(q("name"), "Console River Run"),
		chromedp.SetValue(q("time_zone"), "Asia/Seoul"),
		chromedp.SetValue(q("opens_at"), local(now.Add(-time.Hour))),
		chromedp.SetValue(q("closes_at"), local(now.Add(6*time.Hour))),
		chromedp.SetValue(q("dispute_window"), "0s"),
		chromedp.SendKeys(q("courses[0].code"), "10k"),
		chromedp.SendKeys(q("courses[0].name"), "10 km"),
		chromedp.SendKeys(q("courses[0].distance_km"), "10"),
		chromedp.SendKeys(q("courses[0].pace_groups[0].code"), "open"),
		chromedp.SendKeys(q("courses[0].pace_groups[0].label"), "Open"),
		chromedp.SendKeys(q("courses[0].pace_groups[0].capacity"), "2"),
		chromedp.SendKeys(q("courses[0].pace_groups[0].price"), "30000"),
		chromedp.Focus(chromedp.CSS(`button[value="course"]`)))
	b.KeysToPage("\r") // "Add another course"
	b.WaitFor(string(q("courses[1].code")))
	b.Do(chromedp.SendKeys(q("courses[1].code"), "half"),
		chromedp.SendKeys(q("courses[1].name"), "Half Marathon"),
		chromedp.SendKeys(q("courses[1].distance_km"), "21.1"),
		chromedp.SendKeys(q("courses[1].pace_groups[0].code"), "open"),
		chromedp.SendKeys(q("courses[1].pace_groups[0].label"), "Open"),
		chromedp.SendKeys(q("courses[1].pace_groups[0].capacity"), "1"),
		chromedp.SendKeys(q("courses[1].pace_groups[0].price"), "50000"),
		chromedp.Focus(q("courses[1].pace_groups[0].capacity")))
	check("console-new-event")
	b.KeysToPage("\r")
	b.WaitFor("[data-saved]")
	check("console-event-saved")

	// Publish from the overview, behind its confirmation: the commitment.
	overview := srv.URL + "/admin/events/console-race"
	step := func(action, label string) {
		t.Helper()
		b.Open(overview)
		b.WaitFor("#action-" + action)
		b.Do(chromedp.Click(chromedp.CSS("#action-" + action)))
		b.WaitFor("#confirm-submit")
		check("console-confirm-" + label)
		b.Do(chromedp.Click(chromedp.CSS("#confirm-submit")))
		b.WaitFor("#overview-status")
		if errs := browsertest.Eval[string](b, `(document.querySelector("#confirm-error")||{}).innerText||""`); errs != "" {
			t.Fatalf("%s refused: %s", action, errs)
		}
	}
	step("publish", "publish")
	b.WaitFor("#overview-commitment")
	check("console-published")
	if c := b.Text("#overview-commitment"); len(c) < 32 {
		t.Errorf("commitment %q", c)
	}

	// Runners apply through the API; one is flagged for review.
	var flagged string
	applied := 0
	for i, r := range []struct{ course, email string }{
		{"10k", "kim@console.test"}, {"10k", "lee@console.test"}, {"10k", "park@console.test"},
		{"half", "choi@console.test"}, {"half", "jung@console.test"}, {"10k", "bot@console.test"},
	} {
		id := apiApply(t, srv.URL, "console-race", r.course, r.email, fmt.Sprintf("175.223.9.%d", 10+i), r.email == "bot@console.test")
		applied++
		if r.email == "bot@console.test" {
			flagged = id
		}
	}

	// The reviewer approves the flagged entry.
	rb := browsertest.New(t, browsertest.Options{Lang: "en-US"})
	rb.WatchConsole()
	signIn(t, rb, srv.URL, "reviewer@console.test", revTOTP)
	rb.WaitFor("table.queue")
	rb.Open(srv.URL + "/review?event=console-race")
	rb.WaitFor("table.queue")
	if !strings.Contains(rb.Text("table.queue"), flagged[:8]) {
		t.Fatalf("the flagged entry %s is not in the queue:\n%s", flagged, rb.Text("table.queue"))
	}
	rb.Open(srv.URL + "/review/entries/" + flagged)
	rb.WaitFor(`button[value="approve"]`)
	rb.Check("review-entry", "en")
	rb.Do(chromedp.Click(chromedp.CSS(`button[value="approve"]`)))
	rb.WaitFor("table.queue")
	if errs := rb.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("reviewer's console errors: %v", errs)
	}

	// Close, freeze, reveal and draw from the console.
	step("close", "close")
	step("freeze", "freeze")
	step("reveal", "reveal")
	step("draw", "draw")
	b.WaitFor("#draw-progress")
	check("console-drawing")
	// The workers' part of the draw, run here as `startline worker` would.
	_, ds, err := a.draws.Draws(ctx, "console-race")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if _, err := a.draws.RunDraw(ctx, d.SubQueueID); err != nil {
			t.Fatal(err)
		}
	}
	b.Open(overview)
	b.WaitFor("#draw-drawn")
	if got := b.Text("#draw-drawn"); strings.TrimSpace(got) != "2" {
		t.Errorf("sub-queues drawn: %q, want 2", got)
	}
	check("console-drawn")

	// The dashboard shows the numbers.
	b.Open(overview + "/dashboard")
	b.WaitFor("#dash-entries-total")
	check("console-dashboard")
	if got := b.Text("#dash-entries-total"); !strings.Contains(got, fmt.Sprint(applied)) {
		t.Errorf("dashboard entries %q, want %d", got, applied)
	}
	if got := b.Text("#dash-capacity-total"); !strings.Contains(got, "3") {
		t.Errorf("dashboard capacity %q, want 3", got)
	}
	if n := browsertest.Eval[int](b, `document.querySelectorAll("main svg[role=img]").length`); n < 4 {
		t.Errorf("the dashboard draws %d charts", n)
	}

	// The CSVs, downloaded with the organizer's session.
	b.Open(overview + "/exports")
	b.WaitFor("ul.downloads")
	check("console-exports")
	for _, f := range []struct {
		file, header string
		rows         int
	}{{"entries.csv", "entry", applied}, {"results.csv", "", applied}, {"start-list.csv", "bib", 0}, {"payments.csv", "", 0}} {
		csv := browsertest.Eval[string](b, `fetch("/admin/events/console-race/exports/`+f.file+`").then(r => r.text())`)
		lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(csv, "\ufeff")), "\n")
		if !strings.Contains(strings.ToLower(lines[0]), f.header) {
			t.Errorf("%s header %q lacks %q", f.file, lines[0], f.header)
		}
		if f.rows > 0 && len(lines)-1 != f.rows {
			t.Errorf("%s has %d rows, want %d", f.file, len(lines)-1, f.rows)
		}
	}
	if !strings.Contains(browsertest.Eval[string](b, `fetch("/admin/events/console-race/exports/entries.csv").then(r => r.text())`), "kim@console.test") {
		t.Error("entries.csv lacks a runner's address")
	}

	// Results published.
	step("publish-results", "publish-results")
	b.WaitFor("#overview-results")
	check("console-results")
	contains("overview", "Console River Run")

	// Publishing the results offered the three places: the dashboard says so.
	b.Open(overview + "/dashboard")
	b.WaitFor("#dash-offers-issued")
	if got := b.Text("#dash-offers-issued"); strings.TrimSpace(got) != "3" {
		t.Errorf("dashboard offers issued %q, want 3", got)
	}
	check("console-dashboard-offers")

	// Closing the waitlist: the last step after the results.
	step("settle", "settle")
	if st := b.Text("#overview-status"); !strings.Contains(st, "Waitlist closed") {
		t.Errorf("status after closing the waitlist: %q", st)
	}

	// The audit log names what the organizer did.
	b.Open(overview + "/audit")
	b.WaitFor("main")
	check("console-audit")
	contains("audit", "Closed the waitlist")

	if errs := b.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// enrolStaff adds an account of org with consolePassword and returns its
// TOTP secret.
func enrolStaff(t *testing.T, a *app, org, email string, role lottery.Role) string {
	t.Helper()
	enr, err := a.staff.AddTo(context.Background(), org, email, role, consolePassword)
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(enr.TOTPURL)
	if err != nil {
		t.Fatal(err)
	}
	return key.Secret()
}

// signIn signs a staff member in by keyboard with the current TOTP code.
func signIn(t *testing.T, b *browsertest.Browser, base, email, secret string) {
	t.Helper()
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.Open(base + "/staff/login")
	b.TabTo("email", 20)
	b.Keys(email + "\t" + consolePassword + "\t" + code)
	b.KeysToPage("\r")
}

// apiApply applies to slug's course (pace group "open") through the API
// as a runner at ip would: a solved challenge, the code from the dev
// outbox, the application. A bot's signals (webdriver) send it to review.
// It returns the entry id.
func apiApply(t *testing.T, base, slug, course, email, ip string, bot bool) string {
	t.Helper()
	call := func(method, path string, body any, hdr ...string) (int, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			rd = bytes.NewReader(raw)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Language", "en-US,en;q=0.9")
		req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")
		req.Header.Set("X-Forwarded-For", ip)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, raw
	}
	st, raw := call("POST", "/api/v1/events/"+slug+"/challenge", nil)
	if st != http.StatusOK {
		t.Fatalf("challenge: %d %s", st, raw)
	}
	var ch pow.Challenge
	if err := json.Unmarshal(raw, &ch); err != nil {
		t.Fatal(err)
	}
	n, err := pow.Solve(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	if st, raw := call("POST", "/api/v1/events/"+slug+"/otp", map[string]string{"email": email}); st != http.StatusAccepted {
		t.Fatalf("otp for %s: %d %s", email, st, raw)
	}
	msgs := devOutbox(t, base, email)
	if len(msgs) == 0 {
		t.Fatalf("no code mail for %s", email)
	}
	code := journeyCodeRe.FindStringSubmatch(msgs[0].Body)
	if code == nil {
		t.Fatalf("no code in %q", msgs[0].Body)
	}
	signals := map[string]any{"webdriver": false, "fill_ms": 42000, "timezone": "Asia/Seoul",
		"languages": []string{"en-US", "en"}, "platform": "iPhone", "screen": "390x844", "touch": true,
		"fingerprint": "fp-" + url.QueryEscape(email)}
	if bot {
		signals = map[string]any{"webdriver": true, "fill_ms": 30000}
	}
	st, raw = call("POST", "/api/v1/events/"+slug+"/entries", map[string]any{"course": course, "pace_group": "open",
		"name": strings.Split(email, "@")[0] + " Runner", "email": email, "phone": "+82 10-2345-" + fmt.Sprintf("%04d", 1000+len(ip)*100+int(ip[len(ip)-1])),
		"birth_date": "1990-04-01", "otp": code[1], "altcha": pow.EncodePayload(ch, n), "signals": signals},
		"Idempotency-Key", "console-"+email)
	if st != http.StatusCreated {
		t.Fatalf("apply %s: %d %s", email, st, raw)
	}
	var res struct {
		EntryID string `json:"entry_id"`
		Status  string `json:"status"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || res.EntryID == "" {
		t.Fatalf("apply %s: %s", email, raw)
	}
	if bot && res.Status != string(lottery.EntryInReview) {
		t.Fatalf("the bot's entry is %s, want in review", res.Status)
	}
	return res.EntryID
}
