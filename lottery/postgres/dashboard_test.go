package postgres_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/dashboard"
	"github.com/startline/startline/lottery/postgres"
)

// dashboardEvent creates published events with a drawn sub-queue
// (full:open, capacity 100) and an ordered one (ten:fast, 30 a minute),
// and returns the first with its sub-queue ids.
func dashboardEvent(t testing.TB, slugs ...string) (*postgres.Store, lottery.Event, int64, int64) {
	t.Helper()
	store, svc, _, clk, org := drawService(t, nil)
	ctx := context.Background()
	zero := 0
	for _, slug := range slugs {
		if _, err := svc.CreateEvent(ctx, org, lottery.EventSpec{Slug: slug, Name: "Dash", DisputeWindow: "0s", OpensAt: clk.T,
			ClosesAt: clk.T.Add(time.Hour), MaxGroupSize: 4,
			Courses: []lottery.CourseSpec{
				{Code: "full", Name: "Full", DistanceKM: 42.195, PaceGroups: []lottery.PaceGroupSpec{{Code: "open", Label: "Open", Capacity: 100, Price: 50000}}},
				{Code: "ten", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{{Code: "fast", Label: "Fast", Capacity: 50,
					Mode: string(lottery.ModeOrdered), AdmitPerMinute: 30, PrequeueMinutes: &zero}}},
			}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Transition(ctx, org, slug, lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := store.EventBySlug(ctx, slugs[0])
	if err != nil {
		t.Fatal(err)
	}
	sqs := ev.SubQueues()
	return store, ev, sqs[0].ID, sqs[1].ID
}

// TestDashboardCounts reads the aggregates of a small known event: every
// count exact, another event's rows never counted.
func TestDashboardCounts(t *testing.T) {
	ctx := context.Background()
	store, ev, full, ten := dashboardEvent(t, "dash", "other")
	db := store.DB()
	exec := func(q string, args ...any) {
		t.Helper()
		if err := db.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Entries: g numbers them; status, risk and hour follow from g.
	//  g 1–6  full, received, accept, score 10,  made 09:xx
	//  g 7–8  full, in_review, review, score 450, made 10:xx
	//  g 9    full, rejected, reject, score 1000, made 10:xx
	//  g 10   full, received (approved), review, score 520, made 12:xx
	//  g 11–13 ten, offered (3 offers), accept, score 0, made 12:xx
	entry := func(from, to int, sq int64, status, decision string, score int, made string) {
		exec(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, status, risk_decision, risk_score, created_at)
			SELECT gen_random_uuid(), ?, ?, 'R ' || g, 'r' || g || '@example.com', 'r' || g || '@example.com',
				'+8210' || lpad(g::text, 8, '0'), '1990-01-01', ?, ?, ?, ?::timestamptz FROM generate_series(?::int, ?::int) g`,
			ev.ID, sq, status, decision, score, made, from, to)
	}
	entry(1, 6, full, "received", "accept", 10, "2027-03-01T09:15:00Z")
	entry(7, 8, full, "in_review", "review", 450, "2027-03-01T10:05:00Z")
	entry(9, 9, full, "rejected", "reject", 1000, "2027-03-01T10:59:59Z")
	entry(10, 10, full, "received", "review", 520, "2027-03-01T12:00:00Z")
	entry(11, 13, ten, "offered", "accept", 0, "2027-03-01T12:30:00Z")
	// Offers: the ordered entries 11–13 (paid, pending re-offer, expired);
	// entry 1 accepted; entry 2 declined.
	offer := func(email, status string, round int) {
		exec(`INSERT INTO offers (id, event_id, subqueue_id, entry_id, unit_id, status, round, issued_at, expires_at)
			SELECT gen_random_uuid(), event_id, subqueue_id, id, id::text, ?, ?, now(), now() + interval '1 day' FROM entries WHERE email = ?`,
			status, round, email)
	}
	offer("r11@example.com", "paid", 0)
	offer("r12@example.com", "pending", 1)
	offer("r13@example.com", "expired", 0)
	offer("r1@example.com", "accepted", 0)
	offer("r2@example.com", "declined", 2)
	// Payments: 50,000 captured for r11; an earlier failed attempt; and for
	// r1 a refunded 50,000 of which 20,000 is confirmed and 5,000 more owed.
	pay := func(id, email, status string, amount, due, refunded int64) {
		exec(`INSERT INTO payments (provider, id, offer_id, status, amount_minor, currency, refund_due_minor, refunded_minor)
			SELECT 'sandbox', ?, o.id, ?, ?, 'krw', ?, ? FROM offers o JOIN entries e ON e.id = o.entry_id WHERE e.email = ?`,
			id, status, amount, due, refunded, email)
	}
	pay("p1", "r11@example.com", "captured", 50000, 0, 0)
	pay("p0", "r11@example.com", "failed", 50000, 0, 0)
	pay("p2", "r1@example.com", "refunded", 50000, 25000, 20000)
	// The line of ten:fast: places 1–9 handed out, 4 admitted; two more in
	// the pre-queue with no place yet; one refused (no place).
	ticket := func(place any, status string, n int) {
		exec(`INSERT INTO queue_tickets (id, event_id, subqueue_id, place, email_key, status, joined_at, admission_expires_at)
			SELECT gen_random_uuid(), ?, ?, ?::bigint + g - 1, 'q' || g || '-' || ? || '@example.com', ?, now(),
				CASE WHEN ? IN ('waiting', 'refused') THEN NULL ELSE now() + interval '10 minutes' END FROM generate_series(1, ?) g`,
			ev.ID, ten, place, status, status, status, n)
	}
	ticket(1, "used", 4)
	ticket(5, "waiting", 5)
	ticket(nil, "waiting", 2)
	ticket(nil, "refused", 1)
	exec(`INSERT INTO queue_lines (subqueue_id, event_id, admitted_through) VALUES (?, ?, 4)
		ON CONFLICT (subqueue_id) DO UPDATE SET admitted_through = 4`, ten, ev.ID)

	// Another event's rows are never counted.
	exec(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, status, created_at)
		SELECT gen_random_uuid(), e.id, q.id, 'X', 'x@example.com', 'x@example.com', '+821099999999', '1990-01-01', 'received',
			'2027-03-01T09:30:00Z' FROM events e JOIN subqueues q ON q.event_id = e.id WHERE e.slug = 'other' LIMIT 1`)
	exec(`INSERT INTO offers (id, event_id, subqueue_id, entry_id, unit_id, status, round, issued_at, expires_at)
		SELECT gen_random_uuid(), event_id, subqueue_id, id, id::text, 'paid', 0, now(), now() + interval '1 day' FROM entries WHERE email = 'x@example.com'`)
	exec(`INSERT INTO payments (provider, id, offer_id, status, amount_minor, currency)
		SELECT 'sandbox', 'px', o.id, 'captured', 999, 'krw' FROM offers o JOIN entries e ON e.id = o.entry_id WHERE e.email = 'x@example.com'`)

	got, err := store.DashboardCounts(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	hour := func(s string) int64 { tm, _ := time.Parse(time.RFC3339, s); return tm.Unix() / 3600 }
	sort.Slice(got.Hours, func(i, j int) bool { return got.Hours[i].Hour < got.Hours[j].Hour })
	wantHours := []dashboard.HourCount{{Hour: hour("2027-03-01T09:00:00Z"), N: 6}, {Hour: hour("2027-03-01T10:00:00Z"), N: 3}, {Hour: hour("2027-03-01T12:00:00Z"), N: 4}}
	if d := cmp.Diff(wantHours, got.Hours); d != "" {
		t.Errorf("hours (-want +got):\n%s", d)
	}
	sort.Slice(got.Entries, func(i, j int) bool {
		a, b := got.Entries[i], got.Entries[j]
		if a.SubQueueID != b.SubQueueID {
			return a.SubQueueID < b.SubQueueID
		}
		if a.Status != b.Status {
			return a.Status < b.Status
		}
		return a.RiskDecision < b.RiskDecision
	})
	wantEntries := []dashboard.EntryCount{
		{SubQueueID: full, Status: lottery.EntryInReview, RiskDecision: "review", N: 2}, {SubQueueID: full, Status: lottery.EntryReceived, RiskDecision: "accept", N: 6}, {SubQueueID: full, Status: lottery.EntryReceived, RiskDecision: "review", N: 1},
		{SubQueueID: full, Status: lottery.EntryRejected, RiskDecision: "reject", N: 1}, {SubQueueID: ten, Status: lottery.EntryOffered, RiskDecision: "accept", N: 3},
	}
	if d := cmp.Diff(wantEntries, got.Entries); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
	// Scores: 0 ×3, 10 ×6 → bucket 0; 450 ×2 → 4; 520 → 5; 1000 → 10.
	if d := cmp.Diff([]int64{9, 0, 0, 0, 2, 1, 0, 0, 0, 0, 1}, got.Risk); d != "" {
		t.Errorf("risk buckets (-want +got):\n%s", d)
	}
	sort.Slice(got.Offers, func(i, j int) bool { return got.Offers[i].Status < got.Offers[j].Status })
	wantOffers := []dashboard.OfferCount{{SubQueueID: full, Status: lottery.OfferAccepted, Reoffer: false, N: 1}, {SubQueueID: full, Status: lottery.OfferDeclined, Reoffer: true, N: 1},
		{SubQueueID: ten, Status: lottery.OfferExpired, Reoffer: false, N: 1}, {SubQueueID: ten, Status: lottery.OfferPaid, Reoffer: false, N: 1}, {SubQueueID: ten, Status: lottery.OfferPending, Reoffer: true, N: 1}}
	if d := cmp.Diff(wantOffers, got.Offers); d != "" {
		t.Errorf("offers (-want +got):\n%s", d)
	}
	if d := cmp.Diff(dashboard.MoneyCount{Payments: 2, Taken: 100000, Refunded: 20000, Owed: 5000}, got.Money); d != "" {
		t.Errorf("money (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]dashboard.LineCount{{SubQueueID: ten, Issued: 11, Admitted: 4, AdmitPerMinute: 30}}, got.Lines); d != "" {
		t.Errorf("lines (-want +got):\n%s", d)
	}

	// Later writes reach the next read: a reviewer approves both entries
	// in review (one statement), an entry is withdrawn, one more is made.
	exec(`UPDATE entries SET status = 'received' WHERE event_id = ? AND status = 'in_review'`, ev.ID)
	exec(`UPDATE entries SET status = 'withdrawn' WHERE email = 'r3@example.com'`)
	exec(`UPDATE entries SET name = 'Renamed' WHERE email = 'r4@example.com'`) // no counted column: no change
	entry(14, 14, full, "received", "accept", 30, "2027-03-01T09:45:00Z")
	again, err := store.DashboardCounts(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	tally := map[string]int64{}
	for _, e := range again.Entries {
		tally[string(e.Status)+"/"+e.RiskDecision] += e.N
	}
	if d := cmp.Diff(map[string]int64{"received/accept": 6, "received/review": 3, "rejected/reject": 1, "offered/accept": 3,
		"withdrawn/accept": 1}, tally); d != "" {
		t.Errorf("entries after changes (-want +got):\n%s", d)
	}
	sort.Slice(again.Hours, func(i, j int) bool { return again.Hours[i].Hour < again.Hours[j].Hour })
	if again.Hours[0].N != 7 {
		t.Errorf("09:00 hour after one more entry: %+v", again.Hours)
	}
	var pending int64
	db.Raw(`SELECT count(*) FROM entry_tally_deltas WHERE event_id = ?`, ev.ID).Scan(&pending)
	if pending != 0 {
		t.Errorf("%d deltas left after a read", pending)
	}

	// The worker's pass folds what a read would: the next read agrees.
	exec(`UPDATE entries SET status = 'rejected' WHERE email = 'r5@example.com'`)
	if n, err := store.FoldTallies(ctx); err != nil || n != 2 { // this event and "other"
		t.Fatalf("fold: %d events, %v", n, err)
	}
	db.Raw(`SELECT count(*) FROM entry_tally_deltas`).Scan(&pending)
	if n, err := store.FoldTallies(ctx); pending != 0 || err != nil || n != 0 {
		t.Fatalf("after a fold: %d deltas left, then %d events folded, %v", pending, n, err)
	}
	var rejected int64
	db.Raw(`SELECT sum(n) FROM entry_tallies WHERE event_id = ? AND status = 'rejected'`, ev.ID).Scan(&rejected)
	if rejected != 2 {
		t.Errorf("rejected after the fold: %d, want 2", rejected)
	}

	// Through the service: names, the funnel and the line's waiting count.
	d := dashboard.Build(ev, got, time.Now())
	if d.Funnel != (dashboard.Funnel{Issued: 5, Accepted: 2, Paid: 1, Declined: 1, Expired: 1, Reoffered: 2}) {
		t.Errorf("funnel %+v", d.Funnel)
	}
	if d.Review != (dashboard.Review{Awaiting: 2, Approved: 1, Rejected: 1}) {
		t.Errorf("review %+v", d.Review)
	}
	if len(d.Lines) != 1 || d.Lines[0].Waiting != 7 || d.Lines[0].CourseName != "10K" {
		t.Errorf("lines %+v", d.Lines)
	}
}
