package postgres_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/drawstats"
	"github.com/startline/startline/lottery/fairdraw"
	"github.com/startline/startline/lottery/odds"
	"github.com/startline/startline/lottery/postgres"
)

// countedEntries reads a sub-queue's counted entries straight from entries,
// as an independent check of LivePools.
func countedEntries(t *testing.T, store *postgres.Store, subqueueID int64) []odds.Entry {
	t.Helper()
	var rows []struct {
		Tickets   int
		GroupCode string
	}
	if err := store.DB().Raw(`SELECT tickets, group_code FROM entries WHERE subqueue_id = ?
		AND status IN ('received', 'offered', 'confirmed')`, subqueueID).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]odds.Entry, len(rows))
	for i, r := range rows {
		out[i] = odds.Entry{Tickets: r.Tickets, Group: r.GroupCode}
	}
	return out
}

func sumTickets(es []odds.Entry) int64 {
	var n int64
	for _, e := range es {
		n += int64(e.Tickets)
	}
	return n
}

// TestOddsSnapshots follows one event's numbers on a real database: live
// snapshots while it takes entries (in-review and rejected entries not
// counted), an unchanged field only re-stamped, the final snapshot at
// freeze from the frozen lists (never replaced, even by SQL), and after the
// draw the tally, which agrees with the published artifact.
func TestOddsSnapshots(t *testing.T) {
	ctx := context.Background()
	store, svc, dr, clk, org := drawService(t, nil)
	stats := drawstats.NewService(store, clk, slog.New(slog.DiscardHandler), drawstats.Config{CacheTTL: time.Nanosecond})
	svc.UseDraws(stats.FinalOnFreeze(dr))
	start := clk.T
	if _, err := svc.CreateEvent(ctx, org, lottery.EventSpec{Slug: "odds", Name: "Odds 10K", DisputeWindow: "0s", OpensAt: start.Add(time.Hour),
		ClosesAt: start.Add(2 * time.Hour), MaxGroupSize: 4, TicketRule: lottery.TicketRuleDoubling,
		Courses: []lottery.CourseSpec{{Code: "ten", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "fast", Label: "Fast", Capacity: 5}, {Code: "open", Label: "Open", Capacity: 50},
			{Code: "walk", Label: "Walk", Capacity: 3, Mode: "ordered"}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, org, "odds", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.InsertSyntheticEntries(ctx, "odds", 12); err != nil {
		t.Fatal(err)
	}
	ev, err := store.EventBySlug(ctx, "odds")
	if err != nil {
		t.Fatal(err)
	}
	subs := ev.SubQueues()
	fast, open, walk := subs[0].ID, subs[1].ID, subs[2].ID
	// One entry held for review and one rejected: neither counts.
	store.DB().Exec(`UPDATE entries SET status = 'in_review' WHERE id = (SELECT id FROM entries WHERE subqueue_id = ? ORDER BY id LIMIT 1)`, fast)
	store.DB().Exec(`UPDATE entries SET status = 'rejected' WHERE id = (SELECT id FROM entries WHERE subqueue_id = ? AND status = 'received' ORDER BY id LIMIT 1)`, fast)

	// Before the window opens there is nothing to publish.
	if n, err := stats.Refresh(ctx); err != nil || n != 0 {
		t.Fatalf("refresh before the opening: %d, %v", n, err)
	}
	clk.T = start.Add(90 * time.Minute)
	if n, err := stats.Refresh(ctx); err != nil || n != 3 {
		t.Fatalf("refresh: %d, %v; want 3 snapshots", n, err)
	}
	got, err := stats.EventOdds(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, sq := range []struct {
		id       int64
		capacity int
	}{{fast, 5}, {open, 50}} {
		entries := countedEntries(t, store, sq.id)
		want := odds.Compute(sq.capacity, entries, odds.Options{})
		sn := got[sq.id]
		if sn.Entries != len(entries) || sn.Tickets != sumTickets(entries) || sn.Capacity != sq.capacity || sn.Final ||
			!sn.ComputedAt.Equal(clk.T) || sn.Odds == nil {
			t.Fatalf("snapshot of %d: %+v", sq.id, sn)
		}
		if d := cmp.Diff(want, *sn.Odds); d != "" {
			t.Errorf("odds of %d (-want +got):\n%s", sq.id, d)
		}
	}
	if got[fast].Entries != 10 {
		t.Errorf("fast counts %d entries, want 10 (12 less one in review, one rejected)", got[fast].Entries)
	}
	if w := got[walk]; w.Odds != nil || w.Entries != 12 {
		t.Errorf("ordered sub-queue: %+v, want 12 entries and no odds", w)
	}

	// A minute later with nothing changed: same odds, new time.
	first := got[fast]
	clk.T = clk.T.Add(time.Minute)
	if _, err := stats.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ = stats.EventOdds(ctx, ev)
	if !got[fast].ComputedAt.Equal(clk.T) || !cmp.Equal(got[fast].Odds, first.Odds) || got[fast].FieldKey != first.FieldKey {
		t.Errorf("unchanged field: %+v, was %+v", got[fast], first)
	}
	// The review clears an entry: it counts at the next pass.
	store.DB().Exec(`UPDATE entries SET status = 'received' WHERE subqueue_id = ? AND status = 'in_review'`, fast)
	if _, err := stats.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ = stats.EventOdds(ctx, ev)
	if got[fast].Entries != 11 || got[fast].FieldKey == first.FieldKey {
		t.Errorf("after review: %d entries, key changed %v", got[fast].Entries, got[fast].FieldKey != first.FieldKey)
	}

	// Freeze: the final snapshots are the frozen lists' odds.
	clk.T = start.Add(3 * time.Hour)
	if _, err := svc.Transition(ctx, org, "odds", lottery.ActionFreeze, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	frozen, err := store.FrozenPools(ctx, ev.ID)
	if err != nil || len(frozen) != 2 {
		t.Fatalf("frozen pools: %d, %v", len(frozen), err)
	}
	got, _ = stats.EventOdds(ctx, ev)
	for _, p := range frozen {
		sn := got[p.SubQueueID]
		want := odds.Compute(p.Capacity, p.Entries, odds.Options{})
		if !sn.Final || sn.Entries != len(p.Entries) || !sn.ComputedAt.Equal(clk.T) || !cmp.Equal(*sn.Odds, want) {
			t.Errorf("final snapshot of %d: %+v", p.SubQueueID, sn)
		}
	}
	if got[fast].Entries != 11 {
		t.Errorf("fast froze %d entries, want 11", got[fast].Entries)
	}
	// Nothing replaces a final snapshot: not a later pass, not a save, not SQL.
	finalFast := got[fast]
	clk.T = clk.T.Add(time.Minute)
	if _, err := stats.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	stale := finalFast
	stale.Final, stale.Entries, stale.ComputedAt = false, 1, clk.T
	if err := store.SaveSnapshots(ctx, []drawstats.Snapshot{stale}); err != nil {
		t.Fatal(err)
	}
	if err := store.DB().Exec("UPDATE subqueue_odds SET entries = 0 WHERE subqueue_id = ?", fast).Error; err == nil {
		t.Error("a final snapshot was changed by SQL")
	}
	got, _ = stats.EventOdds(ctx, ev)
	if d := cmp.Diff(finalFast, got[fast]); d != "" {
		t.Errorf("final snapshot changed (-was +now):\n%s", d)
	}
	if ids, err := store.EventsMissingFinalOdds(ctx); err != nil || len(ids) != 0 {
		t.Errorf("events missing final odds: %v, %v", ids, err)
	}

	// Draw: each result is tallied once, the same as the artifact says.
	if _, err := svc.Transition(ctx, org, "odds", lottery.ActionReveal, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range frozen {
		if _, err := dr.RunDraw(ctx, p.SubQueueID); err != nil {
			t.Fatal(err)
		}
	}
	if ids, err := store.DrawsMissingResults(ctx); err != nil || len(ids) != 2 {
		t.Fatalf("draws missing results: %v, %v", ids, err)
	}
	if n, err := stats.Refresh(ctx); err != nil || n != 2 {
		t.Fatalf("refresh after the draw: %d, %v; want 2 results", n, err)
	}
	infos, err := store.Draws(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	results, finals, err := stats.DrawResults(ctx, ev, infos)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range infos {
		gz, err := store.DrawArtifact(ctx, ev.ID, d.SubQueue)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := draws.Gunzip(gz)
		if err != nil {
			t.Fatal(err)
		}
		a, err := fairdraw.ParseArtifact(raw)
		if err != nil {
			t.Fatal(err)
		}
		r := results[d.SubQueueID]
		if dd := cmp.Diff(odds.Tally(a), r.Rates); dd != "" {
			t.Errorf("tally of %s (-artifact +stored):\n%s", d.SubQueue, dd)
		}
		if r.Applicants != d.Entries || r.Selected != d.Selected || !finals[d.SubQueueID].Final {
			t.Errorf("result of %s: %+v, draw %+v", d.SubQueue, r, d)
		}
	}
	if err := store.DB().Exec("UPDATE draw_stats SET selected = 0").Error; err == nil {
		t.Error("a draw's result was changed")
	}
}

// TestOddsRepairsFreezeWithoutOdds: an event frozen without the odds step
// (its final odds failed, or it froze before odds existed) gets its final
// snapshot from the worker's pass, and a drawn one its result from the
// first results read.
func TestOddsRepairsFreezeWithoutOdds(t *testing.T) {
	ctx := context.Background()
	store, svc, dr, clk, org := drawService(t, nil)
	stats := drawstats.NewService(store, clk, slog.New(slog.DiscardHandler), drawstats.Config{CacheTTL: time.Nanosecond})
	ids := drawTestEvent(t, store, svc, clk, org, "plain", 2, 7) // frozen by the bare draw steps
	if missing, err := store.EventsMissingFinalOdds(ctx); err != nil || len(missing) != 1 {
		t.Fatalf("events missing final odds: %v, %v", missing, err)
	}
	if _, err := stats.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	ev, _ := store.EventBySlug(ctx, "plain")
	got, err := stats.EventOdds(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if sn := got[id]; !sn.Final || sn.Entries != 7 || sn.Odds == nil || sn.Capacity != 2 {
			t.Errorf("repaired snapshot of %d: %+v", id, sn)
		}
	}
	if _, err := dr.RunDraw(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	infos, _ := store.Draws(ctx, ev.ID)
	results, _, err := stats.DrawResults(ctx, ev, infos)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := results[ids[0]]; !ok || r.Applicants != 7 || r.Selected != infos[0].Selected {
		t.Errorf("result read: %+v", results)
	}
	if _, ok := results[ids[1]]; ok {
		t.Error("a result for an undrawn sub-queue")
	}
	if missing, _ := store.DrawsMissingResults(ctx); len(missing) != 0 {
		t.Errorf("the read did not store the result: %v", missing)
	}
}
