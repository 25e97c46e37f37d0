package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

// fcfs prepares spring's ordered half:fcfs with a capacity and an
// admission rate, and returns its id.
func (e *env) fcfs(capacity, perMinute int) int64 {
	e.t.Helper()
	e.openEvent("spring")
	var sq int64
	e.store.DB().Raw(`UPDATE subqueues SET capacity = ?, admit_per_minute = ? WHERE key = 'half:fcfs' RETURNING id`,
		capacity, perMinute).Scan(&sq)
	return sq
}

// join takes a place in half:fcfs's line.
func (e *env) join(email string, headers ...string) resp {
	e.t.Helper()
	return e.do("POST", "/api/v1/events/spring/queue", map[string]any{"course": "half", "pace_group": "fcfs",
		"email": email, "altcha": e.altcha("spring")}, headers...)
}

func (e *env) poll(ticket string) resp {
	e.t.Helper()
	return e.do("GET", "/api/v1/queue/"+ticket, nil)
}

// admit runs the worker's admission pass.
func (e *env) admit() {
	e.t.Helper()
	if _, err := e.waitroom.AdmitQueues(context.Background()); err != nil {
		e.t.Fatalf("admission pass: %v", err)
	}
}

// applyFCFS applies to half:fcfs with an admission token.
func (e *env) applyFCFS(email, token string) resp {
	e.t.Helper()
	b := e.applyBody(email, e.otp("spring", email))
	b["pace_group"], b["admission_token"] = "fcfs", token
	return e.do("POST", "/api/v1/events/spring/entries", b)
}

func num(r resp, k string) int64 { f, _ := r.Body[k].(float64); return int64(f) }

func TestWaitingRoomFirstCome(t *testing.T) {
	e := newEnv(t, true)
	sq := e.fcfs(2, 60) // one admission a second

	// Bad joins change nothing.
	bad := []struct {
		name      string
		body      map[string]any
		status    int
		code      string
		wantField string
	}{
		{"lottery pace group", map[string]any{"course": "half", "pace_group": "sub-130", "email": "a@example.com", "altcha": e.altcha("spring")}, 422, "invalid_field", "pace_group"},
		{"unknown course", map[string]any{"course": "ultra", "pace_group": "fcfs", "email": "a@example.com", "altcha": e.altcha("spring")}, 422, "invalid_field", "course"},
		{"bad e-mail", map[string]any{"course": "half", "pace_group": "fcfs", "email": "not-an-address", "altcha": e.altcha("spring")}, 422, "invalid_field", "email"},
		{"no proof of work", map[string]any{"course": "half", "pace_group": "fcfs", "email": "a@example.com"}, 422, "invalid_proof_of_work", "altcha"},
	}
	for _, tt := range bad {
		r := e.do("POST", "/api/v1/events/spring/queue", tt.body)
		if r.Status != tt.status || r.errCode() != tt.code || r.errField("field") != tt.wantField {
			t.Errorf("%s: got %d %s", tt.name, r.Status, r.Raw)
		}
	}
	var tickets int64
	e.store.DB().Raw("SELECT count(*) FROM queue_tickets").Scan(&tickets)
	if tickets != 0 {
		t.Fatalf("bad joins stored %d tickets", tickets)
	}

	// Four runners join in order and keep their places.
	people := []string{"ana@example.com", "ben@example.com", "cho@example.com", "dan@example.com"}
	tk := map[string]string{}
	for i, p := range people {
		r := e.join(p)
		if r.Status != http.StatusCreated || num(r, "position") != int64(i+1) || num(r, "ahead") != int64(i) {
			t.Fatalf("join %s: %d %s", p, r.Status, r.Raw)
		}
		tk[p] = r.str("ticket")
	}
	if r := e.poll(tk["dan@example.com"]); r.Status != 200 || num(r, "position") != 4 || num(r, "ahead") != 3 ||
		r.Body["admitted"] != false || num(r, "eta_seconds") != 4 || r.Body["admission_token"] != nil {
		t.Fatalf("poll before admission: %d %s", r.Status, r.Raw)
	}
	forged := []byte(tk["ana@example.com"])
	forged[10] ^= 1
	for _, bad := range []string{string(forged), "nonsense", ""} {
		if r := e.poll(bad); r.Status != http.StatusNotFound {
			t.Errorf("poll %q: %d", bad, r.Status)
		}
	}

	// Nobody applies without being admitted.
	if r := e.applyFCFS("ana@example.com", ""); r.Status != 403 || r.errCode() != "admission_required" {
		t.Fatalf("apply before admission: %d %s", r.Status, r.Raw)
	}

	// A new line starts with a second's worth of admissions: Ana. Five
	// seconds later there is credit for five but two free slots, so a pass
	// lets in two more, although Ana's admission is still unused: runners
	// admitted but not (yet) applying must not stall the line, and those
	// who apply when every slot is taken wait for one, in line order.
	e.admit()
	if b := e.poll(tk["ben@example.com"]); b.Body["admitted"] != false || num(b, "ahead") != 0 {
		t.Fatalf("ben after the first pass: %s", b.Raw)
	}
	e.clock.Add(5 * time.Second)
	e.admit()
	a := e.poll(tk["ana@example.com"])
	b := e.poll(tk["ben@example.com"])
	c := e.poll(tk["cho@example.com"])
	if a.Body["admitted"] != true || a.str("admission_token") == "" || b.Body["admitted"] != true || c.Body["admitted"] != true {
		t.Fatalf("after admission: ana %s / ben %s / cho %s", a.Raw, b.Raw, c.Raw)
	}

	// The token is bound to its holder's e-mail address.
	if r := e.applyFCFS("cho@example.com", a.str("admission_token")); r.Status != 403 || r.errCode() != "admission_required" {
		t.Fatalf("someone else's token: %d %s", r.Status, r.Raw)
	}
	r := e.applyFCFS("ana@example.com", a.str("admission_token"))
	if r.Status != http.StatusCreated || r.str("status") != "offered" || r.str("subqueue") != "half:fcfs" {
		t.Fatalf("ana applies: %d %s", r.Status, r.Raw)
	}
	anaEntry, anaReceipt := r.str("entry_id"), r.str("receipt_token")
	st := e.do("GET", "/api/v1/entries/"+anaEntry+"?token="+anaReceipt, nil)
	offer, _ := st.Body["offer"].(map[string]any)
	if st.str("status") != "offered" || offer == nil || offer["status"] != "pending" {
		t.Fatalf("ana's status: %s", st.Raw)
	}
	if a := e.poll(tk["ana@example.com"]); a.Body["used"] != true || a.Body["admission_token"] != nil {
		t.Errorf("poll after use: %s", a.Raw)
	}
	// Used once: a second application with the same token changes nothing.
	if r := e.applyFCFS("ana@example.com", a.str("admission_token")); r.Status/100 == 2 {
		t.Fatalf("token reused: %d %s", r.Status, r.Raw)
	}
	if r := e.applyFCFS("ben@example.com", b.str("admission_token")); r.str("status") != "offered" {
		t.Fatalf("ben applies: %d %s", r.Status, r.Raw)
	}
	// Both slots are held: Cho applies and waits for one.
	r = e.applyFCFS("cho@example.com", c.str("admission_token"))
	if r.Status != http.StatusCreated || r.str("status") != "waitlisted" {
		t.Fatalf("cho applies with every slot held: %d %s", r.Status, r.Raw)
	}
	choEntry := r.str("entry_id")
	e.admit()
	if d := e.poll(tk["dan@example.com"]); d.Body["sold_out"] != true {
		t.Fatalf("dan while every slot is held: %s", d.Raw)
	}
	if live, capacity := e.live(sq); live != 2 || capacity != 2 {
		t.Fatalf("%d live offers for %d slots", live, capacity)
	}

	// Ana declines: her slot goes to the earliest waiting entry, Cho's.
	oid, _ := e.offerOf(anaEntry)
	if r := e.do("POST", "/api/v1/offers/"+oid+"/decline", map[string]any{"token": anaReceipt}); r.Status != 200 {
		t.Fatalf("decline: %d %s", r.Status, r.Raw)
	}
	if _, st := e.offerOf(choEntry); st != "pending" {
		t.Fatalf("cho's offer after ana declined: %q", st)
	}

	// A pass admits no more than the free slots, and none is free; once
	// the organizer adds one, Dan is let in. An admission not used within
	// its window lapses.
	if d := e.poll(tk["dan@example.com"]); d.Body["admitted"] != false {
		t.Fatalf("dan with no slot free: %s", d.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/events/spring/subqueues/half:fcfs/capacity", map[string]any{"capacity": 3},
		"Authorization", "Bearer "+e.organizer); r.Status != 200 {
		t.Fatalf("capacity: %d %s", r.Status, r.Raw)
	}
	e.clock.Add(5 * time.Second)
	e.admit()
	if d := e.poll(tk["dan@example.com"]); d.Body["admitted"] != true {
		t.Fatalf("dan after capacity grew: %s", d.Raw)
	}
	e.clock.Add(11 * time.Minute)
	e.admit()
	d := e.poll(tk["dan@example.com"])
	if d.Body["lapsed"] != true || d.Body["admitted"] != false {
		t.Fatalf("dan after his window: %s", d.Raw)
	}
	if r := e.applyFCFS("dan@example.com", d.str("admission_token")); r.Status != 403 || r.errCode() != "admission_required" {
		t.Fatalf("lapsed token: %d %s", r.Status, r.Raw)
	}

	// Every change of the ordered entries is in the event log.
	var kinds []string
	e.store.DB().Raw(`SELECT kind FROM event_log WHERE entry_id = ? ORDER BY id`, anaEntry).Scan(&kinds)
	if len(kinds) != 3 || kinds[0] != "entry.created" || kinds[1] != "offer.issued" || kinds[2] != "offer.declined" {
		t.Errorf("ana's log: %v", kinds)
	}
	var admissions int64
	e.store.DB().Raw(`SELECT count(*) FROM event_log WHERE kind = 'queue.admitted'`).Scan(&admissions)
	if admissions < 2 {
		t.Errorf("%d admission records", admissions)
	}
}

func TestWaitingRoomJoinScoring(t *testing.T) {
	e := newEnv(t, true)
	e.fcfs(5, 600)
	// A script's join keeps its place but is flagged; with a disposable
	// address as well it is refused a place, and the refusal is kept.
	script := []string{"User-Agent", "python-requests/2.31"}
	flagged := e.join("bot@example.com", script...)
	if flagged.Status != http.StatusCreated {
		t.Fatalf("flagged join: %d %s", flagged.Status, flagged.Raw)
	}
	if r := e.join("bot@mailinator.com", script...); r.Status != http.StatusForbidden || r.errCode() != "queue_refused" {
		t.Fatalf("refused join: %d %s", r.Status, r.Raw)
	}
	var rows []struct {
		Status       string
		RiskDecision string
		Place        *int64
	}
	e.store.DB().Raw(`SELECT status, risk_decision, place FROM queue_tickets ORDER BY place NULLS LAST`).Scan(&rows)
	if len(rows) != 2 || rows[0].RiskDecision != "review" || rows[0].Place == nil || rows[1].Status != string(lottery.TicketRefused) ||
		rows[1].RiskDecision != "reject" || rows[1].Place != nil {
		t.Fatalf("stored tickets: %+v", rows)
	}

	// The flagged join's entry goes to review however clean the apply was;
	// approved, it is offered the slot its place earned.
	e.admit()
	p := e.poll(flagged.str("ticket"))
	r := e.applyFCFS("bot@example.com", p.str("admission_token"))
	if r.Status != http.StatusCreated || r.str("status") != "in_review" {
		t.Fatalf("apply after a flagged join: %d %s", r.Status, r.Raw)
	}
	id := r.str("entry_id")
	rv := e.do("GET", "/api/v1/review/entries/"+id, nil, "Authorization", "Bearer "+e.reviewer)
	join, _ := rv.Body["queue_join"].(map[string]any)
	if rv.Status != 200 || !strings.Contains(string(rv.Raw), "queue_join_flagged") || join == nil || join["decision"] != "review" ||
		!strings.Contains(fmt.Sprint(join["reasons"]), "scripting_user_agent") {
		t.Fatalf("review detail: %d %s", rv.Status, rv.Raw)
	}
	// The address's code request is there with its assessment.
	if reqs, _ := rv.Body["otp_requests"].([]any); len(reqs) != 1 || reqs[0].(map[string]any)["mailed"] != true ||
		reqs[0].(map[string]any)["rules_version"] == "" {
		t.Errorf("review detail's code requests: %s", rv.Raw)
	}
	if r := e.do("POST", "/api/v1/review/entries/"+id+"/decision", map[string]any{"decision": "approve", "note": "a person"},
		"Authorization", "Bearer "+e.reviewer); r.Status != 200 {
		t.Fatalf("approve: %d %s", r.Status, r.Raw)
	}
	e.admit()
	if _, st := e.offerOf(id); st != "pending" {
		t.Fatalf("approved entry's offer: %q", st)
	}
}

// TestWaitingRoomCapacityUnderConcurrency: admitted runners apply at once
// while capacity drops under them; offers never exceed it, the rest wait in
// line order, and a freed slot goes to the earliest place.
func TestWaitingRoomCapacityUnderConcurrency(t *testing.T) {
	e := newEnv(t, true)
	sq := e.fcfs(8, 6000)
	const n = 8
	emails := make([]string, n)
	tokens := make([]string, n)
	for i := range emails {
		emails[i] = "runner" + string(rune('a'+i)) + "@example.com"
		tokens[i] = e.join(emails[i]).str("ticket")
	}
	e.admit()
	bodies := make([]map[string]any, n)
	for i := range emails {
		p := e.poll(tokens[i])
		if p.Body["admitted"] != true {
			t.Fatalf("runner %d not admitted: %s", i, p.Raw)
		}
		bodies[i] = e.applyBody(emails[i], e.otp("spring", emails[i]))
		bodies[i]["pace_group"], bodies[i]["admission_token"] = "fcfs", p.str("admission_token")
	}
	e.store.DB().Exec(`UPDATE subqueues SET capacity = 3 WHERE id = ?`, sq) // the organizer cut the group meanwhile
	var wg sync.WaitGroup
	status := make([]string, n)
	entry := make([]string, n)
	for i := range bodies {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := e.do("POST", "/api/v1/events/spring/entries", bodies[i])
			status[i], entry[i] = r.str("status"), r.str("entry_id")
		}(i)
	}
	wg.Wait()
	offered, waiting := 0, 0
	for _, s := range status {
		switch s {
		case "offered":
			offered++
		case "waitlisted":
			waiting++
		}
	}
	if live, capacity := e.live(sq); offered != 3 || waiting != n-3 || live != 3 || capacity != 3 {
		t.Fatalf("offered %d, waitlisted %d, live %d of %d: %v", offered, waiting, live, capacity, status)
	}
	// Free one slot: the waitlisted entry with the earliest place gets it.
	var first string
	e.store.DB().Raw(`SELECT e.id::text FROM entries e JOIN queue_tickets t ON t.entry_id = e.id
		WHERE e.status = 'waitlisted' ORDER BY t.place LIMIT 1`).Scan(&first)
	for i := range entry {
		if status[i] == "offered" {
			oid, _ := e.offerOf(entry[i])
			if r := e.do("POST", "/api/v1/offers/"+oid+"/decline", map[string]any{"token": e.keys.ReceiptToken(entry[i])}); r.Status != 200 {
				t.Fatalf("decline: %d %s", r.Status, r.Raw)
			}
			break
		}
	}
	if _, st := e.offerOf(first); st != "pending" {
		t.Fatalf("earliest waitlisted place's offer: %q", st)
	}
	if live, _ := e.live(sq); live != 3 {
		t.Fatalf("live after the cascade: %d", live)
	}
}

// prequeueEvent creates and publishes body (an eventBody) with a pre-queue
// of minutes on half:fcfs, leaving the clock before the opening.
func (e *env) prequeueEvent(body map[string]any, minutes int) {
	e.t.Helper()
	body["courses"].([]any)[0].(map[string]any)["pace_groups"].([]any)[2].(map[string]any)["prequeue_minutes"] = minutes
	if r := e.do("POST", "/api/v1/admin/events", body, "Authorization", "Bearer "+e.organizer); r.Status != 201 {
		e.t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/events/spring/publish", nil, "Authorization", "Bearer "+e.organizer); r.Status != 200 {
		e.t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
}

// TestWaitingRoomPrequeue: joins before the opening wait without a place
// and are placed in random order at the opening, ahead of later joins.
func TestWaitingRoomPrequeue(t *testing.T) {
	e := newEnv(t, true)
	body := eventBody("spring")
	groups := body["courses"].([]any)[0].(map[string]any)["pace_groups"].([]any)
	groups[2].(map[string]any)["prequeue_minutes"] = 30
	groups[0].(map[string]any)["prequeue_minutes"] = 30
	if r := e.do("POST", "/api/v1/admin/events", body, "Authorization", "Bearer "+e.organizer); r.Status != 422 ||
		r.errField("field") != "courses[0].pace_groups[0].prequeue_minutes" {
		t.Fatalf("pre-queue on a lottery group: %d %s", r.Status, r.Raw)
	}
	delete(groups[0].(map[string]any), "prequeue_minutes")
	e.prequeueEvent(body, 30)
	if r := e.do("GET", "/api/v1/events/spring", nil); !strings.Contains(string(r.Raw), `"prequeue_minutes":30`) {
		t.Errorf("event view without the pre-queue: %s", r.Raw)
	}

	// Before the pre-queue opens, and for a lottery group, nobody joins.
	e.clock.Set(testStart.Add(-31 * time.Minute))
	if r := e.join("early@example.com"); r.Status != 403 || r.errCode() != "registration_not_open" {
		t.Fatalf("join before the pre-queue: %d %s", r.Status, r.Raw)
	}

	// Twelve runners join the pre-queue: no place yet, a countdown instead.
	e.clock.Set(testStart.Add(-20 * time.Minute))
	var tickets []string
	for i := range 12 {
		r := e.join(fmt.Sprintf("pre%02d@example.com", i))
		if r.Status != http.StatusCreated || num(r, "position") != 0 || r.Body["prequeue"] != true ||
			r.str("opens_at") != testStart.Format(time.RFC3339) {
			t.Fatalf("pre-queue join %d: %d %s", i, r.Status, r.Raw)
		}
		tickets = append(tickets, r.str("ticket"))
	}
	if r := e.poll(tickets[0]); r.Status != 200 || r.Body["prequeue"] != true || num(r, "eta_seconds") != 20*60 ||
		num(r, "poll_after_seconds") != 30 || r.Body["admitted"] != false {
		t.Fatalf("pre-queue poll: %d %s", r.Status, r.Raw)
	}
	// The admission pass before the opening neither places nor admits.
	e.admit()
	var placed int64
	e.store.DB().Raw(`SELECT count(*) FROM queue_tickets WHERE place IS NOT NULL`).Scan(&placed)
	if placed != 0 {
		t.Fatalf("%d tickets placed before the opening", placed)
	}

	// At the opening, the first join opens the line: the pre-queue gets
	// places 1-12 in a random order, the late joiner 13.
	e.clock.Set(testStart.Add(time.Second))
	late := e.join("late@example.com")
	if late.Status != http.StatusCreated || num(late, "position") != 13 || late.Body["prequeue"] != nil {
		t.Fatalf("join after the opening: %d %s", late.Status, late.Raw)
	}
	seen := map[int64]bool{}
	inOrder := true
	for i, tk := range tickets {
		r := e.poll(tk)
		p := num(r, "position")
		if r.Status != 200 || p < 1 || p > 12 || seen[p] || r.Body["prequeue"] != nil || r.str("ticket") == "" {
			t.Fatalf("pre-queue ticket %d after the opening: %d %s", i, r.Status, r.Raw)
		}
		seen[p] = true
		inOrder = inOrder && p == int64(i+1)
		// The re-issued ticket answers the same without a database read.
		if again := e.poll(r.str("ticket")); num(again, "position") != p || again.str("ticket") != "" {
			t.Errorf("re-issued ticket %d: %s", i, again.Raw)
		}
	}
	if inOrder {
		t.Errorf("the pre-queue kept its join order (1 chance in 12!)")
	}
	// The order is the published pre-queue's: anyone can recompute it
	// (TestPrequeueArtifact checks the artifact itself).
	art := e.do("GET", "/api/v1/events/spring/prequeue/half:fcfs/artifact.json", nil)
	var logged int64
	e.store.DB().Raw(`SELECT count(*) FROM event_log WHERE kind = 'queue.opened' AND (details->>'prequeued')::int = 12
		AND details->>'seed_secret' = ?`, art.str("seed_secret")).Scan(&logged)
	if art.Status != 200 || art.str("status") != "placed" || logged != 1 {
		t.Fatalf("queue.opened log %d, artifact %d %s", logged, art.Status, art.Raw)
	}
	var mismatched int64
	e.store.DB().Raw(`SELECT count(*) FROM (SELECT place, row_number() OVER (ORDER BY sha256(convert_to(? || '|' || public_id, 'UTF8')),
		public_id COLLATE "C") AS want FROM queue_tickets WHERE place <= 12) x WHERE place <> want`, art.str("seed")).Scan(&mismatched)
	if mismatched != 0 {
		t.Errorf("%d places differ from the published seed's order", mismatched)
	}
	// Admission starts from place 1.
	e.admit()
	var first int64
	e.store.DB().Raw(`SELECT min(place) FROM queue_tickets WHERE status = 'admitted'`).Scan(&first)
	if first != 1 {
		t.Errorf("first admitted place: %d", first)
	}
}

// TestWaitingRoomOpeningRace: joins racing the opening never take a place
// ahead of the pre-queue, and places stay unique.
func TestWaitingRoomOpeningRace(t *testing.T) {
	e := newEnv(t, true)
	e.prequeueEvent(eventBody("spring"), 60)
	e.clock.Set(testStart.Add(-time.Minute))
	const pre, post = 20, 20
	for i := range pre {
		if r := e.join(fmt.Sprintf("pre%02d@example.com", i)); r.Status != http.StatusCreated {
			t.Fatalf("pre-queue join: %d %s", r.Status, r.Raw)
		}
	}
	bodies := make([]map[string]any, post)
	for i := range bodies {
		bodies[i] = map[string]any{"course": "half", "pace_group": "fcfs", "email": fmt.Sprintf("post%02d@example.com", i),
			"altcha": e.altcha("spring")}
	}
	e.clock.Set(testStart)
	var wg sync.WaitGroup
	answers := make([]resp, post)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = e.do("POST", "/api/v1/events/spring/queue", bodies[i])
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); e.admit() }() // the worker's pass races the joins to open the line
	wg.Wait()
	for i, a := range answers {
		if a.Status != http.StatusCreated || num(a, "position") <= pre {
			t.Errorf("join %d at the opening: %d %s", i, a.Status, a.Raw)
		}
	}
	var r struct{ N, Placed, Distinct, Max int64 }
	e.store.DB().Raw(`SELECT count(*) AS n, count(place) AS placed, count(DISTINCT place) AS distinct, max(place) AS max
		FROM queue_tickets`).Scan(&r)
	// Places are unique and every join placed; a join the race retried (a
	// serialization failure at the opening) leaves its sequence number
	// unused, so the highest place may pass the count by the retries.
	if r.N != pre+post || r.Placed != r.N || r.Distinct != r.N || r.Max < pre+post {
		t.Errorf("tickets: %+v", r)
	}
}

// TestWaitingRoomSweep: a device farm's entries in an ordered group are
// flagged by the cluster sweep even though they hold offers or wait for a
// slot. A flagged offer keeps its slot but cannot be accepted; approval
// gives it back, rejection voids it and the next place gets the slot.
func TestWaitingRoomSweep(t *testing.T) {
	e := newEnv(t, true)
	sq := e.fcfs(4, 6000)
	machine := e.deviceCookie("spring")
	people := []string{"f0@example.com", "f1@example.com", "f2@example.com", "f3@example.com", "f4@example.com",
		"solo@example.com"}
	tickets := map[string]string{}
	for _, p := range people {
		cookie := machine
		if p == "solo@example.com" {
			cookie = e.deviceCookie("spring")
		}
		tickets[p] = e.join(p, "Cookie", cookie).str("ticket")
	}
	e.admit() // four free slots: four admitted, then two more
	e.clock.Add(5 * time.Second)
	e.admit()
	entries := map[string]string{}
	for _, p := range people {
		cookie := machine
		if p == "solo@example.com" {
			cookie = e.deviceCookie("spring")
		}
		b := e.applyBody(p, e.otp("spring", p))
		b["pace_group"], b["admission_token"] = "fcfs", e.poll(tickets[p]).str("admission_token")
		r := e.do("POST", "/api/v1/events/spring/entries", b, "Cookie", cookie)
		if r.Status != http.StatusCreated {
			t.Fatalf("%s applies: %d %s", p, r.Status, r.Raw)
		}
		entries[p] = r.str("entry_id")
	}
	// Four slots: f0-f3 offered, f4 and solo waiting.
	status := func(p string) string {
		var st string
		e.store.DB().Raw(`SELECT status FROM entries WHERE id = ?`, entries[p]).Row().Scan(&st)
		return st
	}
	if status("f3@example.com") != "offered" || status("f4@example.com") != "waitlisted" || status("solo@example.com") != "waitlisted" {
		t.Fatalf("before the sweep: f3 %s, f4 %s, solo %s", status("f3@example.com"), status("f4@example.com"), status("solo@example.com"))
	}
	// f0 accepts before the sweep: an accepted offer is left alone.
	f0Offer, _ := e.offerOf(entries["f0@example.com"])
	if r := e.do("POST", "/api/v1/offers/"+f0Offer+"/accept",
		map[string]any{"token": e.keys.ReceiptToken(entries["f0@example.com"])}); r.Status != 200 {
		t.Fatalf("f0 accepts: %d %s", r.Status, r.Raw)
	}
	ev, _ := e.store.EventBySlug(context.Background(), "spring")
	if n, err := e.review.RecomputeClusters(context.Background(), ev); err != nil || n != 4 {
		t.Fatalf("sweep flagged %d, %v; want f1-f4", n, err)
	}
	for _, p := range people[1:5] {
		if st := status(p); st != "in_review" {
			t.Errorf("%s after the sweep: %s", p, st)
		}
	}
	if status("f0@example.com") != "offered" || status("solo@example.com") != "waitlisted" {
		t.Errorf("f0 %s, solo %s after the sweep", status("f0@example.com"), status("solo@example.com"))
	}
	// The flagged offers keep their slots but cannot be accepted.
	f1Offer, st := e.offerOf(entries["f1@example.com"])
	if st != "pending" {
		t.Fatalf("f1's offer after the sweep: %s", st)
	}
	if r := e.do("POST", "/api/v1/offers/"+f1Offer+"/accept",
		map[string]any{"token": e.keys.ReceiptToken(entries["f1@example.com"])}); r.Status != http.StatusConflict {
		t.Fatalf("accepting a flagged offer: %d %s", r.Status, r.Raw)
	}
	if live, _ := e.live(sq); live != 4 {
		t.Fatalf("live offers after the sweep: %d", live)
	}
	// Approved, f1 has its offer back; rejected, f2's slot goes to the
	// earliest place still waiting and not in review: solo.
	decide := func(p, decision string) {
		t.Helper()
		if r := e.do("POST", "/api/v1/review/entries/"+entries[p]+"/decision", map[string]any{"decision": decision,
			"note": "checked"}, "Authorization", "Bearer "+e.reviewer); r.Status != 200 {
			t.Fatalf("%s %s: %d %s", decision, p, r.Status, r.Raw)
		}
	}
	decide("f1@example.com", "approve")
	if status("f1@example.com") != "offered" {
		t.Fatalf("f1 approved: %s", status("f1@example.com"))
	}
	if r := e.do("POST", "/api/v1/offers/"+f1Offer+"/accept",
		map[string]any{"token": e.keys.ReceiptToken(entries["f1@example.com"])}); r.Status != 200 {
		t.Fatalf("f1 accepts after approval: %d %s", r.Status, r.Raw)
	}
	decide("f2@example.com", "reject")
	if _, st := e.offerOf(entries["f2@example.com"]); st != "void" {
		t.Errorf("f2's offer after rejection: %s", st)
	}
	if _, st := e.offerOf(entries["solo@example.com"]); st != "pending" || status("solo@example.com") != "offered" {
		t.Errorf("solo after f2's slot was freed: offer %q, entry %s", st, status("solo@example.com"))
	}
	if live, _ := e.live(sq); live != 4 {
		t.Errorf("live offers: %d", live)
	}
	var kinds []string
	e.store.DB().Raw(`SELECT kind || ':' || to_status FROM event_log WHERE entry_id = ? ORDER BY id`, entries["f2@example.com"]).
		Scan(&kinds)
	if strings.Join(kinds, " ") != "entry.created:waitlisted offer.issued:offered entry.flagged:in_review entry.review:rejected offer.void:void" {
		t.Errorf("f2's log: %v", kinds)
	}
}
