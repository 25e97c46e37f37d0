package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/lottery/review"
	"github.com/startline/startline/lottery/staff"
)

// BenchmarkDrawEndToEnd1M draws one sub-queue of 1,000,000 entries (tickets
// 1 to 8, groups of up to 3) from PostgreSQL to a stored, published artifact:
// load the frozen list, draw, write the order, 1M status changes and their
// log rows in one transaction. Freeze is timed separately.
// Run: go test -run '^$' -bench DrawEndToEnd1M -benchtime 1x ./lottery/postgres/
func BenchmarkDrawEndToEnd1M(b *testing.B) {
	const n = 1_000_000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		store, svc, dr, clk, org := benchService(b)
		ctx := context.Background()
		_, err := svc.CreateEvent(ctx, org, lottery.EventSpec{Slug: "big", Name: "Big", DisputeWindow: "0s", OpensAt: clk.T, ClosesAt: clk.T.Add(time.Hour),
			MaxGroupSize: 4, Courses: []lottery.CourseSpec{{Code: "full", Name: "Full", DistanceKM: 42.195,
				PaceGroups: []lottery.PaceGroupSpec{{Code: "open", Label: "Open", Capacity: 40_000}}}}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Transition(ctx, org, "big", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
			b.Fatal(err)
		}
		if err := store.DB().Exec(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date,
				tickets, group_code, status)
			SELECT gen_random_uuid(), e.id, q.id, 'Bench ' || g, 'b' || g || '@example.com', 'b' || g || '@example.com',
				'+821000000000', '1990-01-01', 1 + (g % 8), CASE WHEN g % 10 < 3 THEN 'grp-' || (g / 10) ELSE '' END, 'received'
			FROM events e JOIN subqueues q ON q.event_id = e.id, generate_series(1, ?) g WHERE e.slug = 'big'`, n).Error; err != nil {
			b.Fatal(err)
		}
		store.DB().Exec("ANALYZE entries")
		clk.T = clk.T.Add(2 * time.Hour)
		start := time.Now()
		if _, err := svc.Transition(ctx, org, "big", lottery.ActionFreeze, lottery.TransitionParams{}); err != nil {
			b.Fatal(err)
		}
		freeze := time.Since(start)
		if _, err := svc.Transition(ctx, org, "big", lottery.ActionReveal, lottery.TransitionParams{}); err != nil {
			b.Fatal(err)
		}
		var sq int64
		store.DB().Raw("SELECT subqueue_id FROM draws").Scan(&sq)
		b.StartTimer()
		start = time.Now()
		art, err := dr.RunDraw(ctx, sq)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "draw-s")
		b.ReportMetric(freeze.Seconds(), "freeze-s")
		b.ReportMetric(float64(len(art))/1e6, "artifact-MB")
	}
}

// BenchmarkExpire10k: 10,000 offers expire at the same moment; the
// reconciler expires them all and offers the freed slots to the next
// 10,000 runners on the waitlist.
// Run: go test -run '^$' -bench Expire10k -benchtime 1x ./lottery/postgres/
func BenchmarkExpire10k(b *testing.B) {
	const slots = 10_000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		store, svc, dr, clk, org := benchService(b)
		off := offers.NewService(store, svc, nil, clk, nil, slog.New(slog.DiscardHandler))
		ctx := context.Background()
		if _, err := svc.CreateEvent(ctx, org, lottery.EventSpec{Slug: "big", Name: "Big", DisputeWindow: "0s", OpensAt: clk.T, ClosesAt: clk.T.Add(time.Hour),
			OfferHold: "48h", Courses: []lottery.CourseSpec{{Code: "full", Name: "Full", DistanceKM: 42.195,
				PaceGroups: []lottery.PaceGroupSpec{{Code: "open", Label: "Open", Capacity: slots}}}}}); err != nil {
			b.Fatal(err)
		}
		svc.Transition(ctx, org, "big", lottery.ActionPublish, lottery.TransitionParams{})
		if _, err := store.InsertSyntheticEntries(ctx, "big", 3*slots); err != nil {
			b.Fatal(err)
		}
		clk.T = clk.T.Add(2 * time.Hour)
		for _, a := range []string{lottery.ActionFreeze, lottery.ActionReveal} {
			if _, err := svc.Transition(ctx, org, "big", a, lottery.TransitionParams{}); err != nil {
				b.Fatal(err)
			}
		}
		var sq int64
		store.DB().Raw("SELECT subqueue_id FROM draws").Scan(&sq)
		if _, err := dr.RunDraw(ctx, sq); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := svc.Transition(ctx, org, "big", lottery.ActionPublishResults, lottery.TransitionParams{}); err != nil {
			b.Fatal(err)
		}
		issue := time.Since(start)
		clk.T = clk.T.Add(48*time.Hour + time.Second)
		b.StartTimer()
		start = time.Now()
		n, err := off.ExpireDue(ctx)
		if err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		var live int
		store.DB().Raw("SELECT count(*) FROM offers WHERE status = 'pending'").Scan(&live)
		if n < slots || live != slots {
			b.Fatalf("expired %d, %d pending after the cascade; want %d and %d", n, live, slots, slots)
		}
		b.ReportMetric(elapsed.Seconds(), "expire+reoffer-s")
		b.ReportMetric(issue.Seconds(), "initial-offers-s")
	}
}

// benchService is a service on a fresh database with a fixed clock and an
// organizer account.
func benchService(b *testing.B) (*postgres.Store, *lottery.Service, *draws.Service, *lottery.FixedClock, lottery.StaffAccount) {
	b.Helper()
	store, _ := pgtest.NewStore(b)
	ctx := context.Background()
	keys, _ := lottery.NewKeys([]byte("bench-secret-key-bench-secret-key-000"))
	clk := &lottery.FixedClock{T: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := lottery.NewService(store, keys, clk, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	reg := registration.NewService(store, svc, keys, clk, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	d := draws.NewService(store, svc, reg, keys, nil, log)
	svc.UseDraws(d)
	svc.UseClusters(review.NewService(store, clk, nil, log, nil))
	stf := staff.NewService(store, store, keys, clk, nil, slog.New(slog.DiscardHandler), staff.Config{})
	if _, err := stf.Add(ctx, "org@example.com", lottery.RoleOrganizer, ""); err != nil {
		b.Fatal(err)
	}
	org, err := store.StaffByEmail(ctx, "org@example.com")
	if err != nil {
		b.Fatal(err)
	}
	return store, svc, d, clk, org
}
