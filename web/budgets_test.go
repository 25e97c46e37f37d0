package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"

	"github.com/startline/startline/antibot/guard/guardtest"
	abredis "github.com/startline/startline/antibot/redis"
)

// rulesWith is guardtest.Generous with the rules of the given kinds replaced.
func rulesWith(over ...abredis.Rule) []abredis.Rule {
	replaced := map[abredis.Kind]bool{}
	for _, r := range over {
		replaced[r.Kind] = true
	}
	out := append([]abredis.Rule(nil), over...)
	for _, r := range guardtest.Generous {
		if !replaced[r.Kind] {
			out = append(out, r)
		}
	}
	return out
}

// postFrom posts a form as a browser at ip (the site trusts loopback's
// X-Forwarded-For).
func (s *site) postFrom(ip, path string, form url.Values) (int, string) {
	s.t.Helper()
	code, body, _ := s.postForm(path, form, "X-Forwarded-For", ip)
	return code, body
}

func (s *site) outboxCount(to string) int {
	s.t.Helper()
	msgs, err := s.store.OutboxFor(context.Background(), to, 1000)
	if err != nil {
		s.t.Fatal(err)
	}
	return len(msgs)
}

func identityForm(email string) url.Values {
	return url.Values{"subqueue": {"half:sub-130"}, "name": {"Kim Minjun"}, "email": {email},
		"phone": {"010-1234-5678"}, "birth_date": {"1990-04-01"}, "consents.privacy": {"default-2"}, "consents.waiver": {"default-2"},
		"started": {strconv.FormatInt(time.Now().Add(-time.Minute).UnixMilli(), 10)}}
}

// TestFormsDoNotLetOneAddressDrainTheValve: the pages count through the same keys as
// the API, so the same attacks fail the same way. One address hammering
// the code form past its own limit, or posting the apply form without a
// proof of work, spends no more of the event's valve than its own budget.
func TestFormsDoNotLetOneAddressDrainTheValve(t *testing.T) {
	const valve, perIP = 12, 4
	s := newSiteRules(t, true, rulesWith(
		abredis.Rule{Kind: abredis.KindEvent, Rate: limiter.Rate{Limit: valve, Period: time.Minute}},
		abredis.Rule{Kind: abredis.KindIP, Rate: limiter.Rate{Limit: perIP, Period: time.Minute}}), loopback)
	for i := range 30 {
		code, _ := s.postFrom("198.51.100.66", "/events/spring/apply/code", identityForm(fmt.Sprintf("bot%d@example.com", i)))
		if code == http.StatusOK && i >= perIP {
			t.Fatalf("code form %d past the IP budget: %d", i, code)
		}
		// A form without a proof of work (JavaScript off) is counted like any
		// apply: from the same address it spends nothing once the address's
		// budget is gone, so the address still adds at most that budget.
		f := identityForm(fmt.Sprintf("bot%d@example.com", i))
		f.Set("otp", "123456")
		if code, _ := s.postFrom("198.51.100.66", "/events/spring/apply", f); code < 400 {
			t.Fatalf("apply form without a proof of work: %d", code)
		}
	}
	refused := 0
	for i := range valve - perIP + 1 {
		if code, _ := s.postFrom(fmt.Sprintf("203.0.113.%d", i+1), "/events/spring/apply/code", identityForm(fmt.Sprintf("runner%d@example.com", i))); code != http.StatusOK {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d of %d fresh runners refused a code, want only the one past the valve", refused, valve-perIP+1)
	}
}

// TestFormsKeepAVictimsBudgets: a stranger's code requests for spellings of
// a victim's address and apply forms holding only that address leave the
// victim free to get a code and apply through the pages from elsewhere.
func TestFormsKeepAVictimsBudgets(t *testing.T) {
	var personal []abredis.Rule
	for _, r := range abredis.DefaultRules() {
		switch r.Kind {
		case abredis.KindEmail, abredis.KindOTPEmail, abredis.KindOTPInbox:
			personal = append(personal, r)
		}
	}
	s := newSiteRules(t, true, rulesWith(personal...), loopback)
	const attacker, victim = "198.51.100.66", "203.0.113.20"
	spellings := []string{"victim.runner@gmail.com", "victimrunner@gmail.com", "Victim.Runner+race@gmail.com",
		"v.i.c.t.i.m.runner@gmail.com", "victimrunner+a@googlemail.com", "victim.r.unner+b@gmail.com",
		"vic.tim.runner@gmail.com", "victimrunner+c@gmail.com", "victim.runner+d@gmail.com", "victimr.unner@gmail.com"}
	for _, addr := range spellings {
		if code, _ := s.postFrom(attacker, "/events/spring/apply/code", identityForm(addr)); code != http.StatusOK && code != http.StatusTooManyRequests {
			t.Fatalf("attacker's code form: %d", code)
		}
	}
	for _, addr := range spellings {
		f := identityForm(addr)
		f.Set("otp", "000000")
		if code, _ := s.postFrom(attacker, "/events/spring/apply", f); code < 400 {
			t.Fatalf("attacker's bare apply form: %d", code)
		}
	}
	before := s.outboxCount("victim.runner@gmail.com")
	code, body := s.postFrom(victim, "/events/spring/apply/code", identityForm("victim.runner@gmail.com"))
	if code != http.StatusOK || !strings.Contains(body, `name="otp"`) {
		t.Fatalf("victim's code form: %d", code)
	}
	if got := s.outboxCount("victim.runner@gmail.com"); got != before+1 {
		t.Fatalf("victim's code not mailed: %d messages, want %d", got, before+1)
	}
	step3 := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		step3.Set(m[1], html.UnescapeString(m[2]))
	}
	msgs, _ := s.store.OutboxFor(context.Background(), "victim.runner@gmail.com", 1)
	step3.Set("otp", codeRe.FindStringSubmatch(msgs[0].Body)[1])
	step3.Set("altcha", solve(t, body))
	if code, _ := s.postFrom(victim, "/events/spring/apply", step3); code != http.StatusSeeOther {
		t.Fatalf("victim's apply form: %d", code)
	}
}

// TestCodeFormPastTheInboxCap: past the address's inbox cap a stranger's
// code form reads exactly as usual (step 3) but nothing is mailed.
func TestCodeFormPastTheInboxCap(t *testing.T) {
	s := newSiteRules(t, true, rulesWith(abredis.Rule{Kind: abredis.KindOTPInbox, Rate: limiter.Rate{Limit: 1, Period: time.Hour}}), loopback)
	for i, want := range []int{1, 1, 1} {
		code, body := s.postFrom(fmt.Sprintf("198.51.100.%d", i+1), "/events/spring/apply/code", identityForm("owner@example.com"))
		if code != http.StatusOK || !strings.Contains(body, `name="otp"`) {
			t.Fatalf("code form %d: %d", i, code)
		}
		if got := s.outboxCount("owner@example.com"); got != want {
			t.Errorf("after code form %d: %d messages, want %d", i, got, want)
		}
	}
}
