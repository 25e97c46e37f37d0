package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
)

// TestEventCounts: the events list's numbers on a real database, one
// statement for a page of events: entries, capacity, live or paid offers
// and paid ones, each event's own; another organization's organizer gets
// none of them.
func TestEventCounts(t *testing.T) {
	ctx := context.Background()
	store, svc, _, clk, org := drawService(t, nil)
	for _, slug := range []string{"alpha", "beta"} {
		if _, err := svc.CreateEvent(ctx, org, lottery.EventSpec{Slug: slug, Name: slug, OpensAt: clk.T.Add(-time.Hour),
			ClosesAt: clk.T.Add(time.Hour), Courses: []lottery.CourseSpec{{Code: "ten", Name: "10K", DistanceKM: 10,
				PaceGroups: []lottery.PaceGroupSpec{{Code: "fast", Capacity: 5}, {Code: "open", Capacity: 50}}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Transition(ctx, org, slug, lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.InsertSyntheticEntries(ctx, "alpha", 12); err != nil {
		t.Fatal(err)
	}
	if _, err := store.InsertSyntheticEntries(ctx, "beta", 3); err != nil {
		t.Fatal(err)
	}
	alpha, _ := store.EventBySlug(ctx, "alpha")
	beta, _ := store.EventBySlug(ctx, "beta")
	for i, status := range []string{"paid", "pending", "accepted", "expired"} {
		if err := store.DB().Exec(`INSERT INTO offers (id, event_id, subqueue_id, entry_id, unit_id, status, round, issued_at, expires_at)
			SELECT gen_random_uuid(), e.event_id, e.subqueue_id, e.id, e.id::text, ?, 0, now(), now() + interval '1 hour'
			FROM entries e WHERE e.event_id = ? ORDER BY e.id OFFSET ? LIMIT 1`, status, alpha.ID, i).Error; err != nil {
			t.Fatal(err)
		}
	}
	got, err := svc.EventCounts(ctx, org, []lottery.Event{alpha, beta})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]lottery.EventCounts{alpha.ID: {Entries: 24, Capacity: 55, Offered: 3, Paid: 1},
		beta.ID: {Entries: 6, Capacity: 55}} // synthetic entries are per sub-queue
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	rival := org
	rival.OrgID = org.OrgID + 1000
	if got, err := svc.EventCounts(ctx, rival, []lottery.Event{alpha, beta}); err != nil || len(got) != 0 {
		t.Errorf("another organization's counts: %v %v", got, err)
	}
}
