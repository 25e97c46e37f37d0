package api_test

import (
	"context"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery/odds"
	"github.com/startline/startline/lottery/payments/sandbox"
)

// TestDeferral: a confirmed runner defers to the series' next edition
// within the event's deadline and cap per sub-queue (refusals 409 with
// their codes, a wrong token 404); the runner is mailed; once the next
// edition is published the runner holds a confirmed entry there, its
// sub-queue's capacity for the draw is reduced (the event JSON's odds say
// draw_capacity and are computed with it), freeze records the reduced
// capacity (the artifact's), and the deferred runner is not drawn. A
// runner deferring once the next edition is published gets the entry there
// at once.
func TestDeferral(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, true)
	pay := sandbox.New([]byte("sandbox-test-key"))
	e.offers.UsePayments(pay)
	e.feesDrawnEvent(12, 4)
	auth := []string{"Authorization", "Bearer " + e.organizer}
	var selected, waitlisted []string
	e.store.DB().Raw(`SELECT dr.entry_id::text FROM draw_results dr JOIN subqueues q ON q.id = dr.subqueue_id
		WHERE q.key = 'half:sub-130' AND dr.selected ORDER BY dr.position`).Scan(&selected)
	e.store.DB().Raw(`SELECT dr.entry_id::text FROM draw_results dr JOIN subqueues q ON q.id = dr.subqueue_id
		WHERE q.key = 'half:sub-130' AND NOT dr.selected ORDER BY dr.position`).Scan(&waitlisted)
	if len(selected) != 4 || len(waitlisted) == 0 {
		t.Fatalf("selected %v waitlisted %v", selected, waitlisted)
	}
	tok := func(id string) string { return e.keys.ReceiptToken(id) }
	confirm := func(entry string) {
		t.Helper()
		e.paySandbox(pay, entry)
		if got := e.entryRow(entry); got.Entry != "confirmed" {
			t.Fatalf("after paying: %+v", got)
		}
	}
	for _, id := range selected[:3] {
		confirm(id)
	}
	deferEntry := func(entry, token string) resp {
		return e.do("POST", "/api/v1/entries/"+entry+"/defer", map[string]any{"token": token})
	}

	// No terms set: deferral is not offered.
	if r := deferEntry(selected[0], tok(selected[0])); r.Status != 409 || r.errCode() != "deferral_closed" {
		t.Fatalf("no terms: %d %s", r.Status, r.Raw)
	}
	deadline := e.clock.Now().Add(10 * 24 * time.Hour)
	if r := e.do("PUT", "/api/v1/admin/events/spring/deferral", map[string]any{"deadline": deadline, "fee_minor": 10000, "cap": -1}, auth...); r.Status != 422 || r.errField("field") != "cap" {
		t.Fatalf("bad cap: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PUT", "/api/v1/admin/events/spring/deferral", map[string]any{"deadline": deadline, "fee_minor": 10000, "cap": 2}, auth...); r.Status != 200 {
		t.Fatalf("set terms: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/api/v1/admin/events/spring/deferral", nil, auth...); r.Status != 200 || r.Body["cap"] != float64(2) || r.Body["fee_minor"] != float64(10000) {
		t.Fatalf("get terms: %d %s", r.Status, r.Raw)
	}

	t.Run("refused", func(t *testing.T) {
		if r := deferEntry(selected[0], "wrong"); r.Status != 404 {
			t.Errorf("wrong token: %d %s", r.Status, r.Raw)
		}
		if r := deferEntry(selected[3], tok(selected[3])); r.Status != 409 || r.errCode() != "not_confirmed" {
			t.Errorf("unpaid offer: %d %s", r.Status, r.Raw)
		}
		if r := deferEntry(waitlisted[0], tok(waitlisted[0])); r.Status != 409 || r.errCode() != "not_confirmed" {
			t.Errorf("waitlisted: %d %s", r.Status, r.Raw)
		}
	})

	// With a fee the deferral waits for it (the place kept), then is held
	// once the provider reports the fee captured (deferral_fee_test.go).
	deferPaid := func(entry string) resp {
		t.Helper()
		if r := deferEntry(entry, tok(entry)); r.Status != 200 || r.str("state") != "pending" || r.str("status") != "confirmed" {
			t.Fatalf("defer with a fee: %d %s", r.Status, r.Raw)
		}
		e.payDeferralFee(pay, entry)
		return deferEntry(entry, tok(entry))
	}
	for _, id := range selected[:2] {
		r := deferPaid(id)
		if r.Status != 200 || r.str("state") != "held" || r.str("series") != "spring-series" || r.str("subqueue") != "half:sub-130" {
			t.Fatalf("defer: %d %s", r.Status, r.Raw)
		}
		if fee, _ := r.Body["fee"].(map[string]any); fee["amount"] != float64(10000) || fee["currency"] != "KRW" {
			t.Errorf("fee: %s", r.Raw)
		}
		if got := e.entryRow(id); got.Entry != "deferred" || got.Offer != "paid" {
			t.Errorf("deferred entry: %+v", got)
		}
		if n := e.intents(id, "entry.deferred"); n != 1 {
			t.Errorf("deferral mails: %d", n)
		}
	}
	if r := deferEntry(selected[0], tok(selected[0])); r.Status != 200 || r.str("state") != "held" {
		t.Errorf("deferring again answers as before: %d %s", r.Status, r.Raw)
	}
	var email string
	e.store.DB().Raw("SELECT email FROM entries WHERE id = ?", selected[0]).Scan(&email)
	mail := e.do("GET", "/dev/outbox.json?to="+url.QueryEscape(email), nil)
	if !strings.Contains(string(mail.Raw), "Your entry is deferred to next year") || !strings.Contains(string(mail.Raw), "Deferral fee: ₩10,000") {
		t.Errorf("deferral mail: %.3000s", mail.Raw)
	}
	if r := deferEntry(selected[2], tok(selected[2])); r.Status != 409 || r.errCode() != "deferral_full" {
		t.Errorf("over the cap: %d %s", r.Status, r.Raw)
	}
	e.do("PUT", "/api/v1/admin/events/spring/deferral", map[string]any{"deadline": deadline, "fee_minor": 10000, "cap": 0}, auth...)
	now := e.clock.Now()
	e.clock.Set(deadline)
	if r := deferEntry(selected[2], tok(selected[2])); r.Status != 409 || r.errCode() != "deferral_closed" {
		t.Errorf("at the deadline: %d %s", r.Status, r.Raw)
	}
	e.clock.Set(now)

	// The next edition: same series, a year later, capacity 4 in half:sub-130.
	next := eventBody("spring-next")
	next["series"] = "spring-series"
	next["opens_at"] = testStart.Add(365 * 24 * time.Hour).Format(time.RFC3339)
	next["closes_at"] = testStart.Add(372 * 24 * time.Hour).Format(time.RFC3339)
	if r := e.do("POST", "/api/v1/admin/events", next, auth...); r.Status != 201 {
		t.Fatalf("create next edition: %d %s", r.Status, r.Raw)
	}
	e.store.DB().Exec(`UPDATE subqueues SET capacity = 4 WHERE key = 'half:sub-130' AND event_id = (SELECT id FROM events WHERE slug = 'spring-next')`)
	if r := e.action("spring-next", "publish", nil); r.Status != 200 {
		t.Fatalf("publish next edition: %d %s", r.Status, r.Raw)
	}
	var inNext []struct {
		ID, Status, Key string
	}
	e.store.DB().Raw(`SELECT e.id::text AS id, e.status, q.key FROM entries e JOIN subqueues q ON q.id = e.subqueue_id
		JOIN events ev ON ev.id = e.event_id WHERE ev.slug = 'spring-next' ORDER BY e.id`).Scan(&inNext)
	if len(inNext) != 2 {
		t.Fatalf("entries in the next edition: %+v", inNext)
	}
	for _, x := range inNext {
		if x.Status != "confirmed" || x.Key != "half:sub-130" {
			t.Errorf("deferred-in entry: %+v", x)
		}
		var logs int
		e.store.DB().Raw(`SELECT count(*) FROM event_log WHERE entry_id = ? AND kind = 'entry.deferred_in'`, x.ID).Scan(&logs)
		if logs != 1 {
			t.Errorf("deferred_in log records of %s: %d", x.ID, logs)
		}
	}
	if r := e.do("POST", "/api/v1/entries/"+selected[0]+"/deferral", map[string]any{"token": tok(selected[0])}); r.Status != 200 ||
		r.str("state") != "used" || r.Body["next"] == nil {
		t.Errorf("used deferral: %d %s", r.Status, r.Raw)
	}
	// The next edition is published already: a deferral made now is used at once.
	r := deferPaid(selected[2])
	if next, _ := r.Body["next"].(map[string]any); r.Status != 200 || r.str("state") != "used" || next["event"] != "spring-next" ||
		next["subqueue"] != "half:sub-130" {
		t.Fatalf("defer with the next edition published: %d %s", r.Status, r.Raw)
	}
	inNext = append(inNext, struct{ ID, Status, Key string }{r.Body["next"].(map[string]any)["entry_id"].(string), "confirmed", "half:sub-130"})

	// The next edition's draw: 4 slots, 3 held by deferred runners.
	e.clock.Set(testStart.Add(366 * 24 * time.Hour))
	if _, err := e.store.InsertSyntheticLotteryEntries(ctx, "spring-next", 6); err != nil {
		t.Fatal(err)
	}
	if _, err := e.stats.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	sq := subqueueOf(t, e.do("GET", "/api/v1/events/spring-next", nil), "half:sub-130")
	if sq["capacity"] != float64(4) || sq["draw_capacity"] != float64(1) || sq["entries"] != float64(6) {
		t.Fatalf("published sub-queue: %v", sq)
	}
	var pool []odds.Entry
	e.store.DB().Raw(`SELECT e.tickets, e.group_code AS "group" FROM entries e JOIN subqueues q ON q.id = e.subqueue_id
		JOIN events ev ON ev.id = e.event_id WHERE ev.slug = 'spring-next' AND q.key = 'half:sub-130' AND e.status = 'received'`).Scan(&pool)
	want, _ := odds.Exact(1, pool, odds.DefaultMaxStates)
	got := oddsOf(t, sq["odds"])
	if len(got) != len(want.Rows) {
		t.Fatalf("odds %v, want %+v", got, want.Rows)
	}
	for i, row := range got {
		if row.Tickets != want.Rows[i].Tickets || math.Abs(row.Chance-want.Rows[i].Chance) > 0.00005 {
			t.Errorf("odds row %d: %+v, want %+v (capacity 1)", i, row, want.Rows[i])
		}
	}

	e.clock.Set(testStart.Add(373 * 24 * time.Hour))
	e.store.DB().Exec("UPDATE events SET unreviewed_policy = 'exclude' WHERE slug = 'spring-next'")
	var err error
	if e.organizer, err = e.staff.IssueToken(ctx, "org@example.com"); err != nil { // a year on: a fresh token
		t.Fatal(err)
	}
	for _, a := range []string{"freeze", "reveal", "draw"} {
		if r := e.action("spring-next", a, nil); r.Status/100 != 2 {
			t.Fatalf("%s: %d %s", a, r.Status, r.Raw)
		}
	}
	e.drawAll("spring-next")
	var drawn struct {
		Capacity, EntriesCount, Selected int
	}
	e.store.DB().Raw(`SELECT d.capacity, d.entries_count, d.selected FROM draws d JOIN subqueues q ON q.id = d.subqueue_id
		JOIN events ev ON ev.id = d.event_id WHERE ev.slug = 'spring-next' AND q.key = 'half:sub-130'`).Scan(&drawn)
	if drawn.Capacity != 1 || drawn.EntriesCount != 6 || drawn.Selected > 1 {
		t.Errorf("draw: %+v, want capacity 1 of 4 and the 6 applicants only", drawn)
	}
	art := e.do("GET", "/api/v1/events/spring-next/draws/half:sub-130/artifact.json", nil)
	if art.Status != 200 || art.Body["capacity"] != float64(1) {
		t.Errorf("artifact capacity: %d %v", art.Status, art.Body["capacity"])
	}
	for _, x := range inNext {
		var n int
		e.store.DB().Raw(`SELECT count(*) FROM draw_entries WHERE entry_id = ?`, x.ID).Scan(&n)
		if n != 0 || e.entryRow(x.ID).Entry != "confirmed" {
			t.Errorf("deferred runner %s drawn (%d) or not confirmed (%+v)", x.ID, n, e.entryRow(x.ID))
		}
	}
}
