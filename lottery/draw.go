package lottery

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sync"
	"time"

	"github.com/startline/startline/lottery/fairdraw"
)

// Draw statuses, per sub-queue.
const (
	DrawFrozen  = "frozen"
	DrawDrawing = "drawing"
	DrawDrawn   = "drawn"
)

// DrawInfo is the public state of one sub-queue's draw.
type DrawInfo struct {
	SubQueueID   int64
	SubQueue     string
	Status       string
	Capacity     int
	Entries      int
	EntriesRoot  string
	Selected     int
	Waitlisted   int
	ArtifactHash string
	DrawnAt      *time.Time
}

// DrawJob is everything the draw worker needs for one sub-queue.
type DrawJob struct {
	Event        Event
	Info         DrawInfo
	Entries      []fairdraw.Entry
	Secret       []byte
	ArtifactGzip []byte // set when already drawn
}

// StoredArtifact is a published artifact as kept: gzip of the canonical
// JSON, with the SHA-256 and size of the JSON itself.
type StoredArtifact struct {
	Gzip   []byte
	SHA256 string
	Size   int64
}

// NewStoredArtifact compresses canonical artifact JSON for storage.
func NewStoredArtifact(raw []byte) (StoredArtifact, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return StoredArtifact{}, err
	}
	if _, err := zw.Write(raw); err != nil {
		return StoredArtifact{}, fmt.Errorf("compress artifact: %w", err)
	}
	if err := zw.Close(); err != nil {
		return StoredArtifact{}, fmt.Errorf("compress artifact: %w", err)
	}
	sum := sha256.Sum256(raw)
	return StoredArtifact{Gzip: buf.Bytes(), SHA256: hex.EncodeToString(sum[:]), Size: int64(len(raw))}, nil
}

// Gunzip returns the artifact JSON of a stored artifact.
func Gunzip(gz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("decompress artifact: %w", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decompress artifact: %w", err)
	}
	return b, nil
}

// DrawPlace is an entry's place in a published draw.
type DrawPlace struct {
	SubQueueID       int64
	Position         int
	Selected         bool
	WaitlistPosition int
}

// FreezeTx is what freezing an event writes.
type FreezeTx struct {
	From        EventStatus
	Policy      string
	BeaconRound string
	Now         time.Time
	// Alias replaces runner-chosen group codes with pseudonyms in the public
	// entry list: a code like "kim-family" is personal data.
	Alias func(group string) string
}

// ErrAwaitingReview refuses a freeze while entries await review under the
// "block" policy.
var ErrAwaitingReview = &Error{Code: CodeInvalidTransition, Field: "action", Message: "entries still await review; resolve them or set the event's unreviewed_policy"}

// DrawStore keeps draws.
type DrawStore interface {
	// FreezeEvent fixes every sub-queue's eligible entries, publishes their
	// roots and moves the event to frozen, in one transaction.
	// ErrInvalidTransition, ErrAwaitingReview.
	FreezeEvent(ctx context.Context, slug string, f FreezeTx, actor Actor) (Event, error)
	// RevealSeed publishes the seed secret and beacon; ErrInvalidTransition.
	RevealSeed(ctx context.Context, slug, secretHex, beacon string, actor Actor) (Event, error)
	// RequestDraw records the draw request and returns the sub-queues not
	// yet drawn; ErrInvalidTransition.
	RequestDraw(ctx context.Context, slug string, actor Actor) (Event, []int64, error)
	// Draws lists an event's draws in sub-queue order.
	Draws(ctx context.Context, eventID int64) ([]DrawInfo, error)
	// DrawJob loads one sub-queue's draw inputs; ErrNotFound.
	DrawJob(ctx context.Context, subqueueID int64) (DrawJob, error)
	// StartDraw marks a frozen draw as drawing (progress).
	StartDraw(ctx context.Context, subqueueID int64) error
	// SaveDraw stores the artifact, the order and every entry's new status
	// in one transaction, and moves the event to drawn after its last draw.
	// A draw already drawn is left as it is (the first result stands).
	// Whatever the interleaving of concurrent saves, the last one moves the
	// event.
	SaveDraw(ctx context.Context, subqueueID int64, stored StoredArtifact, a fairdraw.Artifact) error
	// SettleDrawnEvent moves a frozen event whose draws are all drawn to
	// drawn, and reports whether it did; ErrNotFound.
	SettleDrawnEvent(ctx context.Context, slug, actor string) (bool, error)
	// DrawnFrozenEvents lists the frozen events whose draws are all drawn.
	DrawnFrozenEvents(ctx context.Context) ([]string, error)
	// DrawOrder returns the first limit places of a drawn sub-queue's
	// order with their entry ids.
	DrawOrder(ctx context.Context, subqueueID int64, limit int) ([]DrawPlace, []string, error)
	// DrawArtifact returns a drawn sub-queue's gzipped artifact; ErrNotFound.
	DrawArtifact(ctx context.Context, eventID int64, subqueue string) ([]byte, error)
	// DrawEntries returns a frozen sub-queue's published entry list.
	DrawEntries(ctx context.Context, subqueueID int64) ([]fairdraw.Entry, error)
	// EntryPlace returns where an entry stands in its draw; ErrNotFound
	// when it was not drawn.
	EntryPlace(ctx context.Context, entryID string) (DrawPlace, error)
	// EntryDrawSubQueue returns the frozen draw an entry is listed in; ErrNotFound.
	EntryDrawSubQueue(ctx context.Context, entryID string) (int64, error)
}

// TransitionParams carries the optional body of an organizer action.
type TransitionParams struct {
	Beacon      string // reveal
	BeaconRound string // freeze
}

var (
	beaconRe      = regexp.MustCompile(`^[a-z0-9]{0,256}$`)
	beaconRoundRe = regexp.MustCompile(`^[A-Za-z0-9:._/-]{0,128}$`)
)

// Transition runs an organizer action on an event (publish, close, freeze,
// reveal, draw, publish-results). Each is one transaction recorded in the
// event log and the audit log; illegal ones are ErrInvalidTransition.
func (s *Service) Transition(ctx context.Context, actor StaffAccount, slug, action string, p TransitionParams) (Event, error) {
	if actor.Role != RoleOrganizer {
		return Event{}, ErrForbidden
	}
	ev, err := s.store.EventBySlug(ctx, slug)
	if err != nil {
		return Event{}, fmt.Errorf("%s %s: %w", action, slug, err)
	}
	now := s.clock.Now()
	to, err := ev.NextStatus(action, now)
	if err != nil {
		return Event{}, err
	}
	defer s.forget(slug)
	switch action {
	case ActionPublish:
		commit, err := s.newSeedCommit(slug)
		if err != nil {
			return Event{}, fmt.Errorf("publish %s: %w", slug, err)
		}
		return s.store.TransitionEvent(ctx, slug, ev.Status, to, commit, actor.Actor())
	case ActionClose:
		return s.store.TransitionEvent(ctx, slug, ev.Status, to, nil, actor.Actor())
	case ActionFreeze:
		if !beaconRoundRe.MatchString(p.BeaconRound) {
			return Event{}, Fieldf("beacon_round", "use up to 128 letters, digits and : . _ / -")
		}
		// The window is over, so no entry arrives after this pass: entries
		// that came after the last sweep are linked and flagged before the
		// eligible set is fixed.
		if _, err := s.RecomputeClusters(ctx, ev); err != nil {
			return Event{}, fmt.Errorf("freeze %s: %w", slug, err)
		}
		return s.store.FreezeEvent(ctx, slug, FreezeTx{From: ev.Status, Policy: ev.UnreviewedPolicy,
			BeaconRound: p.BeaconRound, Now: now, Alias: s.groupAlias(slug)}, actor.Actor())
	case ActionReveal:
		if !beaconRe.MatchString(p.Beacon) {
			return Event{}, Fieldf("beacon", "use up to 256 lowercase letters and digits")
		}
		secret, err := s.keys.Open(ev.SeedSealed, "seed:"+slug)
		if err != nil {
			return Event{}, fmt.Errorf("reveal %s: %w", slug, err)
		}
		if fairdraw.Commitment(secret) != ev.Commitment {
			return Event{}, fmt.Errorf("reveal %s: sealed seed does not match the commitment", slug)
		}
		return s.store.RevealSeed(ctx, slug, hex.EncodeToString(secret), p.Beacon, actor.Actor())
	case ActionDraw:
		out, pending, err := s.store.RequestDraw(ctx, slug, actor.Actor())
		if err != nil {
			return Event{}, err
		}
		if len(pending) == 0 && out.Status == EventDrawn {
			s.log.WarnContext(ctx, "event left frozen after its last draw; moved to drawn", "event", slug, "by", "draw request")
		}
		for _, id := range pending {
			if s.notify == nil {
				break
			}
			if err := s.notify.DrawRequested(ctx, id); err != nil {
				return Event{}, fmt.Errorf("draw %s: enqueue sub-queue %d: %w", slug, id, err)
			}
		}
		return out, nil
	case ActionPublishResults:
		out, issued, err := s.store.IssueDrawOffers(ctx, slug, s.offerTx(ev, "", ""), actor.Actor())
		if err != nil {
			return Event{}, err
		}
		s.notifyOffers(ctx, issued)
		return out, nil
	}
	return Event{}, ErrInvalidTransition
}

// groupAlias returns the public pseudonym of a group code: stable within the
// event, unlinkable to the code without the server key.
func (s *Service) groupAlias(slug string) func(string) string {
	return func(group string) string {
		if group == "" {
			return ""
		}
		m := hmac.New(sha256.New, s.keys.receipt)
		m.Write([]byte("group|" + slug + "|" + group))
		return "g-" + hex.EncodeToString(m.Sum(nil)[:10])
	}
}

// Draws lists a public event's draws.
func (s *Service) Draws(ctx context.Context, slug string) (Event, []DrawInfo, error) {
	ev, err := s.PublicEvent(ctx, slug)
	if err != nil {
		return Event{}, nil, err
	}
	ds, err := s.store.Draws(ctx, ev.ID)
	if err != nil {
		return Event{}, nil, fmt.Errorf("draws %s: %w", slug, err)
	}
	return ev, ds, nil
}

// Artifact returns the published artifact of one sub-queue's draw, gzipped.
func (s *Service) Artifact(ctx context.Context, slug, subqueue string) ([]byte, error) {
	ev, err := s.PublicEvent(ctx, slug)
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
	if job.Info.Status == DrawDrawn {
		if job.Event.Status == EventFrozen {
			// A redelivered task for a drawn sub-queue of a frozen event:
			// the event may have been left behind; repair it now.
			if _, err := s.settleDrawn(ctx, job.Event.Slug, "system:draw"); err != nil {
				return nil, fmt.Errorf("draw %d: %w", subqueueID, err)
			}
		}
		return Gunzip(job.ArtifactGzip)
	}
	if len(job.Secret) == 0 {
		return nil, fmt.Errorf("draw %d: seed not revealed: %w", subqueueID, ErrInvalidTransition)
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
	s.forget(job.Event.Slug)
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
	s.forget(slug)
	s.log.WarnContext(ctx, "event left frozen after its last draw; moved to drawn", "event", slug, "by", actor)
	return true, nil
}

// MarshalArtifact is the canonical artifact encoding: compact JSON in the
// struct's fixed field order plus a newline, so the same draw is the same
// bytes (compact because a million-entry artifact is large enough already).
func MarshalArtifact(a fairdraw.Artifact) ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encode artifact: %w", err)
	}
	return append(b, '\n'), nil
}

// Proof is an RFC 6962 inclusion proof of an entry's leaf in its sub-queue's
// entries_root.
type Proof struct {
	SubQueue    string
	EntriesRoot string
	LeafData    string
	LeafIndex   int
	TreeSize    int
	AuditPath   []string
}

// EntryProof proves to a runner that their entry is in the frozen list.
func (s *Service) EntryProof(ctx context.Context, entryID, token string) (Proof, error) {
	v, err := s.EntryStatus(ctx, entryID, token)
	if err != nil {
		return Proof{}, err
	}
	sqID, err := s.store.EntryDrawSubQueue(ctx, v.Entry.ID)
	if errors.Is(err, ErrNotFound) {
		return Proof{}, &Error{Code: CodeNotFound, Message: "this entry is not in a frozen draw (not frozen yet, or not eligible)"}
	}
	if err != nil {
		return Proof{}, fmt.Errorf("proof: %w", err)
	}
	tree, err := s.trees.get(ctx, sqID, s.store)
	if err != nil {
		return Proof{}, fmt.Errorf("proof: %w", err)
	}
	idx, leaf, path, err := tree.Proof(v.Entry.ID)
	if errors.Is(err, fairdraw.ErrEntryNotFound) {
		return Proof{}, ErrNotFound
	}
	if err != nil {
		return Proof{}, fmt.Errorf("proof: %w", err)
	}
	return Proof{SubQueue: v.Entry.SubQueue, EntriesRoot: tree.Root(), LeafData: leaf, LeafIndex: idx,
		TreeSize: tree.Size(), AuditPath: path}, nil
}

// treeCache keeps the Merkle trees of recently proven sub-queues: a frozen
// list never changes, and a built tree answers each proof in O(log n)
// instead of rehashing a million leaves per request.
type treeCache struct {
	mu    sync.Mutex
	trees map[int64]*fairdraw.Tree
	order []int64
}

const maxCachedTrees = 4

func (c *treeCache) get(ctx context.Context, id int64, store DrawStore) (*fairdraw.Tree, error) {
	c.mu.Lock()
	t, ok := c.trees[id]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	entries, err := store.DrawEntries(ctx, id)
	if err != nil {
		return nil, err
	}
	t = fairdraw.NewTree(entries)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.trees == nil {
		c.trees = map[int64]*fairdraw.Tree{}
	}
	if _, ok := c.trees[id]; !ok {
		c.trees[id] = t
		c.order = append(c.order, id)
		if len(c.order) > maxCachedTrees {
			delete(c.trees, c.order[0])
			c.order = c.order[1:]
		}
	}
	return t, nil
}

// DrawOrder returns the head of a drawn sub-queue's order (results page).
func (s *Service) DrawOrder(ctx context.Context, subqueueID int64, limit int) ([]DrawPlace, []string, error) {
	return s.store.DrawOrder(ctx, subqueueID, limit)
}
