package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/startline/startline/internal/browsertest"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
)

// journeyRedisDB is the Redis database the journey's app uses (its keys
// carry the app's "startline:" prefix and are deleted when the test ends).
const journeyRedisDB = 13

// outboxMessage is one message of the dev outbox's JSON (API.md).
type outboxMessage struct {
	To, Subject, Body, HTML string
}

// devOutbox reads the dev outbox for an address over HTTP, newest first.
func devOutbox(t *testing.T, base, to string) []outboxMessage {
	t.Helper()
	res, err := http.Get(base + "/dev/outbox.json?to=" + url.QueryEscape(to))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ Messages []outboxMessage }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		t.Fatalf("dev outbox: %d %v", res.StatusCode, err)
	}
	return out.Messages
}

// mailWith finds the newest message whose subject contains s.
func mailWith(msgs []outboxMessage, s string) (outboxMessage, bool) {
	for _, m := range msgs {
		if strings.Contains(m.Subject, s) {
			return m, true
		}
	}
	return outboxMessage{}, false
}

var journeyCodeRe = regexp.MustCompile(`\b([0-9]{6})\b`)

// TestBrowserRunnerJourney walks a runner's whole journey as `make run`
// serves it (the real app, dev mode) in Debian's headless Chromium on a
// 390 × 844 phone, in Korean and in English: the event page with race day,
// place and price; the course and pace group; identity, the race's
// questions and both consents; the code from the dev outbox; the receipt
// and the status page; then, after the organizer runs the draw, the offer
// with its amount, the sandbox payment and the confirmation mail, with no
// console error and nothing wider than the screen on any page.
func TestBrowserRunnerJourney(t *testing.T) {
	for _, tc := range []struct {
		lang, browserLang, email string
		event                    []string // on the event page
		receipt                  []string // on the receipt
		offer                    []string // on the status page with the offer
		paid                     []string // on the status page after paying
		mails                    map[string][]string
	}{
		{"ko", "ko-KR", "journey.ko@example.com",
			[]string{"대회일", "08:00", "Olympic Park, Peace Gate Plaza", "10K · Over 60 min", "₩40,000", "환불"},
			[]string{"신청이 접수되었습니다", "10K · Over 60 min", "접수됨"},
			[]string{"₩40,000", "10K · Over 60 min"},
			[]string{"확정"},
			map[string][]string{"신청 접수": {"10K · Over 60 min", "http://127.0.0.1:8080/entries/"},
				"결제": {"₩40,000", "KST"}}},
		{"en", "en-US", "journey.en@example.com",
			[]string{"Race day", "08:00", "Olympic Park, Peace Gate Plaza", "10K · Over 60 min", "₩40,000", "Refund"},
			[]string{"Application received", "10K · Over 60 min", "Received"},
			[]string{"₩40,000", "10K · Over 60 min"},
			[]string{"Confirmed"},
			map[string][]string{"received": {"10K · Over 60 min", "http://127.0.0.1:8080/entries/"},
				"Payment received": {"₩40,000", "KST"}}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			store, a, srv := serveDevApp(t, journeyRedisDB)
			ctx := context.Background()

			// The organizer's race: the demo's details, prices and questions,
			// no dispute window so the test can draw at once.
			if _, err := a.staff.Add(ctx, "organizer@journey.test", lottery.RoleOrganizer, ""); err != nil {
				t.Fatal(err)
			}
			org, err := store.StaffByEmail(ctx, "organizer@journey.test")
			if err != nil {
				t.Fatal(err)
			}
			spec := demoSpec(time.Now())
			spec.Slug, spec.Name, spec.Series, spec.EditionYear, spec.DisputeWindow = "journey", "Han River Marathon", "", 0, "0s"
			if _, err := a.svc.CreateEvent(ctx, org, spec); err != nil {
				t.Fatal(err)
			}
			if _, err := a.svc.Transition(ctx, org, "journey", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
				t.Fatal(err)
			}

			b := browsertest.New(t, browsertest.Options{Lang: tc.browserLang})
			b.WatchConsole()
			q := func(name string) string { return `[name="` + name + `"]` }
			// check is browsertest's page check plus the stricter one:
			// no visible element reaches past the screen's edge (but the
			// honeypot, kept off-screen for bots and hidden from people).
			check := func(label string) {
				t.Helper()
				b.Check(label, tc.lang)
				if wide := b.OffScreen(); len(wide) > 0 {
					t.Errorf("%s: elements wider than the screen: %v", label, wide)
				}
			}
			contains := func(where string, page string, want []string) {
				t.Helper()
				for _, w := range want {
					if !strings.Contains(page, w) {
						t.Errorf("%s lacks %q:\n%s", where, w, page)
					}
				}
			}

			// The event page: when, where, what it costs.
			b.Open(srv.URL + "/events/journey")
			check("event")
			contains("event page", b.Text("main"), tc.event)

			// The course and pace group, then who is running and the race's questions.
			b.Do(chromedp.Click(chromedp.CSS(`#step1 input[name=subqueue][value="10k:open"]`)),
				chromedp.Click(chromedp.CSS(`#step1 button[type=submit]`)))
			b.WaitFor(q("name"))
			check("identity")
			b.Do(chromedp.SendKeys(chromedp.CSS(q("name")), "Kim Minjun"),
				chromedp.SendKeys(chromedp.CSS(q("email")), tc.email),
				chromedp.SendKeys(chromedp.CSS(q("phone")), "+82 10 2345 6789"),
				chromedp.SetValue(chromedp.CSS(q("birth_date")), "1990-04-01"),
				chromedp.SendKeys(chromedp.CSS(q("answers.emergency.name")), "Park Jiwoo"),
				chromedp.SendKeys(chromedp.CSS(q("answers.emergency.phone")), "010-9876-5432"),
				chromedp.SetValue(chromedp.CSS(q("answers.tshirt")), "M"),
				chromedp.SetValue(chromedp.CSS(q("answers.category")), "men"),
				chromedp.SendKeys(chromedp.CSS(q("answers.club")), "Han River Runners"),
				chromedp.Click(chromedp.CSS(q("answers.cup"))),
				chromedp.Click(chromedp.CSS(q("consents.privacy"))),
				chromedp.Click(chromedp.CSS(q("consents.waiver"))))
			check("questions")
			b.Do(chromedp.Click(chromedp.CSS(`form.panel button[type=submit]`)))
			b.WaitFor(q("otp"))
			check("code")

			// The code, from the dev outbox.
			msgs := devOutbox(t, srv.URL, tc.email)
			if len(msgs) == 0 {
				t.Fatal("no code mail in the dev outbox")
			}
			code := journeyCodeRe.FindStringSubmatch(msgs[0].Body)
			if code == nil {
				t.Fatalf("no code in %q", msgs[0].Body)
			}
			b.Do(chromedp.SendKeys(chromedp.CSS(q("otp")), code[1]+"\r"))
			b.WaitFor(".status")
			check("receipt")
			contains("receipt", b.Text("main"), tc.receipt)
			link := browsertest.Eval[string](b, `(document.querySelector("a[data-status-link]") || {}).href || ""`)
			if link == "" {
				t.Fatal("the receipt has no status link")
			}
			entryID := strings.TrimPrefix(strings.SplitN(link, "?", 2)[0], srv.URL+"/entries/")
			if got := browsertest.Eval[float64](b, `document.querySelector("a[data-status-link]").getBoundingClientRect().right`); got > browsertest.Width {
				t.Errorf("the status link runs to %.0f px on a %d px screen", got, browsertest.Width)
			}
			b.Open(link)
			check("status")

			// The organizer closes, freezes, reveals and draws; results published.
			for _, step := range []struct {
				action string
				p      lottery.TransitionParams
			}{{lottery.ActionClose, lottery.TransitionParams{}}, {lottery.ActionFreeze, lottery.TransitionParams{BeaconRound: "none"}},
				{lottery.ActionReveal, lottery.TransitionParams{}}, {lottery.ActionDraw, lottery.TransitionParams{}}} {
				if _, err := a.svc.Transition(ctx, org, "journey", step.action, step.p); err != nil {
					t.Fatalf("%s: %v", step.action, err)
				}
			}
			_, ds, err := a.draws.Draws(ctx, "journey")
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if _, err := a.draws.RunDraw(ctx, d.SubQueueID); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := a.svc.Transition(ctx, org, "journey", lottery.ActionPublishResults, lottery.TransitionParams{}); err != nil {
				t.Fatal(err)
			}

			// The offer: the amount, then the sandbox's payment.
			b.Open(link)
			b.WaitFor(`button[formaction$="/pay"]`)
			check("offer")
			contains("offer", b.Text("main"), tc.offer)
			b.Do(chromedp.Click(chromedp.CSS(`button[formaction$="/pay"]`)))
			b.WaitFor(`[data-amount]`)
			check("checkout")
			if got := b.Text(`[data-amount]`); !strings.Contains(got, "₩40,000") {
				t.Errorf("checkout amount %q, want ₩40,000", got)
			}
			b.Do(chromedp.Click(chromedp.CSS(`button[formaction$="/pay"]`)))
			b.WaitFor(".status")
			b.Open(link)
			check("paid")
			contains("paid status", b.Text("main"), tc.paid)

			// The mails: receipt and payment, in the runner's language, with
			// absolute links and the event's time zone.
			msgs = devOutbox(t, srv.URL, tc.email)
			for subject, want := range tc.mails {
				m, ok := mailWith(msgs, subject)
				if !ok {
					t.Errorf("no mail with %q in the subject among %d", subject, len(msgs))
					continue
				}
				contains("mail "+subject, m.Body, want)
				if !strings.Contains(m.Body, "/entries/"+entryID) {
					t.Errorf("mail %q does not link the entry", subject)
				}
			}
			if errs := b.ConsoleErrors(); len(errs) > 0 {
				t.Errorf("console errors: %v", errs)
			}
		})
	}
}

// serveDevApp serves the app as `make run` does (dev mode) on a fresh
// database and Redis database redisDB, whose keys are deleted at the end.
func serveDevApp(t *testing.T, redisDB int) (*postgres.Store, *app, *httptest.Server) {
	t.Helper()
	store, dsn := pgtest.NewStore(t)
	redisURL := fmt.Sprintf("redis://127.0.0.1:6379/%d", redisDB)
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("REDIS_URL", redisURL)
	t.Setenv("STARTLINE_ENV", "dev")
	t.Setenv("STARTLINE_SECRET_KEY", "dev-app-test-secret-key-dev-app-test-secret")
	t.Setenv("STARTLINE_PUBLIC_URL", "")
	clearRedisPrefix(t, redisURL, "startline:*")
	t.Cleanup(func() { clearRedisPrefix(t, redisURL, "startline:*") })
	if err := migrateCmd(context.Background(), mustConfig(t), io.Discard); err != nil {
		t.Fatal(err)
	}
	a, srv := serveApp(t)
	return store, a, srv
}

// mustConfig reads the configuration from the environment.
func mustConfig(t *testing.T) config {
	t.Helper()
	cfg, err := loadConfig(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// clearRedisPrefix deletes the test's keys (never FLUSHALL: the Redis is shared).
func clearRedisPrefix(t *testing.T, redisURL, pattern string) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Error(err)
		return
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}
