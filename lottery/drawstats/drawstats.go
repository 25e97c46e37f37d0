// Package drawstats publishes each sub-queue's numbers around its draw:
// before it, capacity, entries and tickets so far and the chance of
// selection per ticket count (lottery/odds), refreshed by the worker at most
// once a minute and made final at freeze from the frozen lists; after it,
// what the draw did (applicants, tickets, selected, the selection rate by
// ticket count) beside the odds published at freeze.
//
// Pages and the API read stored snapshots through a short cache, never
// counting entries per request.
package drawstats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/odds"
)

// Snapshot is a sub-queue's published numbers before its draw.
type Snapshot struct {
	SubQueueID int64
	EventID    int64
	Capacity   int
	// Entries and Tickets count the entries that would be drawn if the
	// event froze now: received (not held for review, not rejected) or
	// already eligible.
	Entries int
	Tickets int64
	// Odds is nil for an ordered sub-queue: first come, never drawn.
	Odds *odds.Table
	// FieldKey is odds.Key of the field the odds are for.
	FieldKey   string
	ComputedAt time.Time
	// Final marks the snapshot computed at freeze from the frozen list:
	// the odds of the draw itself, never replaced.
	Final bool
}

// Pool is one sub-queue's field as the store loads it.
type Pool struct {
	SubQueueID int64
	Capacity   int
	Mode       lottery.Mode
	Entries    []odds.Entry
}

// Result is what one sub-queue's draw did.
type Result struct {
	SubQueueID int64
	EventID    int64
	Applicants int
	Tickets    int64
	Selected   int
	// Rates are by ticket count, ascending.
	Rates      []odds.Rate
	ComputedAt time.Time
}

// Store is what drawstats asks of persistence. lottery/postgres.Store
// implements it.
type Store interface {
	// LiveOddsEvents lists the events taking entries or awaiting their
	// freeze: published with the window opened by now, or closed.
	LiveOddsEvents(ctx context.Context, now time.Time) ([]int64, error)
	// LivePools loads every sub-queue of an event with its current
	// capacity and the entries a freeze would draw now (received or
	// eligible; not in review, not rejected).
	LivePools(ctx context.Context, eventID int64) ([]Pool, error)
	// FrozenPools loads every frozen draw of an event: the capacity and
	// entry list fixed at freeze.
	FrozenPools(ctx context.Context, eventID int64) ([]Pool, error)
	// EventsMissingFinalOdds lists the events with a frozen draw that has
	// no final snapshot (a freeze whose odds step failed, or froze before
	// odds existed).
	EventsMissingFinalOdds(ctx context.Context) ([]int64, error)
	// SaveSnapshots stores snapshots, replacing a sub-queue's earlier one
	// unless that one is final (a final snapshot is never replaced).
	SaveSnapshots(ctx context.Context, snaps []Snapshot) error
	// Snapshots returns an event's stored snapshots.
	Snapshots(ctx context.Context, eventID int64) ([]Snapshot, error)
	// TallyDraw counts a drawn sub-queue's frozen entries and selected
	// entries by ticket count (the rule of odds.Tally, in SQL);
	// lottery.ErrNotFound when it is not drawn.
	TallyDraw(ctx context.Context, subqueueID int64) (Result, error)
	// SaveResult stores a draw's result unless one is stored already.
	SaveResult(ctx context.Context, r Result) error
	// Results returns an event's stored draw results.
	Results(ctx context.Context, eventID int64) ([]Result, error)
	// DrawsMissingResults lists the drawn sub-queues with no stored result.
	DrawsMissingResults(ctx context.Context) ([]int64, error)
}

// Config tunes a Service; zero values take the defaults.
type Config struct {
	// Runs is the number of simulated draws for a field too large for the
	// exact method (default odds.DefaultRuns).
	Runs int
	// CacheTTL is how stale a page's read of the snapshots may be (default
	// 10 s; the snapshots change at most once a minute).
	CacheTTL time.Duration
}

// Service computes, stores and serves the numbers.
type Service struct {
	store Store
	clock lottery.Clock
	log   *slog.Logger
	cfg   Config

	mu     sync.RWMutex
	cache  map[int64]cached
	flight singleflight.Group
}

type cached struct {
	snaps   map[int64]Snapshot
	results map[int64]Result
	at      time.Time
}

// NewService wires a Service.
func NewService(store Store, clock lottery.Clock, log *slog.Logger, cfg Config) *Service {
	if cfg.Runs <= 0 {
		cfg.Runs = odds.DefaultRuns
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 10 * time.Second
	}
	return &Service{store: store, clock: clock, log: log, cfg: cfg, cache: map[int64]cached{}}
}

// Refresh is the worker's periodic pass: it recomputes the live snapshots
// of every event taking entries (a field unchanged since its last snapshot
// is only stamped with the new time), makes the final snapshots a freeze
// left undone, and tallies every drawn sub-queue not yet tallied. It
// returns how many snapshots and results it wrote.
func (s *Service) Refresh(ctx context.Context) (int, error) {
	now := s.clock.Now()
	live, err := s.store.LiveOddsEvents(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("refresh odds: %w", err)
	}
	n := 0
	var errs []error
	for _, id := range live {
		k, err := s.refreshEvent(ctx, id, now)
		n += k
		if err != nil {
			errs = append(errs, err)
		}
	}
	missing, err := s.store.EventsMissingFinalOdds(ctx)
	if err != nil {
		return n, errors.Join(append(errs, fmt.Errorf("refresh odds: %w", err))...)
	}
	for _, id := range missing {
		k, err := s.finalize(ctx, id, now)
		n += k
		if err != nil {
			errs = append(errs, err)
		}
	}
	undone, err := s.store.DrawsMissingResults(ctx)
	if err != nil {
		return n, errors.Join(append(errs, fmt.Errorf("refresh odds: %w", err))...)
	}
	for _, sq := range undone {
		if _, err := s.tally(ctx, sq, now); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// refreshEvent writes the live snapshots of one event.
func (s *Service) refreshEvent(ctx context.Context, eventID int64, now time.Time) (int, error) {
	pools, err := s.store.LivePools(ctx, eventID)
	if err != nil {
		return 0, fmt.Errorf("odds of event %d: %w", eventID, err)
	}
	old, err := s.store.Snapshots(ctx, eventID)
	if err != nil {
		return 0, fmt.Errorf("odds of event %d: %w", eventID, err)
	}
	prev := make(map[int64]Snapshot, len(old))
	for _, o := range old {
		prev[o.SubQueueID] = o
	}
	snaps := make([]Snapshot, 0, len(pools))
	for _, p := range pools {
		if o, ok := prev[p.SubQueueID]; ok && o.Final {
			continue // frozen meanwhile: the final snapshot stands
		}
		snaps = append(snaps, s.snapshot(eventID, p, now, false, prev[p.SubQueueID]))
	}
	if err := s.store.SaveSnapshots(ctx, snaps); err != nil {
		return 0, fmt.Errorf("odds of event %d: %w", eventID, err)
	}
	s.forget(eventID)
	return len(snaps), nil
}

// Finalize computes an event's final snapshots from its frozen lists; the
// freeze step calls it (FinalOnFreeze), and Refresh repairs a freeze whose
// call failed.
func (s *Service) Finalize(ctx context.Context, ev lottery.Event) error {
	_, err := s.finalize(ctx, ev.ID, s.clock.Now())
	return err
}

func (s *Service) finalize(ctx context.Context, eventID int64, now time.Time) (int, error) {
	pools, err := s.store.FrozenPools(ctx, eventID)
	if err != nil {
		return 0, fmt.Errorf("final odds of event %d: %w", eventID, err)
	}
	snaps := make([]Snapshot, len(pools))
	for i, p := range pools {
		snaps[i] = s.snapshot(eventID, p, now, true, Snapshot{})
	}
	if err := s.store.SaveSnapshots(ctx, snaps); err != nil {
		return 0, fmt.Errorf("final odds of event %d: %w", eventID, err)
	}
	s.forget(eventID)
	return len(snaps), nil
}

// snapshot computes one sub-queue's numbers. The simulation's seed is the
// sub-queue's id, so the same field always shows the same odds; a field
// whose key matches the previous snapshot keeps that snapshot's odds.
func (s *Service) snapshot(eventID int64, p Pool, now time.Time, final bool, prev Snapshot) Snapshot {
	sn := Snapshot{SubQueueID: p.SubQueueID, EventID: eventID, Capacity: p.Capacity, Entries: len(p.Entries),
		ComputedAt: now, Final: final}
	for _, e := range p.Entries {
		sn.Tickets += int64(max(e.Tickets, 1))
	}
	if p.Mode == lottery.ModeOrdered {
		return sn
	}
	sn.FieldKey = odds.Key(p.Capacity, p.Entries)
	if prev.Odds != nil && prev.FieldKey == sn.FieldKey {
		sn.Odds = prev.Odds
		return sn
	}
	t := odds.Compute(p.Capacity, p.Entries, odds.Options{Runs: s.cfg.Runs,
		Rand: rand.New(rand.NewPCG(uint64(p.SubQueueID), 0x6f646473))})
	sn.Odds = &t
	return sn
}

// tally stores what a drawn sub-queue's draw did.
func (s *Service) tally(ctx context.Context, subqueueID int64, now time.Time) (Result, error) {
	r, err := s.store.TallyDraw(ctx, subqueueID)
	if err != nil {
		return Result{}, fmt.Errorf("tally draw %d: %w", subqueueID, err)
	}
	r.ComputedAt = now
	if err := s.store.SaveResult(ctx, r); err != nil {
		return Result{}, fmt.Errorf("tally draw %d: %w", subqueueID, err)
	}
	return r, nil
}

// EventOdds returns an event's snapshots by sub-queue id, from a cache at
// most Config.CacheTTL old; the map is shared, not to be changed. An event
// before its window has none.
func (s *Service) EventOdds(ctx context.Context, ev lottery.Event) (map[int64]Snapshot, error) {
	c, err := s.read(ctx, ev.ID)
	return c.snaps, err
}

// DrawResults returns the results of an event's drawn sub-queues by
// sub-queue id, with the event's snapshots (a final one holds the odds
// published at freeze); the maps are shared, not to be changed. A drawn
// sub-queue the worker has not tallied yet is tallied now, once.
func (s *Service) DrawResults(ctx context.Context, ev lottery.Event, draws []lottery.DrawInfo) (map[int64]Result, map[int64]Snapshot, error) {
	c, err := s.read(ctx, ev.ID)
	if err != nil {
		return nil, nil, err
	}
	results, copied := c.results, false
	for _, d := range draws {
		if _, ok := results[d.SubQueueID]; ok || d.Status != lottery.DrawDrawn {
			continue
		}
		r, err := s.tally(ctx, d.SubQueueID, s.clock.Now())
		if err != nil {
			return nil, nil, err
		}
		if !copied {
			results, copied = maps.Clone(c.results), true // the cached map is shared: add to a copy
		}
		results[d.SubQueueID] = r
		s.forget(ev.ID)
	}
	return results, c.snaps, nil
}

// read returns an event's stored snapshots and results through the cache.
// The cache's age is real elapsed time, like the event cache's.
func (s *Service) read(ctx context.Context, eventID int64) (cached, error) {
	s.mu.RLock()
	c, ok := s.cache[eventID]
	s.mu.RUnlock()
	if ok && time.Since(c.at) < s.cfg.CacheTTL {
		return c, nil
	}
	v, err, _ := s.flight.Do(fmt.Sprint(eventID), func() (any, error) {
		snaps, err := s.store.Snapshots(ctx, eventID)
		if err != nil {
			return cached{}, fmt.Errorf("odds of event %d: %w", eventID, err)
		}
		results, err := s.store.Results(ctx, eventID)
		if err != nil {
			return cached{}, fmt.Errorf("draw results of event %d: %w", eventID, err)
		}
		c := cached{snaps: make(map[int64]Snapshot, len(snaps)), results: make(map[int64]Result, len(results)), at: time.Now()}
		for _, sn := range snaps {
			c.snaps[sn.SubQueueID] = sn
		}
		for _, r := range results {
			c.results[r.SubQueueID] = r
		}
		s.mu.Lock()
		s.cache[eventID] = c
		s.mu.Unlock()
		return c, nil
	})
	return v.(cached), err
}

// forget drops an event's cached numbers after this process changed them.
func (s *Service) forget(eventID int64) {
	s.mu.Lock()
	delete(s.cache, eventID)
	s.mu.Unlock()
}

// FinalOnFreeze wraps the lifecycle's draw steps so that a freeze also
// publishes the final odds, computed from the lists it just fixed. The
// freeze stands if that fails (it is logged, and the worker's next Refresh
// makes them); every other step passes through.
func (s *Service) FinalOnFreeze(steps lottery.DrawSteps) lottery.DrawSteps {
	return finalOnFreeze{DrawSteps: steps, stats: s}
}

type finalOnFreeze struct {
	lottery.DrawSteps
	stats *Service
}

func (f finalOnFreeze) Freeze(ctx context.Context, ev lottery.Event, beaconRound string, now time.Time, actor lottery.Actor) (lottery.Event, error) {
	out, err := f.DrawSteps.Freeze(ctx, ev, beaconRound, now, actor)
	if err != nil {
		return out, err
	}
	if err := f.stats.Finalize(ctx, out); err != nil {
		f.stats.log.WarnContext(ctx, "final odds not stored at freeze; the worker's odds pass will", "event", out.Slug, "err", err)
	}
	return out, nil
}
