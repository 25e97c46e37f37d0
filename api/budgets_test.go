package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"

	abredis "github.com/startline/startline/antibot/redis"
)

// rulesWith is generous with the rules of the given kinds replaced.
func rulesWith(over ...abredis.Rule) []abredis.Rule {
	replaced := map[abredis.Kind]bool{}
	for _, r := range over {
		replaced[r.Kind] = true
	}
	out := append([]abredis.Rule(nil), over...)
	for _, r := range generous {
		if !replaced[r.Kind] {
			out = append(out, r)
		}
	}
	return out
}

// behindProxy makes the test server trust loopback's X-Forwarded-For, so a
// test speaks for clients at many addresses.
func behindProxy(t *testing.T) {
	trustedProxiesOverride[t] = []string{"127.0.0.1/32", "::1/128"}
	t.Cleanup(func() { delete(trustedProxiesOverride, t) })
}

func (e *env) outboxCount(to string) int {
	e.t.Helper()
	msgs, err := e.store.OutboxFor(context.Background(), to, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(msgs)
}

// TestOneAddressCannotDrainTheEventValve: requests one address sends past
// its own limit, or without a proof of work, spend nothing of the event's
// shared valve; what it can spend is bounded by its own budget. Fresh
// runners then still get their codes.
func TestOneAddressCannotDrainTheEventValve(t *testing.T) {
	const valve, perIP = 20, 5
	attacks := []struct {
		name   string
		path   string
		body   func(i int) any
		spends int // of the valve: what the attacker's own budget let through
	}{
		{"empty apply bodies", "/entries", func(int) any { return map[string]any{} }, 0},
		{"code requests", "/otp", func(i int) any { return map[string]any{"email": fmt.Sprintf("bot%d@example.com", i)} }, perIP},
		{"joins without a proof of work", "/queue", func(i int) any {
			return map[string]any{"course": "half", "pace_group": "fcfs", "email": fmt.Sprintf("bot%d@example.com", i)}
		}, 0},
		{"applies without a proof of work", "/entries", func(i int) any {
			return map[string]any{"course": "half", "pace_group": "sub-130", "email": fmt.Sprintf("bot%d@example.com", i), "otp": "123456"}
		}, 0},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			behindProxy(t)
			e := newEnvRules(t, true, rulesWith(
				abredis.Rule{Kind: abredis.KindEvent, Rate: limiter.Rate{Limit: valve, Period: time.Minute}},
				abredis.Rule{Kind: abredis.KindIP, Rate: limiter.Rate{Limit: perIP, Period: time.Minute}}), true)
			e.openEvent("spring")
			for i := range 60 {
				r := e.do("POST", "/api/v1/events/spring"+a.path, a.body(i), "X-Forwarded-For", "198.51.100.66")
				if r.Status < 400 && i >= perIP {
					t.Fatalf("attack request %d over the IP budget: %d %s", i, r.Status, r.Raw)
				}
			}
			// What is left of the valve goes to fresh runners, and then it is full.
			fresh := valve - a.spends
			refused := 0
			for i := range fresh + 1 {
				r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": fmt.Sprintf("runner%d@example.com", i)},
					"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
				if r.Status != http.StatusAccepted {
					refused++
				}
			}
			if refused != 1 {
				t.Errorf("%d of %d code requests from fresh addresses refused after one address's attack, want only the one past the valve", refused, fresh+1)
			}
		})
	}
}

// victim is one Gmail inbox under many spellings.
var victimSpellings = []string{"victim.runner@gmail.com", "victimrunner@gmail.com", "Victim.Runner+race@gmail.com",
	"v.i.c.t.i.m.runner@gmail.com", "victimrunner+a@googlemail.com", "victim.r.unner+b@gmail.com",
	"vic.tim.runner@gmail.com", "victimrunner+c@gmail.com", "victim.runner+d@gmail.com", "victimr.unner@gmail.com"}

// TestStrangersCannotSpendAVictimsBudgets: ten code requests for spellings
// of a victim's address, ten applies holding only the address, or ten
// applies with a solved proof of work but a wrong code, all from one
// stranger, leave the victim free to get a code and apply from elsewhere.
func TestStrangersCannotSpendAVictimsBudgets(t *testing.T) {
	const attacker, victim = "198.51.100.66", "203.0.113.20"
	codes := func(e *env) {
		for _, addr := range victimSpellings {
			r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": addr}, "X-Forwarded-For", attacker)
			if r.Status != http.StatusAccepted && r.Status != http.StatusTooManyRequests {
				t.Fatalf("attacker's code request: %d %s", r.Status, r.Raw)
			}
		}
	}
	bare := func(e *env) {
		for _, addr := range victimSpellings {
			r := e.do("POST", "/api/v1/events/spring/entries", map[string]any{"email": addr}, "X-Forwarded-For", attacker)
			if r.Status < 400 {
				t.Fatalf("attacker's bare apply: %d %s", r.Status, r.Raw)
			}
		}
	}
	wrongCode := func(e *env) {
		for _, addr := range victimSpellings {
			r := e.do("POST", "/api/v1/events/spring/entries", e.applyBody(addr, "000000"), "X-Forwarded-For", attacker)
			if r.Status < 400 {
				t.Fatalf("attacker's apply with a wrong code: %d %s", r.Status, r.Raw)
			}
		}
	}
	attacks := []struct {
		name string
		run  []func(*env)
	}{
		{"code requests for spellings of the address", []func(*env){codes}},
		{"applies holding only the address", []func(*env){bare}},
		{"applies with a proof of work and a wrong code", []func(*env){wrongCode}},
		{"all of them", []func(*env){codes, bare, wrongCode}},
	}
	var personal []abredis.Rule
	for _, r := range abredis.DefaultRules() {
		switch r.Kind {
		case abredis.KindEmail, abredis.KindOTPEmail, abredis.KindOTPInbox:
			personal = append(personal, r)
		}
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			behindProxy(t)
			e := newEnvRules(t, true, rulesWith(personal...), true)
			e.openEvent("spring")
			for _, run := range a.run {
				run(e)
			}
			before := e.outboxCount("victim.runner@gmail.com")
			r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "victim.runner@gmail.com"}, "X-Forwarded-For", victim)
			if r.Status != http.StatusAccepted {
				t.Fatalf("victim's code request: %d %s (Retry-After %q)", r.Status, r.Raw, r.Header.Get("Retry-After"))
			}
			if got := e.outboxCount("victim.runner@gmail.com"); got != before+1 {
				t.Fatalf("victim's code was not mailed: %d messages, want %d", got, before+1)
			}
			msgs, _ := e.store.OutboxFor(context.Background(), "victim.runner@gmail.com", 1)
			code := codeRe.FindStringSubmatch(msgs[0].Body)[1]
			r = e.do("POST", "/api/v1/events/spring/entries", e.applyBody("victim.runner@gmail.com", code), "X-Forwarded-For", victim)
			if r.Status != http.StatusCreated {
				t.Fatalf("victim's apply: %d %s (Retry-After %q)", r.Status, r.Raw, r.Header.Get("Retry-After"))
			}
		})
	}
	// What a stranger spends is its own pair: past it, a 429 as API.md says.
	behindProxy(t)
	e := newEnvRules(t, true, rulesWith(personal...), true)
	e.openEvent("spring")
	codes(e)
	r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": "victim.runner@gmail.com"}, "X-Forwarded-For", attacker)
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); r.Status != http.StatusTooManyRequests || r.errCode() != "rate_limited" || err != nil || s < 1 {
		t.Errorf("attacker past its own code budget: %d %s", r.Status, r.Raw)
	}
}

// TestInboxCapHoldsBackCodesFromStrangersOnly: once an address had its
// share of codes from anyone, strangers still get 202 but no mail goes out,
// while a device that applied with a code sent to that address gets codes.
func TestInboxCapHoldsBackCodesFromStrangersOnly(t *testing.T) {
	behindProxy(t)
	e := newEnvRules(t, true, rulesWith(abredis.Rule{Kind: abredis.KindOTPInbox, Rate: limiter.Rate{Limit: 3, Period: 24 * time.Hour}}), true)
	e.openEvent("spring")
	const addr = "owner@example.com"
	ch := e.do("POST", "/api/v1/events/spring/challenge", nil, "X-Forwarded-For", "203.0.113.5")
	var device string
	for _, c := range (&http.Response{Header: ch.Header}).Cookies() {
		if c.Name == "sl_device" {
			device = "sl_device=" + c.Value
		}
	}
	if device == "" {
		t.Fatal("no device cookie")
	}
	// The owner applies once from that device: the device is now known.
	if r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": addr}, "X-Forwarded-For", "203.0.113.5", "Cookie", device); r.Status != 202 {
		t.Fatalf("owner's first code: %d %s", r.Status, r.Raw)
	}
	msgs, _ := e.store.OutboxFor(context.Background(), addr, 1)
	b := e.applyBody(addr, codeRe.FindStringSubmatch(msgs[0].Body)[1])
	if r := e.do("POST", "/api/v1/events/spring/entries", b, "X-Forwarded-For", "203.0.113.5", "Cookie", device); r.Status != 201 {
		t.Fatalf("owner's apply: %d %s", r.Status, r.Raw)
	}
	steps := []struct {
		name   string
		ip     string
		cookie string
		mailed bool
	}{
		{"first stranger", "198.51.100.1", "", true},
		{"second stranger", "198.51.100.2", "", true},
		{"third stranger, over the cap", "198.51.100.3", "", false},
		{"fourth stranger", "198.51.100.4", "", false},
		{"the owner's known device, elsewhere", "192.0.2.77", device, true},
		{"the owner on a new device (the trade-off)", "192.0.2.78", "", false},
		{"the known device again", "192.0.2.77", device, true},
	}
	for _, s := range steps {
		before := e.outboxCount(addr)
		r := e.do("POST", "/api/v1/events/spring/otp", map[string]any{"email": addr}, "X-Forwarded-For", s.ip, "Cookie", s.cookie)
		if r.Status != http.StatusAccepted || strings.TrimSpace(string(r.Raw)) != `{"sent":true}` {
			t.Errorf("%s: %d %s, want 202 {\"sent\":true} whatever the cap", s.name, r.Status, r.Raw)
		}
		if r.Header.Get("Retry-After") != "" || r.Header.Get("RateLimit-Limit") == "3" {
			t.Errorf("%s: the cap shows in the headers: %v", s.name, r.Header)
		}
		if mailed := e.outboxCount(addr) == before+1; mailed != s.mailed {
			t.Errorf("%s: mailed %v, want %v", s.name, mailed, s.mailed)
		}
	}
	// A withheld code is on record with its reason, for support.
	ev, _ := e.svc.PublicEvent(context.Background(), "spring")
	reqs, err := e.store.OTPRequests(context.Background(), ev.ID, addr, 3)
	if err != nil || len(reqs) != 3 {
		t.Fatalf("otp requests: %v %d", err, len(reqs))
	}
	if reqs[1].Mailed || len(reqs[1].Risk.Reasons) == 0 || reqs[1].Risk.Reasons[len(reqs[1].Risk.Reasons)-1].Code != "inbox_cap" {
		t.Errorf("withheld request on record: %+v", reqs[1])
	}
}
