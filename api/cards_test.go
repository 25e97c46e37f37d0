package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"

	abredis "github.com/startline/startline/antibot/redis"
	"github.com/startline/startline/lottery/payments/sandbox"
)

// cardApplyEvent creates spring with card on file (policy set while a draft)
// and opens it, with the sandbox saving cards.
func (e *env) cardApplyEvent(policy map[string]any) *sandbox.Provider {
	e.t.Helper()
	pay := sandbox.New([]byte("sandbox-test-key"))
	e.offers.UsePayments(pay)
	e.reg.UseCards(pay)
	if r := e.do("POST", "/api/v1/admin/events", eventBody("spring"), "Authorization", "Bearer "+e.organizer); r.Status != 201 {
		e.t.Fatalf("create event: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PUT", "/api/v1/admin/events/spring/card-policy", policy, "Authorization", "Bearer "+e.organizer); r.Status != 200 {
		e.t.Fatalf("card policy: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/events/spring/publish", nil, "Authorization", "Bearer "+e.organizer); r.Status != 200 {
		e.t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	e.clock.Set(testStart.Add(time.Hour))
	return pay
}

// applyCardSetup starts a setup through the API and, with a number, confirms
// it on the sandbox as the hosted page would.
func (e *env) applyCardSetup(pay *sandbox.Provider, number string) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/events/spring/card-setups", nil)
	if r.Status != 201 || r.str("setup_id") == "" || !strings.HasPrefix(r.str("confirm_url"), "/sandbox/setup/") {
		e.t.Fatalf("card setup: %d %s", r.Status, r.Raw)
	}
	if number != "" {
		if err := pay.ConfirmSetup(r.str("setup_id"), number); err != nil {
			e.t.Fatal(err)
		}
	}
	return r.str("setup_id")
}

// TestCardPolicy: the organizer's card-on-file option is validated, read
// back, audited, refused to a reviewer and refused once registration opened.
func TestCardPolicy(t *testing.T) {
	e := newEnv(t, true)
	e.clock.Set(testStart.Add(-time.Hour)) // before registration opens
	path := "/api/v1/admin/events/spring/card-policy"
	org := []string{"Authorization", "Bearer " + e.organizer}
	if r := e.do("POST", "/api/v1/admin/events", eventBody("spring"), org...); r.Status != 201 {
		t.Fatalf("create event: %d %s", r.Status, r.Raw)
	}
	r := e.do("GET", path, nil, org...)
	if r.Status != 200 || r.Body["enabled"] != false || r.Body["entries_per_card"] != float64(1) ||
		r.Body["charge_per_minute"] != float64(1200) || r.Body["max_attempts"] != float64(3) {
		t.Fatalf("default policy: %d %s", r.Status, r.Raw)
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"enabled": true, "entries_per_card": 0}, "entries_per_card"},
		{map[string]any{"enabled": true, "entries_per_card": 1001}, "entries_per_card"},
		{map[string]any{"enabled": true, "charge_per_minute": -1}, "charge_per_minute"},
		{map[string]any{"enabled": true, "max_attempts": 11}, "max_attempts"},
		{map[string]any{"enabled": "yes"}, "enabled"},
	} {
		if r := e.do("PUT", path, c.body, org...); r.Status/100 != 4 || r.errField("field") != c.field {
			t.Errorf("%v: %d %s", c.body, r.Status, r.Raw)
		}
	}
	if r := e.do("PUT", path, map[string]any{"enabled": true}, "Authorization", "Bearer "+e.reviewer); r.Status != 403 {
		t.Errorf("a reviewer sets the policy: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PUT", path, map[string]any{"enabled": true, "entries_per_card": 2}, org...); r.Status != 200 ||
		r.Body["entries_per_card"] != float64(2) || r.Body["max_attempts"] != float64(3) {
		t.Fatalf("set: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", path, nil, org...); r.Body["enabled"] != true || r.Body["entries_per_card"] != float64(2) {
		t.Errorf("read back: %s", r.Raw)
	}
	var audited int64
	e.store.DB().Raw("SELECT count(*) FROM audit_log WHERE action = 'event.card_policy' AND staff_id IS NOT NULL").Scan(&audited)
	if audited != 1 {
		t.Errorf("policy changes audited: %d", audited)
	}
	if r := e.do("POST", "/api/v1/admin/events/spring/publish", nil, org...); r.Status != 200 {
		t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PUT", path, map[string]any{"enabled": false}, org...); r.Status != 200 {
		t.Errorf("off while published, not open: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PUT", path, map[string]any{"enabled": true}, org...); r.Status != 200 {
		t.Errorf("on again: %d %s", r.Status, r.Raw)
	}
	e.clock.Set(testStart.Add(time.Hour))
	if r := e.do("PUT", path, map[string]any{"enabled": false}, org...); r.Status != 409 || r.errCode() != "invalid_transition" {
		t.Errorf("after opening: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", path, nil, org...); r.Body["enabled"] != true {
		t.Errorf("unchanged after the refusal: %s", r.Raw)
	}
}

// TestCardApply: applying to an event with card on file needs a confirmed
// setup; the entry and its card are stored together; a second entry with
// the same card goes to review (shared_card); a setup serves one entry; an
// event without card on file ignores card_setup_id.
func TestCardApply(t *testing.T) {
	e := newEnv(t, true)
	pay := e.cardApplyEvent(map[string]any{"enabled": true})
	apply := func(addr, setup string) resp {
		t.Helper()
		b := e.applyBody(addr, e.otp("spring", addr))
		if setup != "" {
			b["card_setup_id"] = setup
		}
		return e.do("POST", "/api/v1/events/spring/entries", b)
	}

	if r := e.do("GET", "/api/v1/events/spring", nil); r.Body["card_on_file"] != true {
		t.Errorf("event: card_on_file not said: %s", r.Raw)
	}
	if r := apply("a@example.org", ""); r.Status != 422 || r.errField("field") != "card_setup_id" {
		t.Errorf("no card: %d %s", r.Status, r.Raw)
	}
	if r := apply("a@example.org", e.applyCardSetup(pay, "")); r.Status != 422 || r.errField("field") != "card_setup_id" {
		t.Errorf("unconfirmed card: %d %s", r.Status, r.Raw)
	}
	if r := apply("a@example.org", "seti_madeup"); r.Status != 422 || r.errField("field") != "card_setup_id" {
		t.Errorf("unknown setup: %d %s", r.Status, r.Raw)
	}
	first := e.applyCardSetup(pay, sandbox.CardOK)
	r := apply("a@example.org", first)
	if r.Status != 201 || r.str("status") != "received" {
		t.Fatalf("with a card: %d %s", r.Status, r.Raw)
	}
	var card struct{ EntryID, Provider, SetupID, Brand, Last4, Fingerprint string }
	e.store.DB().Raw("SELECT entry_id::text, provider, setup_id, brand, last4, fingerprint FROM entry_cards WHERE entry_id = ?", r.str("entry_id")).Scan(&card)
	if card.SetupID != first || card.Brand != "visa" || card.Last4 != "4242" || card.Fingerprint == "" {
		t.Errorf("entry card: %+v", card)
	}

	// The same setup again: a clear 409, nothing stored.
	before := e.countEntries()
	if r := apply("b@example.org", first); r.Status != 409 || r.errCode() != "card_setup_used" || r.errField("field") != "card_setup_id" {
		t.Errorf("setup reused: %d %s", r.Status, r.Raw)
	}
	if n := e.countEntries(); n != before {
		t.Errorf("entries after the refusal: %d, want %d", n, before)
	}

	// The same card through another setup: taken, for a reviewer.
	r = apply("b@example.org", e.applyCardSetup(pay, "4242 4242 4242 4242"))
	if r.Status != 201 || r.str("status") != "in_review" {
		t.Fatalf("same card: %d %s", r.Status, r.Raw)
	}
	var reasons string
	e.store.DB().Raw("SELECT risk_reasons::text FROM entries WHERE id = ?", r.str("entry_id")).Scan(&reasons)
	if !strings.Contains(reasons, `"shared_card"`) {
		t.Errorf("reasons: %s", reasons)
	}
	// The earlier entry with the card goes to review with it, logged.
	var firstStatus string
	var logged int64
	e.store.DB().Raw("SELECT status FROM entries WHERE id = ?", card.EntryID).Scan(&firstStatus)
	e.store.DB().Raw("SELECT count(*) FROM event_log WHERE kind = 'entry.flagged' AND entry_id = ?", card.EntryID).Scan(&logged)
	if firstStatus != "in_review" || logged != 1 {
		t.Errorf("the first entry with the card: %s, logged %d", firstStatus, logged)
	}
	// The reviewer sees the card and how many entries share it.
	rv := e.do("GET", "/api/v1/review/entries/"+r.str("entry_id"), nil, "Authorization", "Bearer "+e.reviewer)
	if c, _ := rv.Body["card"].(map[string]any); rv.Status != 200 || c["last4"] != "4242" || c["shared_entries"] != float64(2) ||
		strings.Contains(string(rv.Raw), card.Fingerprint) {
		t.Errorf("review detail: %d %s", rv.Status, rv.Raw)
	}
	// Another card: received as usual.
	if r := apply("c@example.org", e.applyCardSetup(pay, sandbox.CardDeclined)); r.Status != 201 || r.str("status") != "received" {
		t.Errorf("another card: %d %s", r.Status, r.Raw)
	}

	// The runner's status shows the card as brand and last four only.
	s := e.do("GET", "/api/v1/entries/"+r.str("entry_id")+"?token="+url.QueryEscape(r.str("receipt_token")), nil)
	if strings.Contains(string(s.Raw), card.Fingerprint) {
		t.Errorf("fingerprint shown to the runner: %s", s.Raw)
	}
	if c, _ := s.Body["card"].(map[string]any); c["brand"] != "visa" || c["last4"] != "4242" {
		t.Errorf("card on the status: %s", s.Raw)
	}

	// Erasure blanks the card's payment data and fingerprint.
	id := r.str("entry_id")
	if r := e.do("POST", "/api/v1/entries/"+id+"/erase", map[string]any{"token": e.keys.ReceiptToken(id)}); r.Status/100 != 2 {
		t.Fatalf("erase: %d %s", r.Status, r.Raw)
	}
	var left int64
	e.store.DB().Raw("SELECT count(*) FROM entry_cards WHERE entry_id = ? AND (fingerprint <> '' OR payment_method <> '' OR customer <> '' OR last4 <> '')", id).Scan(&left)
	if left != 0 {
		t.Errorf("card data kept after erasure")
	}
}

// TestCardSetupRefused: an event without card on file refuses a setup
// (409) and ignores a card_setup_id at apply.
func TestCardSetupRefused(t *testing.T) {
	e := newEnv(t, true)
	pay := sandbox.New([]byte("sandbox-test-key"))
	e.reg.UseCards(pay)
	e.openEvent("spring")
	if r := e.do("POST", "/api/v1/events/spring/card-setups", nil); r.Status != 409 || r.errCode() != "no_card_on_file" {
		t.Errorf("no card on file: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/events/nope/card-setups", nil); r.Status != 404 {
		t.Errorf("no event: %d %s", r.Status, r.Raw)
	}
	b := e.applyBody("a@example.org", e.otp("spring", "a@example.org"))
	b["card_setup_id"] = "seti_whatever"
	if r := e.do("POST", "/api/v1/events/spring/entries", b); r.Status != 201 {
		t.Errorf("card_setup_id ignored: %d %s", r.Status, r.Raw)
	}
	var n int64
	e.store.DB().Raw("SELECT count(*) FROM entry_cards").Scan(&n)
	if n != 0 {
		t.Errorf("entry cards: %d", n)
	}
}

// TestCardSetupReturn: a setup's return address stays on the site.
func TestCardSetupReturn(t *testing.T) {
	e := newEnv(t, true)
	e.cardApplyEvent(map[string]any{"enabled": true})
	for _, u := range []string{"https://evil.example/x", "//evil.example/x", "/\\evil.example", "evil"} {
		if r := e.do("POST", "/api/v1/events/spring/card-setups", map[string]any{"return_url": u}); r.Status != 422 ||
			r.errField("field") != "return_url" {
			t.Errorf("%q: %d %s", u, r.Status, r.Raw)
		}
	}
	if r := e.do("POST", "/api/v1/events/spring/card-setups", map[string]any{"return_url": "/events/spring/apply?x=1"}); r.Status != 201 {
		t.Errorf("local return: %d %s", r.Status, r.Raw)
	}
}

// TestCardApplyRace: applications with one card, sent at once through
// different setups, all end in review: the count runs under a lock per
// card, so no two count each other out.
func TestCardApplyRace(t *testing.T) {
	e := newEnv(t, true)
	pay := e.cardApplyEvent(map[string]any{"enabled": true})
	const n = 4
	bodies := make([]map[string]any, n)
	for i := range bodies {
		addr := fmt.Sprintf("racer%d@example.org", i)
		bodies[i] = e.applyBody(addr, e.otp("spring", addr))
		bodies[i]["card_setup_id"] = e.applyCardSetup(pay, sandbox.CardOK)
	}
	var wg sync.WaitGroup
	status := make([]int, n)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status[i] = e.do("POST", "/api/v1/events/spring/entries", bodies[i]).Status
		}()
	}
	wg.Wait()
	for i, s := range status {
		if s != 201 {
			t.Errorf("application %d: %d", i, s)
		}
	}
	var statuses []string
	e.store.DB().Raw("SELECT e.status FROM entries e JOIN entry_cards c ON c.entry_id = e.id ORDER BY e.id").Scan(&statuses)
	for _, s := range statuses {
		if s != "in_review" {
			t.Errorf("statuses of the entries with one card: %v, want all in_review", statuses)
			break
		}
	}
	if len(statuses) != n {
		t.Errorf("entries with the card: %d, want %d", len(statuses), n)
	}
}

// TestCardSetupBudget: card setups count against the client's own budget
// only: one address past its limit is refused (429) and another address is
// still served.
func TestCardSetupBudget(t *testing.T) {
	behindProxy(t)
	e := newEnvRules(t, true, rulesWith(abredis.Rule{Kind: abredis.KindIP, Rate: limiter.Rate{Limit: 3, Period: time.Minute}}), true)
	e.cardApplyEvent(map[string]any{"enabled": true})
	setup := func(ip string) int {
		return e.do("POST", "/api/v1/events/spring/card-setups", nil, "X-Forwarded-For", ip).Status
	}
	for i := range 3 {
		if s := setup("203.0.113.7"); s != 201 {
			t.Fatalf("setup %d: %d", i, s)
		}
	}
	for range 3 {
		if s := setup("203.0.113.7"); s != http.StatusTooManyRequests {
			t.Errorf("past the budget: %d", s)
		}
	}
	if s := setup("198.51.100.9"); s != 201 {
		t.Errorf("another address: %d", s)
	}
}
