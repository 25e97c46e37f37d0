package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery/prequeue"
)

const prequeuePath = "/api/v1/events/spring/prequeue/half:fcfs/artifact.json"

// TestPrequeueArtifact: an ordered group gets a 15-minute pre-queue by
// default; its commitment is published before the first join, and once the
// line opens the published artifact recomputes to the places the tickets
// hold and carries no personal data.
func TestPrequeueArtifact(t *testing.T) {
	e := newEnv(t, true)
	if r := e.do("POST", "/api/v1/admin/events", eventBody("spring"), "Authorization", "Bearer "+e.organizer); r.Status != 201 ||
		!strings.Contains(string(r.Raw), `"code":"fcfs","label":"First come","capacity":10,"mode":"ordered","admit_per_minute":600,"prequeue_minutes":15`) {
		t.Fatalf("create without prequeue_minutes: %d %s", r.Status, r.Raw)
	}
	// A draft publishes nothing.
	if r := e.do("GET", prequeuePath, nil); r.Status != http.StatusNotFound {
		t.Fatalf("draft: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/events/spring/publish", nil, "Authorization", "Bearer "+e.organizer); r.Status != 200 {
		t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	for _, path := range []string{"/api/v1/events/spring/prequeue/half:sub-130/artifact.json", // a drawn group
		"/api/v1/events/spring/prequeue/half:nope/artifact.json", "/api/v1/events/autumn/prequeue/half:fcfs/artifact.json"} {
		if r := e.do("GET", path, nil); r.Status != http.StatusNotFound || r.errCode() != "not_found" {
			t.Errorf("%s: %d %s", path, r.Status, r.Raw)
		}
	}

	// Before the pre-queue opens the commitment is already public.
	e.clock.Set(testStart.Add(-20 * time.Minute))
	committed := e.do("GET", prequeuePath, nil)
	commitment := committed.str("commitment")
	if committed.Status != 200 || committed.str("status") != "committed" || len(commitment) != 64 ||
		committed.Body["seed_secret"] != nil || committed.Body["order"] != nil || committed.Header.Get("Cache-Control") != "public, max-age=2" {
		t.Fatalf("before the first join: %d %v %s", committed.Status, committed.Header, committed.Raw)
	}
	if r := e.join("early@example.com"); r.Status != 403 || r.errCode() != "registration_not_open" {
		t.Fatalf("join 20 minutes early: %d %s", r.Status, r.Raw)
	}

	e.clock.Set(testStart.Add(-10 * time.Minute))
	const n = 9
	emails := make([]string, n)
	tickets := map[string]string{} // public id → ticket
	for i := range emails {
		emails[i] = fmt.Sprintf("runner.%d@example.com", i)
		r := e.join(emails[i])
		if r.Status != http.StatusCreated || r.Body["prequeue"] != true || len(r.str("public_id")) != 32 ||
			r.str("prequeue_commitment") != commitment || r.str("prequeue_url") != prequeuePath {
			t.Fatalf("pre-queue join %d: %d %s", i, r.Status, r.Raw)
		}
		tickets[r.str("public_id")] = r.str("ticket")
		if p := e.poll(r.str("ticket")); p.str("public_id") != r.str("public_id") || p.str("prequeue_commitment") != commitment {
			t.Fatalf("pre-queue poll %d: %s", i, p.Raw)
		}
	}
	if r := e.do("GET", prequeuePath, nil); r.str("commitment") != commitment || r.str("status") != "committed" {
		t.Fatalf("the commitment changed while the pre-queue filled: %s", r.Raw)
	}

	// The worker's pass at the opening places the pre-queue.
	e.clock.Set(testStart.Add(time.Second))
	e.admit()
	r := e.do("GET", prequeuePath, nil)
	if r.Status != 200 || r.Header.Get("Cache-Control") != "public, max-age=3600, immutable" {
		t.Fatalf("placed: %d %v %s", r.Status, r.Header, r.Raw)
	}
	a, err := prequeue.ParseArtifact(r.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := prequeue.Verify(a); err != nil {
		t.Fatalf("the published pre-queue does not recompute: %v", err)
	}
	// Served again (from the process's copy), compressed or not: the same bytes.
	if plain := e.do("GET", prequeuePath, nil, "Accept-Encoding", "identity"); plain.Status != 200 ||
		plain.Header.Get("Content-Encoding") != "" || string(plain.Raw) != string(r.Raw) {
		t.Errorf("uncompressed artifact differs: %d %v", plain.Status, plain.Header)
	}
	if a.Status != "placed" || a.Commitment != commitment || a.EventID != "spring" || a.SubQueue != "half:fcfs" ||
		!slices.Equal(a.Tickets, slices.Sorted(maps.Keys(tickets))) {
		t.Fatalf("artifact: %+v", a)
	}
	for _, p := range a.Order {
		poll := e.poll(tickets[p.TicketID])
		if num(poll, "position") != int64(p.Position) || poll.str("public_id") != p.TicketID || poll.str("prequeue_url") != prequeuePath {
			t.Errorf("ticket at position %d polls %s", p.Position, poll.Raw)
		}
	}

	// Nothing personal, and nothing that lets anyone poll a ticket: only
	// the artifact's fields, public ids and hashes.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(r.Raw, &fields); err != nil {
		t.Fatal(err)
	}
	want := []string{"algorithm", "commitment", "event_id", "order", "seed", "seed_secret", "status", "subqueue", "tickets", "tickets_root"}
	if got := slices.Sorted(maps.Keys(fields)); !slices.Equal(got, want) {
		t.Errorf("artifact fields %v, want %v", got, want)
	}
	var ids []string
	e.store.DB().Raw(`SELECT id::text FROM queue_tickets`).Scan(&ids)
	secrets := append(ids, "@", "example.com", "runner", "127.0.0.1", "Mozilla")
	for _, tk := range tickets {
		secrets = append(secrets, tk)
	}
	for _, s := range secrets {
		if strings.Contains(string(r.Raw), s) {
			t.Errorf("the artifact contains %q", s)
		}
	}
}

// TestPrequeueChosenZero: an organizer may knowingly give an ordered group
// no pre-queue; its line still publishes a commitment and an (empty)
// placed order.
func TestPrequeueChosenZero(t *testing.T) {
	e := newEnv(t, true)
	e.prequeueEvent(eventBody("spring"), 0)
	if r := e.do("GET", "/api/v1/events/spring", nil); strings.Contains(string(r.Raw), `"prequeue_minutes"`) {
		t.Errorf("event view with a pre-queue: %s", r.Raw)
	}
	e.clock.Set(testStart.Add(-time.Minute))
	if r := e.join("early@example.com"); r.Status != 403 || r.errCode() != "registration_not_open" {
		t.Fatalf("join before the window without a pre-queue: %d %s", r.Status, r.Raw)
	}
	e.clock.Set(testStart.Add(time.Second))
	if r := e.join("first@example.com"); r.Status != http.StatusCreated || num(r, "position") != 1 || r.str("public_id") != "" {
		t.Fatalf("first join: %d %s", r.Status, r.Raw)
	}
	r := e.do("GET", prequeuePath, nil)
	a, err := prequeue.ParseArtifact(r.Raw)
	if err != nil || a.Status != "placed" || len(a.Order) != 0 {
		t.Fatalf("artifact of an empty pre-queue: %v %s", err, r.Raw)
	}
	if err := prequeue.Verify(a); err != nil {
		t.Errorf("Verify: %v", err)
	}
}
