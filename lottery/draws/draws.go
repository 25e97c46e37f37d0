// Package draws runs the fair draw of an event's sub-queues: freezing the
// eligible entries, revealing the seed, drawing each sub-queue (RunDraw,
// idempotent and deterministic), repairing events left behind
// (ReconcileDraws), and the public views: draw states, artifacts and
// runners' inclusion proofs. The event lifecycle (which action is legal
// when) stays in the root lottery package, which calls Freeze, Reveal and
// RequestDraw through lottery.DrawSteps.
package draws

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/fairdraw"
)

// Store is what draws ask of persistence.
type Store interface {
	// FreezeEvent fixes every sub-queue's eligible entries, publishes their
	// roots and moves the event to frozen, in one transaction.
	// lottery.ErrInvalidTransition, lottery.ErrAwaitingReview.
	FreezeEvent(ctx context.Context, slug string, f lottery.FreezeTx, actor lottery.Actor) (lottery.Event, error)
	// RevealSeed publishes the seed secret and beacon; lottery.ErrInvalidTransition.
	RevealSeed(ctx context.Context, slug, secretHex, beacon string, actor lottery.Actor) (lottery.Event, error)
	// RequestDraw records the draw request and returns the sub-queues not
	// yet drawn; lottery.ErrInvalidTransition.
	RequestDraw(ctx context.Context, slug string, actor lottery.Actor) (lottery.Event, []int64, error)
	// Draws lists an event's draws in sub-queue order.
	Draws(ctx context.Context, eventID int64) ([]lottery.DrawInfo, error)
	// DrawJob loads one sub-queue's draw inputs; lottery.ErrNotFound.
	DrawJob(ctx context.Context, subqueueID int64) (lottery.DrawJob, error)
	// StartDraw marks a frozen draw as drawing (progress).
	StartDraw(ctx context.Context, subqueueID int64) error
	// SaveDraw stores the artifact, the order and every entry's new status
	// in one transaction, and moves the event to drawn after its last draw.
	// A draw already drawn is left as it is (the first result stands).
	// Whatever the interleaving of concurrent saves, the last one moves the
	// event.
	SaveDraw(ctx context.Context, subqueueID int64, stored lottery.StoredArtifact, a fairdraw.Artifact) error
	// SettleDrawnEvent moves a frozen event whose draws are all drawn to
	// drawn, and reports whether it did; lottery.ErrNotFound.
	SettleDrawnEvent(ctx context.Context, slug, actor string) (bool, error)
	// DrawnFrozenEvents lists the frozen events whose draws are all drawn.
	DrawnFrozenEvents(ctx context.Context) ([]string, error)
	// DrawOrder returns the first limit places of a drawn sub-queue's
	// order with their entry ids.
	DrawOrder(ctx context.Context, subqueueID int64, limit int) ([]lottery.DrawPlace, []string, error)
	// DrawArtifact returns a drawn sub-queue's gzipped artifact; lottery.ErrNotFound.
	DrawArtifact(ctx context.Context, eventID int64, subqueue string) ([]byte, error)
	// DrawEntries returns a frozen sub-queue's published entry list.
	DrawEntries(ctx context.Context, subqueueID int64) ([]fairdraw.Entry, error)
	// DrawEntry returns an entry's line in the frozen list it is in, and
	// that list's sub-queue; lottery.ErrNotFound.
	DrawEntry(ctx context.Context, entryID string) (int64, fairdraw.Entry, error)
	// EntryDrawSubQueue returns the frozen draw an entry is listed in; lottery.ErrNotFound.
	EntryDrawSubQueue(ctx context.Context, entryID string) (int64, error)
	// EntryPlace returns an entry's place in its published draw; lottery.ErrNotFound.
	EntryPlace(ctx context.Context, entryID string) (lottery.DrawPlace, error)
}

// Events is what draws ask of the core service: the cached public event
// read, and dropping a cached event this process changed.
// *lottery.Service implements it.
type Events interface {
	// PublicEvent returns a non-draft event; drafts are lottery.ErrNotFound.
	PublicEvent(ctx context.Context, slug string) (lottery.Event, error)
	// ForgetEvent drops a cached event.
	ForgetEvent(slug string)
}

// Entries is the runner's entry check an inclusion proof starts with.
// *registration.Service implements it.
type Entries interface {
	// EntryStatus checks an entry's receipt token and returns its view; a
	// wrong token is lottery.ErrNotFound.
	EntryStatus(ctx context.Context, entryID, token string) (lottery.EntryView, error)
}

// Notifier hears that a sub-queue is to be drawn (the worker draws it).
type Notifier interface {
	DrawRequested(ctx context.Context, subqueueID int64) error
}

// Service runs draws.
type Service struct {
	store   Store
	events  Events
	entries Entries
	keys    *lottery.Keys
	notify  Notifier
	log     *slog.Logger
	trees   treeCache
}

// NewService wires a draws Service. notify may be nil (nothing is enqueued).
func NewService(store Store, events Events, entries Entries, keys *lottery.Keys, notify Notifier, log *slog.Logger) *Service {
	return &Service{store: store, events: events, entries: entries, keys: keys, notify: notify, log: log}
}

var _ lottery.DrawSteps = (*Service)(nil)

// Freeze fixes ev's eligible entries (lottery.DrawSteps). The lifecycle has
// checked the action and its parameters.
func (s *Service) Freeze(ctx context.Context, ev lottery.Event, beaconRound string, now time.Time, actor lottery.Actor) (lottery.Event, error) {
	return s.store.FreezeEvent(ctx, ev.Slug, lottery.FreezeTx{From: ev.Status, Policy: ev.UnreviewedPolicy,
		BeaconRound: beaconRound, Now: now, Alias: s.groupAlias(ev.Slug)}, actor)
}

// Reveal publishes ev's seed secret with the beacon (lottery.DrawSteps),
// after checking the sealed seed still matches the published commitment.
func (s *Service) Reveal(ctx context.Context, ev lottery.Event, beacon string, actor lottery.Actor) (lottery.Event, error) {
	secret, err := s.keys.Open(ev.SeedSealed, "seed:"+ev.Slug)
	if err != nil {
		return lottery.Event{}, fmt.Errorf("reveal %s: %w", ev.Slug, err)
	}
	if fairdraw.Commitment(secret) != ev.Commitment {
		return lottery.Event{}, fmt.Errorf("reveal %s: sealed seed does not match the commitment", ev.Slug)
	}
	return s.store.RevealSeed(ctx, ev.Slug, hex.EncodeToString(secret), beacon, actor)
}

// RequestDraw records the draw request and enqueues every sub-queue not yet
// drawn (lottery.DrawSteps).
func (s *Service) RequestDraw(ctx context.Context, ev lottery.Event, actor lottery.Actor) (lottery.Event, error) {
	slug := ev.Slug
	out, pending, err := s.store.RequestDraw(ctx, slug, actor)
	if err != nil {
		return lottery.Event{}, err
	}
	if len(pending) == 0 && out.Status == lottery.EventDrawn {
		s.log.WarnContext(ctx, "event left frozen after its last draw; moved to drawn", "event", slug, "by", "draw request")
	}
	for _, id := range pending {
		if s.notify == nil {
			break
		}
		if err := s.notify.DrawRequested(ctx, id); err != nil {
			return lottery.Event{}, fmt.Errorf("draw %s: enqueue sub-queue %d: %w", slug, id, err)
		}
	}
	return out, nil
}

// groupAlias returns the public pseudonym of a group code: stable within the
// event, unlinkable to the code without the server key.
func (s *Service) groupAlias(slug string) func(string) string {
	return func(group string) string { return s.keys.GroupAlias(slug, group) }
}

// Draws lists a public event's draws.
func (s *Service) Draws(ctx context.Context, slug string) (lottery.Event, []lottery.DrawInfo, error) {
	ev, err := s.events.PublicEvent(ctx, slug)
	if err != nil {
		return lottery.Event{}, nil, err
	}
	ds, err := s.store.Draws(ctx, ev.ID)
	if err != nil {
		return lottery.Event{}, nil, fmt.Errorf("draws %s: %w", slug, err)
	}
	return ev, ds, nil
}

// Artifact returns the published artifact of one sub-queue's draw, gzipped.
func (s *Service) Artifact(ctx context.Context, slug, subqueue string) ([]byte, error) {
	ev, err := s.events.PublicEvent(ctx, slug)
	if err != nil {
		return nil, err
	}
	b, err := s.store.DrawArtifact(ctx, ev.ID, subqueue)
	if err != nil {
		return nil, fmt.Errorf("artifact %s %s: %w", slug, subqueue, err)
	}
	return b, nil
}

// RunDraw draws one sub-queue and returns the artifact JSON. It is
// deterministic and idempotent: run again after a crash it computes the same
// artifact, and once a result is stored it is never replaced.
func (s *Service) RunDraw(ctx context.Context, subqueueID int64) ([]byte, error) {
	job, err := s.store.DrawJob(ctx, subqueueID)
	if err != nil {
		return nil, fmt.Errorf("draw %d: %w", subqueueID, err)
	}
	if job.Info.Status == lottery.DrawDrawn {
		if job.Event.Status == lottery.EventFrozen {
			// A redelivered task for a drawn sub-queue of a frozen event:
			// the event may have been left behind; repair it now.
			if _, err := s.settleDrawn(ctx, job.Event.Slug, "system:draw"); err != nil {
				return nil, fmt.Errorf("draw %d: %w", subqueueID, err)
			}
		}
		return Gunzip(job.ArtifactGzip)
	}
	if len(job.Secret) == 0 {
		return nil, fmt.Errorf("draw %d: seed not revealed: %w", subqueueID, lottery.ErrInvalidTransition)
	}
	if err := s.store.StartDraw(ctx, subqueueID); err != nil {
		return nil, fmt.Errorf("draw %d: %w", subqueueID, err)
	}
	art, err := fairdraw.Draw(fairdraw.Input{EventID: job.Event.Slug, SubQueue: job.Info.SubQueue,
		Capacity: job.Info.Capacity, SeedSecret: job.Secret, Beacon: job.Event.Beacon, Entries: job.Entries})
	if err != nil {
		return nil, fmt.Errorf("draw %d: %w", subqueueID, err)
	}
	if art.EntriesRoot != job.Info.EntriesRoot || art.Commitment != job.Event.Commitment {
		return nil, fmt.Errorf("draw %d: frozen root or commitment does not match the inputs", subqueueID)
	}
	raw, err := MarshalArtifact(art)
	if err != nil {
		return nil, err
	}
	stored, err := NewStoredArtifact(raw)
	if err != nil {
		return nil, err
	}
	if err := s.store.SaveDraw(ctx, subqueueID, stored, art); err != nil {
		return nil, fmt.Errorf("draw %d: %w", subqueueID, err)
	}
	s.events.ForgetEvent(job.Event.Slug)
	return raw, nil
}

// ReconcileDraws moves to drawn every frozen event whose sub-queues are all
// drawn, which nothing else would ever move (a draw's final save lost, or
// one from before saves serialised on the event), and returns how many it
// moved. The draw worker runs it periodically.
func (s *Service) ReconcileDraws(ctx context.Context) (int, error) {
	slugs, err := s.store.DrawnFrozenEvents(ctx)
	if err != nil {
		return 0, fmt.Errorf("reconcile draws: %w", err)
	}
	moved := 0
	for _, slug := range slugs {
		ok, err := s.settleDrawn(ctx, slug, "system:reconciler")
		if err != nil {
			return moved, fmt.Errorf("reconcile draws: %w", err)
		}
		if ok {
			moved++
		}
	}
	return moved, nil
}

// settleDrawn moves slug to drawn when all its draws are, logging the
// repair: an event found left behind is a fault worth an operator's look.
func (s *Service) settleDrawn(ctx context.Context, slug, actor string) (bool, error) {
	moved, err := s.store.SettleDrawnEvent(ctx, slug, actor)
	if err != nil || !moved {
		return false, err
	}
	s.events.ForgetEvent(slug)
	s.log.WarnContext(ctx, "event left frozen after its last draw; moved to drawn", "event", slug, "by", actor)
	return true, nil
}

// EntryProof proves to a runner that their entry is in the frozen list.
func (s *Service) EntryProof(ctx context.Context, entryID, token string) (lottery.Proof, error) {
	v, err := s.entries.EntryStatus(ctx, entryID, token)
	if err != nil {
		return lottery.Proof{}, err
	}
	sqID, err := s.store.EntryDrawSubQueue(ctx, v.Entry.ID)
	if errors.Is(err, lottery.ErrNotFound) {
		return lottery.Proof{}, &lottery.Error{Code: lottery.CodeNotFound, Message: "this entry is not in a frozen draw (not frozen yet, or not eligible)"}
	}
	if err != nil {
		return lottery.Proof{}, fmt.Errorf("proof: %w", err)
	}
	tree, err := s.trees.get(ctx, sqID, s.store)
	if err != nil {
		return lottery.Proof{}, fmt.Errorf("proof: %w", err)
	}
	idx, leaf, path, err := tree.Proof(v.Entry.ID)
	if errors.Is(err, fairdraw.ErrEntryNotFound) {
		return lottery.Proof{}, lottery.ErrNotFound
	}
	if err != nil {
		return lottery.Proof{}, fmt.Errorf("proof: %w", err)
	}
	return lottery.Proof{SubQueue: v.Entry.SubQueue, EntriesRoot: tree.Root(), LeafData: leaf, LeafIndex: idx,
		TreeSize: tree.Size(), AuditPath: path}, nil
}

// FindEntry answers "find my entry" on the results page: the entry's place
// in one of ds, the event's draws, by its id alone. An entry id is public in
// the artifacts, so this tells nothing they do not. lottery.ErrNotFound
// when no drawn sub-queue of ds lists it (an unknown id, another event's
// entry, or one held in review or rejected, which never enters the draw).
func (s *Service) FindEntry(ctx context.Context, ds []lottery.DrawInfo, entryID string) (lottery.DrawPlace, lottery.DrawInfo, error) {
	id, err := uuid.Parse(entryID)
	if err != nil {
		return lottery.DrawPlace{}, lottery.DrawInfo{}, lottery.ErrNotFound
	}
	p, err := s.store.EntryPlace(ctx, id.String())
	if errors.Is(err, lottery.ErrNotFound) {
		return lottery.DrawPlace{}, lottery.DrawInfo{}, err
	}
	if err != nil {
		return lottery.DrawPlace{}, lottery.DrawInfo{}, fmt.Errorf("find entry: %w", err)
	}
	for _, d := range ds {
		if d.SubQueueID == p.SubQueueID && d.Status == lottery.DrawDrawn {
			return p, d, nil
		}
	}
	return lottery.DrawPlace{}, lottery.DrawInfo{}, lottery.ErrNotFound
}

// DrawOrder returns the head of a drawn sub-queue's order (results page).
func (s *Service) DrawOrder(ctx context.Context, subqueueID int64, limit int) ([]lottery.DrawPlace, []string, error) {
	return s.store.DrawOrder(ctx, subqueueID, limit)
}
