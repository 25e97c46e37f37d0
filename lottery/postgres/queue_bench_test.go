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
	"github.com/startline/startline/lottery/postgres/pgtest"
)

// queueBench is a service with the production event cache (2 s) and an open
// event whose only pace group is ordered.
func queueBench(b *testing.B) *lottery.Service {
	b.Helper()
	store, _ := pgtest.NewStore(b)
	ctx := context.Background()
	keys, _ := lottery.NewKeys([]byte("bench-secret-key-bench-secret-key-000"))
	clk := &lottery.FixedClock{T: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)}
	svc := lottery.NewService(store, keys, clk, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), lottery.Config{})
	if _, err := svc.AddStaff(ctx, "org@example.com", lottery.RoleOrganizer, ""); err != nil {
		b.Fatal(err)
	}
	org, _ := store.StaffByEmail(ctx, "org@example.com")
	if _, err := svc.CreateEvent(ctx, org, lottery.EventSpec{Slug: "drop", Name: "Drop", OpensAt: clk.T, ClosesAt: clk.T.Add(time.Hour),
		OfferHold: "1h", Courses: []lottery.CourseSpec{{Code: "10k", Name: "10K", DistanceKM: 10,
			PaceGroups: []lottery.PaceGroupSpec{{Code: "fcfs", Label: "First come", Capacity: 1000, Mode: "ordered"}}}}}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Transition(ctx, org, "drop", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		b.Fatal(err)
	}
	clk.T = clk.T.Add(time.Minute)
	return svc
}

var browser = lottery.ClientInfo{IP: "211.234.10.20", UserAgent: "Mozilla/5.0 (iPhone)", AcceptLanguage: "ko-KR", DeviceID: "dev"}

// BenchmarkQueueJoin: parallel joins of one line; each is one PostgreSQL
// transaction that takes the line's next place.
// Run: go test -run '^$' -bench QueueJoin -cpu 16 ./lottery/postgres/
func BenchmarkQueueJoin(b *testing.B) {
	svc := queueBench(b)
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
	svc := queueBench(b)
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
