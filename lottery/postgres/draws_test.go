package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/fairdraw"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/lottery/registration"
	"github.com/startline/startline/lottery/review"
	"github.com/startline/startline/lottery/staff"
)

// drawTestEvent creates a revealed event of subqueues drawn pace groups
// with perSubqueue entries each, and returns its sub-queue ids.
func drawTestEvent(t *testing.T, store *postgres.Store, svc *lottery.Service, clk *lottery.FixedClock,
	org lottery.StaffAccount, slug string, subqueues, perSubqueue int) []int64 {
	t.Helper()
	ctx := context.Background()
	paces := make([]lottery.PaceGroupSpec, subqueues)
	for i := range paces {
		paces[i] = lottery.PaceGroupSpec{Code: fmt.Sprintf("p%02d", i), Label: fmt.Sprintf("Pace %d", i), Capacity: 2}
	}
	start := clk.T
	if _, err := svc.CreateEvent(ctx, org, lottery.EventSpec{Slug: slug, Name: "Race " + slug, DisputeWindow: "0s", OpensAt: start,
		ClosesAt: start.Add(time.Hour), MaxGroupSize: 4, Courses: []lottery.CourseSpec{{Code: "ten", Name: "10K",
			DistanceKM: 10, PaceGroups: paces}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, org, slug, lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.InsertSyntheticEntries(ctx, slug, perSubqueue); err != nil {
		t.Fatal(err)
	}
	clk.T = start.Add(2 * time.Hour)
	defer func() { clk.T = start }()
	for _, a := range []string{lottery.ActionFreeze, lottery.ActionReveal} {
		if _, err := svc.Transition(ctx, org, slug, a, lottery.TransitionParams{}); err != nil {
			t.Fatalf("%s %s: %v", a, slug, err)
		}
	}
	var ids []int64
	if err := store.DB().Raw(`SELECT d.subqueue_id FROM draws d JOIN events e ON e.id = d.event_id
		WHERE e.slug = ? ORDER BY d.subqueue_id`, slug).Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	if len(ids) != subqueues {
		t.Fatalf("%s: %d draws, want %d", slug, len(ids), subqueues)
	}
	return ids
}

// computeDraw does what the draw worker does before SaveDraw.
func computeDraw(t *testing.T, store *postgres.Store, subqueueID int64) (lottery.StoredArtifact, fairdraw.Artifact) {
	t.Helper()
	job, err := store.DrawJob(context.Background(), subqueueID)
	if err != nil {
		t.Fatal(err)
	}
	art, err := fairdraw.Draw(fairdraw.Input{EventID: job.Event.Slug, SubQueue: job.Info.SubQueue,
		Capacity: job.Info.Capacity, SeedSecret: job.Secret, Beacon: job.Event.Beacon, Entries: job.Entries})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := draws.MarshalArtifact(art)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := draws.NewStoredArtifact(raw)
	if err != nil {
		t.Fatal(err)
	}
	return stored, art
}

func eventStatus(t *testing.T, store *postgres.Store, slug string) string {
	t.Helper()
	var st string
	if err := store.DB().Raw("SELECT status FROM events WHERE slug = ?", slug).Scan(&st).Error; err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSaveDrawLastMovesEvent: parallel draw workers each save one
// sub-queue's result in their own transaction, released together; whatever
// the interleaving, the last one saved moves the event to drawn.
func TestSaveDrawLastMovesEvent(t *testing.T) {
	const rounds, subqueues, entries = 20, 10, 3
	store, svc, _, clk, org := drawService(t, nil)
	for round := range rounds {
		slug := fmt.Sprintf("race-%02d", round)
		ids := drawTestEvent(t, store, svc, clk, org, slug, subqueues, entries)
		type result struct {
			stored lottery.StoredArtifact
			art    fairdraw.Artifact
		}
		results := make([]result, len(ids))
		for i, id := range ids {
			results[i].stored, results[i].art = computeDraw(t, store, id)
		}
		var ready, wg sync.WaitGroup
		release := make(chan struct{})
		errs := make([]error, len(ids))
		for i, id := range ids {
			ready.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				ready.Done()
				<-release // all workers save at once: the race is likeliest
				errs[i] = store.SaveDraw(context.Background(), id, results[i].stored, results[i].art)
			}()
		}
		ready.Wait()
		close(release)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: save sub-queue %d: %v", round, ids[i], err)
			}
		}
		var undrawn int
		store.DB().Raw("SELECT count(*) FROM draws d JOIN events e ON e.id = d.event_id WHERE e.slug = ? AND d.status <> 'drawn'",
			slug).Scan(&undrawn)
		if undrawn != 0 {
			t.Fatalf("round %d: %d sub-queues not drawn", round, undrawn)
		}
		if got := eventStatus(t, store, slug); got != string(lottery.EventDrawn) {
			t.Fatalf("round %d: every sub-queue drawn but the event is %q, want drawn", round, got)
		}
	}
}

// drawService is a service on a fresh database logging to buf (nil: discard).
func drawService(t testing.TB, buf *syncBuffer) (*postgres.Store, *lottery.Service, *draws.Service, *lottery.FixedClock, lottery.StaffAccount) {
	t.Helper()
	store, _ := pgtest.NewStore(t)
	ctx := context.Background()
	keys, _ := lottery.NewKeys([]byte("draw-test-secret-key-draw-test-secret"))
	clk := &lottery.FixedClock{T: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)}
	if buf == nil {
		buf = &syncBuffer{}
	}
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	svc := lottery.NewService(store, keys, clk, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	reg := registration.NewService(store, svc, keys, clk, nil, log, lottery.Config{EventCacheTTL: time.Nanosecond})
	d := draws.NewService(store, svc, reg, keys, nil, log)
	svc.UseDraws(d)
	svc.UseClusters(review.NewService(store, clk, nil, log, nil))
	stf := staff.NewService(store, store, keys, clk, nil, slog.New(slog.DiscardHandler), staff.Config{})
	if _, err := stf.Add(ctx, "org@example.com", lottery.RoleOrganizer, ""); err != nil {
		t.Fatal(err)
	}
	org, err := store.StaffByEmail(ctx, "org@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return store, svc, d, clk, org
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stuckEvent draws every sub-queue of a new event and then puts the event
// back to frozen by SQL: the state the lost final save left behind.
func stuckEvent(t *testing.T, store *postgres.Store, svc *lottery.Service, clk *lottery.FixedClock,
	org lottery.StaffAccount, slug string) []int64 {
	t.Helper()
	ids := drawTestEvent(t, store, svc, clk, org, slug, 2, 3)
	for _, id := range ids {
		stored, art := computeDraw(t, store, id)
		if err := store.SaveDraw(context.Background(), id, stored, art); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.DB().Exec("UPDATE events SET status = 'frozen' WHERE slug = ?", slug).Error; err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestReconcileDrawsRepairsStuckEvent: the periodic reconciler moves an
// event whose sub-queues are all drawn, logs a warning naming it, and
// leaves alone an event with a sub-queue still to draw.
func TestReconcileDrawsRepairsStuckEvent(t *testing.T) {
	buf := &syncBuffer{}
	store, svc, dr, clk, org := drawService(t, buf)
	ctx := context.Background()
	stuckEvent(t, store, svc, clk, org, "stuck")
	pending := drawTestEvent(t, store, svc, clk, org, "pending", 2, 3)
	stored, art := computeDraw(t, store, pending[0])
	if err := store.SaveDraw(ctx, pending[0], stored, art); err != nil {
		t.Fatal(err)
	}

	n, err := dr.ReconcileDraws(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("reconciled %d events, want 1", n)
	}
	for slug, want := range map[string]lottery.EventStatus{"stuck": lottery.EventDrawn, "pending": lottery.EventFrozen} {
		if got := eventStatus(t, store, slug); got != string(want) {
			t.Errorf("%s: status %q, want %q", slug, got, want)
		}
	}
	var actors []string
	store.DB().Raw(`SELECT l.actor FROM event_log l JOIN events e ON e.id = l.event_id
		WHERE e.slug = 'stuck' AND l.kind = 'event.transition' AND l.to_status = 'drawn' ORDER BY l.id`).Scan(&actors)
	if diff := fmt.Sprint(actors); diff != "[system:draw system:reconciler]" {
		t.Errorf("drawn transitions by %s, want the draw's then the reconciler's", diff)
	}
	logs := buf.String()
	var warned []string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "moved to drawn") {
			warned = append(warned, line)
		}
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "event=stuck") {
		t.Errorf("want one warning naming event=stuck, got %q", warned)
	}
	if strings.Contains(logs, "@demo.startline.test") {
		t.Error("the log carries an e-mail address")
	}

	if n, err := dr.ReconcileDraws(ctx); err != nil || n != 0 {
		t.Errorf("second pass reconciled %d (err %v), want 0", n, err)
	}
}

// TestDrawRepairPaths: asking for the draw again, or a redelivered draw
// task of a drawn sub-queue, moves an event left frozen with all its
// sub-queues drawn.
func TestDrawRepairPaths(t *testing.T) {
	store, svc, dr, clk, org := drawService(t, nil)
	ctx := context.Background()

	stuckEvent(t, store, svc, clk, org, "ask-again")
	ev, err := svc.Transition(ctx, org, "ask-again", lottery.ActionDraw, lottery.TransitionParams{})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status != lottery.EventDrawn || eventStatus(t, store, "ask-again") != string(lottery.EventDrawn) {
		t.Errorf("draw request on a stuck event: status %q, want drawn", ev.Status)
	}

	ids := stuckEvent(t, store, svc, clk, org, "redelivered")
	if _, err := dr.RunDraw(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	if got := eventStatus(t, store, "redelivered"); got != string(lottery.EventDrawn) {
		t.Errorf("redelivered draw task: status %q, want drawn", got)
	}
}
