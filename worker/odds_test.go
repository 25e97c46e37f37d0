package worker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/drawstats"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/lottery/review"
	"github.com/startline/startline/lottery/staff"
	"github.com/startline/startline/worker"
)

// oddsRows reads the stored snapshots: sub-queue → (entries, final).
func oddsRows(t *testing.T, store *postgres.Store) map[int64][2]int {
	t.Helper()
	var rows []struct {
		SubqueueID int64
		Entries    int
		Final      bool
	}
	if err := store.DB().Raw("SELECT subqueue_id, entries, final FROM subqueue_odds").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[int64][2]int{}
	for _, r := range rows {
		f := 0
		if r.Final {
			f = 1
		}
		out[r.SubqueueID] = [2]int{r.Entries, f}
	}
	return out
}

// deleteQueues removes the queues of a test's base name (worker.Queues).
func deleteQueues(insp *asynq.Inspector, base string) {
	for _, q := range worker.QueuesFor(base).Names() {
		insp.DeleteQueue(q, true)
	}
}

// testQueue is a fresh Asynq queue on the test Redis, deleted at the end,
// with an inspector and the worker's client on it.
func testQueue(t *testing.T, prefix string) (string, asynq.RedisClientOpt, *asynq.Inspector, *worker.Client) {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	queue := prefix + hex.EncodeToString(b)
	opt := redisOpt(t)
	insp := asynq.NewInspector(opt)
	client := worker.NewClient(opt, queue)
	t.Cleanup(func() { client.Close(); deleteQueues(insp, queue); insp.Close() })
	return queue, opt, insp, client
}

// TestOddsPassByTask: the odds pass, run as a task by a real worker, stores
// the live snapshot of an open event; after the freeze (which stores the
// final one) another pass leaves it final.
func TestOddsPassByTask(t *testing.T) {
	ctx := context.Background()
	store, _ := pgtest.NewStore(t)
	queue, opt, insp, client := testQueue(t, "test-odds-")

	clk := &testClock{t: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)}
	keys, _ := lottery.NewKeys([]byte("worker-test-secret-key-worker-test-key"))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := lottery.NewService(store, keys, clk, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	stats := drawstats.NewService(store, clk, log, drawstats.Config{CacheTTL: time.Nanosecond})
	reg := registration.NewService(store, svc, keys, clk, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	svc.UseDraws(stats.FinalOnFreeze(draws.NewService(store, svc, reg, keys, nil, log)))
	svc.UseClusters(review.NewService(store, clk, nil, log, nil))
	stf := staff.NewService(store, store, keys, clk, nil, log, staff.Config{})
	stf.Add(ctx, "org@example.com", lottery.RoleOrganizer, "")
	org, _ := store.StaffByEmail(ctx, "org@example.com")
	if _, err := svc.CreateEvent(ctx, org, lottery.EventSpec{Slug: "w", Name: "W", OpensAt: clk.Now(), ClosesAt: clk.Now().Add(time.Hour),
		Courses: []lottery.CourseSpec{{Code: "10k", Name: "10K", DistanceKM: 10,
			PaceGroups: []lottery.PaceGroupSpec{{Code: "open", Label: "Open", Capacity: 3}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, org, "w", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.InsertSyntheticEntries(ctx, "w", 10); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)

	srv, err := worker.NewServer(worker.Options{Redis: opt, Queue: queue, Log: log, Concurrency: 2,
		Mailer: &worker.Mailer{Store: store, Client: client, Log: log}, Odds: &worker.Odds{Stats: stats, Log: log}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	// pass runs one odds task through the worker and waits for it to finish.
	passes := 0
	pass := func() map[int64][2]int {
		t.Helper()
		passes++
		id := "odds-pass-" + string(rune('0'+passes))
		ac := asynq.NewClient(opt)
		defer ac.Close()
		if _, err := ac.Enqueue(asynq.NewTask(worker.TypeRefreshOdds, nil, asynq.Queue(queue), asynq.TaskID(id),
			asynq.Retention(time.Minute))); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			info, err := insp.GetTaskInfo(queue, id)
			if err == nil && info.State == asynq.TaskStateCompleted {
				return oddsRows(t, store)
			}
			if time.Now().After(deadline) {
				t.Fatalf("odds task did not complete: %+v %v", info, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	var sq int64
	store.DB().Raw("SELECT id FROM subqueues").Scan(&sq)
	if got := pass(); got[sq] != [2]int{10, 0} || len(got) != 1 {
		t.Fatalf("live pass stored %v, want 10 entries, not final", got)
	}

	clk.Add(2 * time.Hour)
	if _, err := svc.Transition(ctx, org, "w", lottery.ActionFreeze, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	var frozenAt time.Time
	store.DB().Raw("SELECT computed_at FROM subqueue_odds").Scan(&frozenAt)
	clk.Add(time.Minute)
	if got := pass(); got[sq] != [2]int{10, 1} {
		t.Fatalf("pass after freeze: %v, want the final snapshot", got)
	}
	var at time.Time
	store.DB().Raw("SELECT computed_at FROM subqueue_odds").Scan(&at)
	if !at.Equal(frozenAt) {
		t.Errorf("a pass after freeze rewrote the final snapshot (%v, was %v)", at, frozenAt)
	}
	if task := worker.NewRefreshOddsTask(queue); task.Type() != worker.TypeRefreshOdds {
		t.Errorf("periodic task type %q", task.Type())
	}
}
