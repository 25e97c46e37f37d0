package lottery

import (
	"context"
	"errors"
	"fmt"
	"regexp"
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

// DrawSteps carries out the freeze, reveal and draw actions of an event's
// lifecycle; lottery/draws implements it. Transition decides whether the
// action is legal and checks its parameters; the steps do the work.
type DrawSteps interface {
	// Freeze fixes ev's eligible entries and moves it to frozen;
	// ErrInvalidTransition, ErrAwaitingReview.
	Freeze(ctx context.Context, ev Event, beaconRound string, now time.Time, actor Actor) (Event, error)
	// Reveal publishes ev's seed secret and beacon; ErrInvalidTransition.
	Reveal(ctx context.Context, ev Event, beacon string, actor Actor) (Event, error)
	// RequestDraw records the draw request and enqueues the sub-queues not
	// yet drawn; ErrInvalidTransition.
	RequestDraw(ctx context.Context, ev Event, actor Actor) (Event, error)
}

// UseDraws sets what carries out freeze, reveal and draw (lottery/draws).
func (s *Service) UseDraws(d DrawSteps) { s.draws = d }

// Canceller carries out the cancel action (lottery/offers): the event moves
// to cancelled, its live offers end, paid slots are refunded in full and
// every runner is mailed, in one transaction; the refunds are then asked of
// the payment provider (one refused stays owed and is retried).
type Canceller interface {
	// CancelEvent cancels ev (Transition has checked NextStatus);
	// ErrInvalidTransition when the event moved on meanwhile.
	CancelEvent(ctx context.Context, ev Event, actor StaffAccount) (Event, error)
}

// UseCanceller sets what carries out the cancel action (lottery/offers).
// Without it a cancel is refused as an internal error.
func (s *Service) UseCanceller(c Canceller) { s.canceller = c }

// Clusters links an event's entries and sends suspicious ones to review;
// lottery/review implements it. The freeze runs it once more before the
// eligible set is fixed.
type Clusters interface {
	// RecomputeClusters stores ev's clusters and flags, and returns how
	// many entries it sent to review.
	RecomputeClusters(ctx context.Context, ev Event) (int, error)
}

// UseClusters sets what clusters entries at freeze (lottery/review).
// Without it a freeze is refused: fixing the eligible set without the last
// sweep would let late bot entries through.
func (s *Service) UseClusters(c Clusters) { s.clusters = c }

// drawSteps returns the wired DrawSteps, or one that refuses every step when
// none was wired (a tool that never draws).
func (s *Service) drawSteps() DrawSteps {
	if s.draws == nil {
		return noDraws{}
	}
	return s.draws
}

var (
	errNoDraws     = errors.New("draws are not wired into this service")
	errNoClusters  = errors.New("clustering is not wired into this service")
	errNoCanceller = errors.New("cancelling is not wired into this service")
)

type noDraws struct{}

func (noDraws) Freeze(context.Context, Event, string, time.Time, Actor) (Event, error) {
	return Event{}, errNoDraws
}
func (noDraws) Reveal(context.Context, Event, string, Actor) (Event, error) {
	return Event{}, errNoDraws
}
func (noDraws) RequestDraw(context.Context, Event, Actor) (Event, error) { return Event{}, errNoDraws }

// ErrAwaitingReview refuses a freeze while entries await review under the
// "block" policy.
var ErrAwaitingReview = &Error{Code: CodeInvalidTransition, Field: "action", Message: "entries still await review; resolve them or set the event's unreviewed_policy"}

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
	if (action == ActionUnpublish || action == ActionCancel) && !MayManage(actor, ev) {
		return Event{}, ErrNotFound // another organization's event, as if it did not exist
	}
	now := s.clock.Now()
	to, err := ev.NextStatus(action, now)
	if err != nil {
		return Event{}, err
	}
	defer s.forget(slug)
	switch action {
	case ActionPublish:
		// An event unpublished and published again keeps its commitment:
		// once shown it never changes (DRAW-SPEC step 1).
		var commit *SeedCommit
		if ev.Commitment == "" {
			if commit, err = s.newSeedCommit(slug); err != nil {
				return Event{}, fmt.Errorf("publish %s: %w", slug, err)
			}
		}
		return s.store.TransitionEvent(ctx, slug, ev.Status, to, commit, actor.Actor())
	case ActionUnpublish:
		return s.store.TransitionEvent(ctx, slug, ev.Status, to, nil, actor.Actor())
	case ActionCancel:
		if s.canceller == nil {
			return Event{}, fmt.Errorf("cancel %s: %w", slug, errNoCanceller)
		}
		return s.canceller.CancelEvent(ctx, ev, actor)
	case ActionClose:
		return s.store.TransitionEvent(ctx, slug, ev.Status, to, nil, actor.Actor())
	case ActionFreeze:
		if !beaconRoundRe.MatchString(p.BeaconRound) {
			return Event{}, Fieldf("beacon_round", "use up to 128 letters, digits and : . _ / -")
		}
		// The window is over, so no entry arrives after this pass: entries
		// that came after the last sweep are linked and flagged before the
		// eligible set is fixed.
		if s.clusters == nil {
			return Event{}, fmt.Errorf("freeze %s: %w", slug, errNoClusters)
		}
		if _, err := s.clusters.RecomputeClusters(ctx, ev); err != nil {
			return Event{}, fmt.Errorf("freeze %s: %w", slug, err)
		}
		return s.drawSteps().Freeze(ctx, ev, p.BeaconRound, now, actor.Actor())
	case ActionReveal:
		if !beaconRe.MatchString(p.Beacon) {
			return Event{}, Fieldf("beacon", "use up to 256 lowercase letters and digits")
		}
		return s.drawSteps().Reveal(ctx, ev, p.Beacon, actor.Actor())
	case ActionDraw:
		return s.drawSteps().RequestDraw(ctx, ev, actor.Actor())
	case ActionSettle:
		return s.store.SettleEvent(ctx, slug, actor.Actor())
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
