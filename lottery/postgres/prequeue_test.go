package postgres_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/fairdraw"
	"github.com/startline/startline/lottery/prequeue"
)

// TestPrequeuePublishedOrder: a line's pre-queue commitment is public
// before the first join and never changes; the opening places the
// pre-queue by prequeue-v1, and what is stored and published recomputes to
// exactly the places the tickets got.
func TestPrequeuePublishedOrder(t *testing.T) {
	svc, store, clk := queueBench(t, true) // an hour's pre-queue, ten minutes before the opening
	ctx := context.Background()
	db := store.DB()
	var sq int64
	db.Raw(`SELECT subqueue_id FROM queue_lines`).Scan(&sq)

	before, err := svc.PrequeueArtifact(ctx, "drop", "10k:fcfs")
	if err != nil {
		t.Fatal(err)
	}
	if before.Status != prequeue.StatusCommitted || len(before.Commitment) != 64 || before.SeedSecret != "" || before.Tickets != nil {
		t.Fatalf("before the first join: %+v", before)
	}
	// Asking again, or committing again, keeps the first commitment.
	again, err := store.CommitPrequeue(ctx, sq, lottery.SeedCommit{Sealed: []byte("x"), Commitment: fairdraw.Commitment(make([]byte, 32))}, clk.T)
	if err != nil || again.Commitment != before.Commitment {
		t.Fatalf("second commitment: %v %+v", err, again)
	}

	const n = 25
	public := map[string]string{} // public id → ticket
	for i := range n {
		res, err := svc.JoinQueue(ctx, "drop", lottery.JoinRequest{Course: "10k", PaceGroup: "fcfs",
			Email: fmt.Sprintf("pre%02d@example.com", i)}, browser)
		if err != nil || !res.Prequeue || len(res.PublicID) != 32 || res.PrequeueCommitment != before.Commitment {
			t.Fatalf("pre-queue join %d: %v %+v", i, err, res)
		}
		public[res.PublicID] = res.Ticket
		v, err := svc.QueueStatus(ctx, res.Ticket)
		if err != nil || v.PublicID != res.PublicID || v.PrequeueCommitment != before.Commitment || v.PrequeuePlaced {
			t.Fatalf("pre-queue poll %d: %v %+v", i, err, v)
		}
	}
	if len(public) != n {
		t.Fatalf("%d distinct public ids for %d tickets", len(public), n)
	}

	// A secret other than the committed one places nothing.
	clk.T = clk.T.Add(11 * time.Minute) // past the opening
	if _, err := store.OpenLine(ctx, lottery.OpenLineTx{SubQueueID: sq, Now: clk.T, Secret: make([]byte, 32)}); err == nil {
		t.Fatal("OpenLine with another secret succeeded")
	}
	var placed int64
	db.Raw(`SELECT count(*) FROM queue_tickets WHERE place IS NOT NULL`).Scan(&placed)
	if placed != 0 {
		t.Fatalf("%d places after a refused opening", placed)
	}

	// The worker's pass opens the line.
	if _, err := svc.AdmitQueues(ctx); err != nil {
		t.Fatal(err)
	}
	art, err := svc.PrequeueArtifact(ctx, "drop", "10k:fcfs")
	if err != nil {
		t.Fatal(err)
	}
	if art.Status != prequeue.StatusPlaced || art.Commitment != before.Commitment || len(art.Order) != n {
		t.Fatalf("after the opening: %+v", art)
	}
	if err := prequeue.Verify(art); err != nil {
		t.Fatalf("the published artifact does not recompute: %v", err)
	}
	ids := slices.Sorted(maps.Keys(public))
	if !slices.Equal(art.Tickets, ids) {
		t.Fatalf("published tickets %v, joined %v", art.Tickets, ids)
	}

	// Recompute from the stored rows alone, and compare with the places
	// the tickets hold and the holders see.
	var row struct {
		SeedSecret, TicketsRoot string
		Placed                  int
	}
	db.Raw(`SELECT seed_secret, tickets_root, placed FROM prequeues WHERE subqueue_id = ?`, sq).Scan(&row)
	var joined string
	db.Raw(`SELECT array_to_string(order_ids, ' ') FROM prequeues WHERE subqueue_id = ?`, sq).Row().Scan(&joined) //nolint:errcheck // compared below
	stored := strings.Fields(joined)
	if len(stored) != n {
		t.Fatalf("stored order: %q", joined)
	}
	secret, _ := hex.DecodeString(row.SeedSecret)
	want, err := prequeue.Order(prequeue.Input{EventID: "drop", SubQueue: "10k:fcfs", SeedSecret: secret, Tickets: ids})
	if err != nil {
		t.Fatal(err)
	}
	if row.TicketsRoot != want.TicketsRoot || row.Placed != n || fairdraw.Commitment(secret) != before.Commitment {
		t.Fatalf("stored pre-queue %+v, recomputed root %s", row, want.TicketsRoot)
	}
	for i, p := range want.Order {
		if stored[i] != p.TicketID {
			t.Fatalf("stored order[%d] = %s, recomputed %s", i, stored[i], p.TicketID)
		}
		var place int64
		db.Raw(`SELECT place FROM queue_tickets WHERE public_id = ?`, p.TicketID).Scan(&place)
		if place != int64(p.Position) {
			t.Errorf("ticket %s holds place %d, the order says %d", p.TicketID, place, p.Position)
		}
		v, err := svc.QueueStatus(ctx, public[p.TicketID])
		if err != nil || v.Place != int64(p.Position) || !v.PrequeuePlaced || v.PublicID != p.TicketID {
			t.Errorf("poll of %s after the opening: %v %+v", p.TicketID, err, v)
		}
	}

	// A later join comes after the pre-queue and is not in its order.
	late, err := svc.JoinQueue(ctx, "drop", lottery.JoinRequest{Course: "10k", PaceGroup: "fcfs", Email: "late@example.com"}, browser)
	if err != nil || late.Place != n+1 || late.Prequeue || late.PublicID != "" {
		t.Fatalf("late join: %v %+v", err, late)
	}
	if v, err := svc.QueueStatus(ctx, late.Ticket); err != nil || v.PrequeuePlaced || v.PublicID != "" {
		t.Errorf("late poll: %v %+v", err, v)
	}

	// The log witnesses both steps, and a placed pre-queue is final.
	var logged []string
	db.Raw(`SELECT kind FROM event_log WHERE kind IN ('queue.committed', 'queue.opened') AND details->>'commitment' = ? ORDER BY id`,
		before.Commitment).Scan(&logged)
	if !slices.Equal(logged, []string{"queue.committed", "queue.opened"}) {
		t.Errorf("event log: %v", logged)
	}
	for _, q := range []string{`UPDATE prequeues SET seed_secret = repeat('0', 64)`, `UPDATE prequeues SET order_ids = order_ids[2:]`} {
		if err := db.Exec(q).Error; err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
}

// TestPrequeueCommitRace: first joins racing each other all wait under the
// one commitment that was stored, and it is logged once.
func TestPrequeueCommitRace(t *testing.T) {
	svc, store, _ := queueBench(t, true)
	ctx := context.Background()
	const n = 8
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := svc.JoinQueue(ctx, "drop", lottery.JoinRequest{Course: "10k", PaceGroup: "fcfs",
				Email: fmt.Sprintf("racer%d@example.com", i)}, browser)
			got[i], errs[i] = res.PrequeueCommitment, err
		})
	}
	wg.Wait()
	art, err := svc.PrequeueArtifact(ctx, "drop", "10k:fcfs")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if errs[i] != nil || got[i] != art.Commitment {
			t.Errorf("join %d: %v, commitment %q, published %q", i, errs[i], got[i], art.Commitment)
		}
	}
	var logged int64
	store.DB().Raw(`SELECT count(*) FROM event_log WHERE kind = 'queue.committed'`).Scan(&logged)
	if logged != 1 {
		t.Errorf("%d queue.committed records", logged)
	}
}
