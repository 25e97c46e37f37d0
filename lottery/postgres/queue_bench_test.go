package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/fairdraw"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/lottery/staff"
	"github.com/startline/startline/lottery/waitroom"
)

// queueBench is a service with the production event cache (2 s) and an open
// event whose only pace group is ordered. With prequeue the group has a
// pre-queue and the clock stands ten minutes before the opening.
func queueBench(b testing.TB, prequeue bool) (*waitroom.Service, *postgres.Store, *lottery.FixedClock) {
	b.Helper()
	store, _ := pgtest.NewStore(b)
	ctx := context.Background()
	keys, _ := lottery.NewKeys([]byte("bench-secret-key-bench-secret-key-000"))
	clk := &lottery.FixedClock{T: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)}
	svc := lottery.NewService(store, keys, clk, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), lottery.Config{})
	stf := staff.NewService(store, store, keys, clk, nil, slog.New(slog.DiscardHandler), staff.Config{})
	if _, err := stf.Add(ctx, "org@example.com", lottery.RoleOrganizer, ""); err != nil {
		b.Fatal(err)
	}
	org, _ := store.StaffByEmail(ctx, "org@example.com")
	if _, err := svc.CreateEvent(ctx, org, lottery.EventSpec{Slug: "drop", Name: "Drop", OpensAt: clk.T, ClosesAt: clk.T.Add(time.Hour),
		OfferHold: "1h", Courses: []lottery.CourseSpec{{Code: "10k", Name: "10K", DistanceKM: 10,
			PaceGroups: []lottery.PaceGroupSpec{{Code: "fcfs", Label: "First come", Capacity: 1000, Mode: "ordered",
				PrequeueMinutes: prequeueMinutes(prequeue)}}}}}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Transition(ctx, org, "drop", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		b.Fatal(err)
	}
	clk.T = clk.T.Add(time.Minute)
	if prequeue {
		clk.T = clk.T.Add(-11 * time.Minute)
	}
	return waitroom.NewService(store, svc, keys, clk, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), lottery.Config{}), store, clk
}

// prequeueMinutes gives the group an hour's pre-queue, or knowingly none.
func prequeueMinutes(on bool) *int {
	if on {
		return new(60)
	}
	return new(0)
}

var browser = lottery.ClientInfo{IP: "211.234.10.20", UserAgent: "Mozilla/5.0 (iPhone)", AcceptLanguage: "ko-KR", DeviceID: "dev"}

// BenchmarkQueueJoin: parallel joins of one line; each is one PostgreSQL
// transaction that takes the line's next place.
// Run: go test -run '^$' -bench QueueJoin -cpu 16 ./lottery/postgres/
func BenchmarkQueueJoin(b *testing.B) { benchJoin(b, false) }

// BenchmarkQueueJoinPrequeue: the same before the opening, into the
// pre-queue: each join also takes a share lock on the line's row.
// Run: go test -run '^$' -bench QueueJoinPrequeue -cpu 16 ./lottery/postgres/
func BenchmarkQueueJoinPrequeue(b *testing.B) { benchJoin(b, true) }

func benchJoin(b *testing.B, prequeue bool) {
	svc, _, _ := queueBench(b, prequeue)
	ctx := context.Background()
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := svc.JoinQueue(ctx, "drop", lottery.JoinRequest{Course: "10k", PaceGroup: "fcfs",
				Email: fmt.Sprintf("r%d@example.com", i)}, browser); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkQueuePoll: parallel polls of waiting tickets, answered from the
// signed ticket and the cached line, with no PostgreSQL read.
// Run: go test -run '^$' -bench QueuePoll -cpu 16 ./lottery/postgres/
func BenchmarkQueuePoll(b *testing.B) {
	svc, _, _ := queueBench(b, false)
	ctx := context.Background()
	tickets := make([]string, 100)
	for i := range tickets {
		res, err := svc.JoinQueue(ctx, "drop", lottery.JoinRequest{Course: "10k", PaceGroup: "fcfs",
			Email: fmt.Sprintf("r%d@example.com", i)}, browser)
		if err != nil {
			b.Fatal(err)
		}
		tickets[i] = res.Ticket
	}
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			v, err := svc.QueueStatus(ctx, tickets[n.Add(1)%int64(len(tickets))])
			if err != nil || v.Admitted {
				b.Fatal(err, v)
			}
		}
	})
}

// BenchmarkQueueOpen100k: opening a line whose pre-queue holds 100,000
// tickets: prequeue-v1 computes the order in Go, one UPDATE places them and
// another publishes the order, in one transaction that joins wait for.
// Run: go test -run '^$' -bench QueueOpen100k -benchtime 5x ./lottery/postgres/
func BenchmarkQueueOpen100k(b *testing.B) {
	svc, store, clk := queueBench(b, true)
	ctx := context.Background()
	res, err := svc.JoinQueue(ctx, "drop", lottery.JoinRequest{Course: "10k", PaceGroup: "fcfs", Email: "first@example.com"}, browser)
	if err != nil || !res.Prequeue {
		b.Fatal(err, res)
	}
	db := store.DB()
	var sq, ev int64
	db.Raw(`SELECT subqueue_id, event_id FROM queue_lines`).Row().Scan(&sq, &ev) //nolint:errcheck // checked below
	if err := db.Exec(`INSERT INTO queue_tickets (id, event_id, subqueue_id, email_key, status, joined_at, public_id)
		SELECT gen_random_uuid(), ?, ?, 'r' || i || '@example.com', 'waiting', now(), replace(gen_random_uuid()::text, '-', '')
		FROM generate_series(1, 99999) i`, ev, sq).Error; err != nil {
		b.Fatal(err)
	}
	opening := clk.T.Add(11 * time.Minute)
	secret := make([]byte, 32)
	commit := lottery.SeedCommit{Sealed: []byte("unused by OpenLine"), Commitment: fairdraw.Commitment(secret)}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		// A placed pre-queue is immutable: start each round from a new
		// commitment of the same secret.
		for _, q := range []string{`UPDATE queue_tickets SET place = NULL`, `UPDATE queue_lines SET opened_at = NULL`,
			`DELETE FROM prequeues`} {
			if err := db.Exec(q).Error; err != nil {
				b.Fatal(err)
			}
		}
		if _, err := store.CommitPrequeue(ctx, sq, commit, clk.T); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if ok, err := store.OpenLine(ctx, lottery.OpenLineTx{SubQueueID: sq, Now: opening, Secret: secret}); err != nil || !ok {
			b.Fatal(err, ok)
		}
	}
	b.StopTimer()
	var placed int64
	db.Raw(`SELECT count(DISTINCT place) FROM queue_tickets`).Scan(&placed)
	if placed != 100_000 {
		b.Fatalf("%d places", placed)
	}
}
