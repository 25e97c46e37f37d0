package worker_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/lottery/review"
	"github.com/startline/startline/lottery/staff"
	"github.com/startline/startline/lottery/waitroom"
	"github.com/startline/startline/worker"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// drawnWithOffers runs an event to published results with the worker's
// client as the notifier, so every offer has a scheduled expiry task; it
// returns the service, its draws and offers services and the sub-queue.
func drawnWithOffers(t *testing.T, store *postgres.Store, client *worker.Client, clk *testClock) (*lottery.Service, *draws.Service, *offers.Service, int64) {
	ctx := context.Background()
	keys, _ := lottery.NewKeys([]byte("worker-test-secret-key-worker-test-key"))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := lottery.NewService(store, keys, clk, client, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	reg := registration.NewService(store, svc, keys, clk, client, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	dr := draws.NewService(store, svc, reg, keys, client, log)
	svc.UseDraws(dr)
	svc.UseClusters(review.NewService(store, clk, client, log, nil))
	stf := staff.NewService(store, store, keys, clk, nil, slog.New(slog.DiscardHandler), staff.Config{})
	stf.Add(ctx, "org@example.com", lottery.RoleOrganizer, "")
	org, _ := store.StaffByEmail(ctx, "org@example.com")
	if _, err := svc.CreateEvent(ctx, org, lottery.EventSpec{Slug: "w", Name: "W", DisputeWindow: "0s", OpensAt: clk.Now(), ClosesAt: clk.Now().Add(time.Hour),
		OfferHold: "1h", Courses: []lottery.CourseSpec{{Code: "10k", Name: "10K", DistanceKM: 10,
			PaceGroups: []lottery.PaceGroupSpec{{Code: "open", Label: "Open", Capacity: 3}}}}}); err != nil {
		t.Fatal(err)
	}
	svc.Transition(ctx, org, "w", lottery.ActionPublish, lottery.TransitionParams{})
	if _, err := store.InsertSyntheticEntries(ctx, "w", 10); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Hour)
	for _, a := range []string{lottery.ActionFreeze, lottery.ActionReveal} {
		if _, err := svc.Transition(ctx, org, "w", a, lottery.TransitionParams{}); err != nil {
			t.Fatal(err)
		}
	}
	var sq int64
	store.DB().Raw("SELECT subqueue_id FROM draws").Scan(&sq)
	if _, err := dr.RunDraw(ctx, sq); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, org, "w", lottery.ActionPublishResults, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	return svc, dr, offers.NewService(store, svc, keys, clk, client, log), sq
}

func offerCounts(store *postgres.Store, sq int64) (live, expired int) {
	store.DB().Raw("SELECT count(*) FILTER (WHERE status IN ('pending','accepted','paid')), count(*) FILTER (WHERE status = 'expired') FROM offers WHERE subqueue_id = ?", sq).
		Row().Scan(&live, &expired)
	return
}

// TestOfferExpiryByTaskAndReconciler: an offer's expiry task (Asynq on
// Redis) expires it and the slot is re-offered; after the queue is wiped
// (Redis flushed), the reconciler expires the rest from PostgreSQL alone.
func TestOfferExpiryByTaskAndReconciler(t *testing.T) {
	store, _ := pgtest.NewStore(t)
	queue, opt, insp, client := testQueue(t, "test-offers-")
	clk := &testClock{t: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)}
	svc, dr, off, sq := drawnWithOffers(t, store, client, clk)

	scheduled, err := insp.ListScheduledTasks(queue)
	if err != nil {
		t.Fatal(err)
	}
	expiries := 0
	for _, task := range scheduled {
		if task.Type == worker.TypeExpireOffer {
			expiries++
		}
	}
	if live, _ := offerCounts(store, sq); live != 3 || expiries != 3 {
		t.Fatalf("after publish: %d live offers, %d expiry tasks scheduled; want 3 and 3", live, expiries)
	}

	// The hold ends. Run one offer's expiry task now through a real worker.
	clk.Add(time.Hour + time.Second)
	var first string
	store.DB().Raw("SELECT id::text FROM offers ORDER BY id LIMIT 1").Scan(&first)
	if err := insp.RunTask(queue, "offer-expire:"+first); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := worker.NewServer(worker.Options{Redis: opt, Queue: queue, Log: log, Concurrency: 2,
		Mailer: &worker.Mailer{Store: store, Client: client, Log: log}, Drawer: &worker.Drawer{Review: review.NewService(store, clk, client, log, nil), Draws: dr, Offers: off, Log: log,
			Waitroom: waitroom.NewService(store, svc, nil, clk, client, log, lottery.Config{})}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st string
		store.DB().Raw("SELECT status FROM offers WHERE id = ?", first).Scan(&st)
		if st == "expired" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expiry task did not run: offer is %s", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if live, expired := offerCounts(store, sq); live != 3 || expired != 1 {
		t.Errorf("after the task: %d live, %d expired; want the slot re-offered (3 live, 1 expired)", live, expired)
	}

	// Redis loses every task; PostgreSQL still knows the other holds ended.
	srv.Shutdown()
	if err := insp.DeleteQueue(queue, true); err != nil && err != asynq.ErrQueueNotFound {
		t.Fatal(err)
	}
	n, err := off.ExpireDue(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("reconciler expired %d, %v; want the 2 original offers", n, err)
	}
	if live, expired := offerCounts(store, sq); live != 3 || expired != 3 {
		t.Errorf("after the reconciler: %d live, %d expired; want 3 and 3", live, expired)
	}
}
