// Package waitroom runs the waiting rooms of ordered sub-queues: a runner
// joins a line (scored for bot behaviour, or placed in the pre-queue before
// the opening), polls a signed ticket, and a worker's admission pass admits
// the line in order at the sub-queue's rate while slots are free, handing
// each admitted runner an admission token (lottery.AdmissionCodec) that
// registration.Service.Apply checks. Tickets are MACed so a waiting poll
// needs no database read.
package waitroom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/antibot/ipintel"
	"github.com/startline/startline/internal/textin"
	"github.com/startline/startline/lottery"
)

// Store is what the waiting room asks of persistence. lottery/postgres.Store
// implements it.
type Store interface {
	// JoinQueue stores a ticket. Unless it is refused it takes the line's
	// next place in the same transaction once the line is open, or waits
	// in the pre-queue without a place (Place 0) before the opening, if the
	// sub-queue has one; ErrClosed (or ErrNotOpen) otherwise, and
	// ErrLineUnopened when the window has opened but the line has not
	// (OpenLine, then join again). lineOpen says the caller knows the line
	// is open (it never closes again), which saves the pre-queue's lock.
	JoinQueue(ctx context.Context, t lottery.QueueTicket, lineOpen bool) (lottery.QueueTicket, error)
	// OpenLine opens a line whose window has opened, placing its pre-queue
	// by prequeue-v1 under the secret, which must match the commitment. It
	// reports whether the line is open (false: the window is not).
	OpenLine(ctx context.Context, o lottery.OpenLineTx) (bool, error)
	// CommitPrequeue stores a line's pre-queue commitment unless one is
	// stored, and returns the stored one; ErrNotFound for a line already
	// opened without one.
	CommitPrequeue(ctx context.Context, subqueueID int64, c lottery.SeedCommit, now time.Time) (lottery.SeedCommit, error)
	// PrequeueCommit returns a line's sealed secret and commitment;
	// ErrNotFound before it is committed.
	PrequeueCommit(ctx context.Context, subqueueID int64) (lottery.SeedCommit, error)
	// Prequeue returns a line's pre-queue record with its order once
	// placed; ErrNotFound before it is committed.
	Prequeue(ctx context.Context, subqueueID int64) (lottery.Prequeue, error)
	// QueueLine returns a sub-queue's line (zero counters before the first
	// join); ErrNotFound.
	QueueLine(ctx context.Context, subqueueID int64) (lottery.QueueLine, error)
	// QueueTicket returns a ticket; ErrNotFound.
	QueueTicket(ctx context.Context, id string) (lottery.QueueTicket, error)
	// AdmitQueue runs one admission pass in one transaction: lapse unused
	// admissions, open the line once the window has opened (placing the
	// pre-queue under a.PrequeueSecret), offer free slots to waiting entries in
	// line order, then admit the next places at the line's rate, at most
	// as many as there are free slots.
	AdmitQueue(ctx context.Context, a lottery.AdmitTx) (lottery.AdmitResult, []lottery.OfferIssue, error)
	// ActiveQueues lists the lines of events still published or closed,
	// with the pre-queue commitment of those not yet opened.
	ActiveQueues(ctx context.Context) ([]lottery.QueueRef, error)
	// EventByID returns the event with its courses; ErrNotFound.
	EventByID(ctx context.Context, id int64) (lottery.Event, error)
	ControlStore
}

// Events is what the waiting room reads through the root service: its
// event cache and the IP tables. *lottery.Service implements it.
type Events interface {
	// PublicEvent returns a non-draft event; drafts are ErrNotFound.
	PublicEvent(ctx context.Context, slug string) (lottery.Event, error)
	// Network is what the IP tables know of a client address.
	Network(ip string) ipintel.Network
	// ManagedEvent returns an event the organizer may manage (drafts
	// included); any other is ErrNotFound. The waiting-room controls
	// reach an event only through it.
	ManagedEvent(ctx context.Context, actor lottery.StaffAccount, slug string) (lottery.Event, error)
	// ForgetEvent drops a cached event after a control changed it.
	ForgetEvent(slug string)
}

// Service runs joins, polls and admission passes.
type Service struct {
	store  Store
	events Events
	keys   *lottery.Keys
	clock  lottery.Clock
	notify lottery.Notifier
	log    *slog.Logger
	cfg    lottery.Config
	scorer antibot.Scorer

	ticketKey  []byte
	publicKey  []byte // names pre-queue tickets in the published order
	admissions lottery.AdmissionCodec

	cacheMu sync.RWMutex
	lines   map[int64]cachedLine
	flight  singleflight.Group

	published sync.Map // sub-queue id → Published, once placed (it never changes)
}

type cachedLine struct {
	line lottery.QueueLine
	at   time.Time
}

// NewService wires a Service with the root service's Config (its cache
// TTL, disposable-mail list, risk rules and random source). notify may be
// nil (nothing is sent).
func NewService(store Store, events Events, keys *lottery.Keys, clock lottery.Clock, notify lottery.Notifier, log *slog.Logger, cfg lottery.Config) *Service {
	cfg = cfg.WithDefaults()
	s := &Service{store: store, events: events, keys: keys, clock: clock, notify: notify, log: log, cfg: cfg,
		scorer: antibot.Scorer{Rules: cfg.Rules}, admissions: lottery.NewAdmissionCodec(keys),
		lines: map[int64]cachedLine{}}
	if keys != nil {
		s.ticketKey = keys.Derive("queue-ticket")
		s.publicKey = keys.Derive("queue-public-id")
	}
	return s
}

// JoinQueue gives a runner a place in an ordered sub-queue's line. The
// join is scored for bot behaviour: a rejected join gets no place
// (ErrQueueRefused, the decision kept for reviewers); a flagged one keeps
// its place, and the entry it leads to goes to review.
func (s *Service) JoinQueue(ctx context.Context, slug string, req lottery.JoinRequest, client lottery.ClientInfo) (lottery.JoinResult, error) {
	ev, err := s.events.PublicEvent(ctx, slug)
	if err != nil {
		return lottery.JoinResult{}, err
	}
	now := s.clock.Now()
	sq, err := ev.Pick(req.Course, req.PaceGroup)
	if err != nil {
		return lottery.JoinResult{}, err
	}
	if sq.Mode != lottery.ModeOrdered {
		return lottery.JoinResult{}, lottery.Fieldf("pace_group", "this pace group is drawn by lottery: apply through the form, there is no line")
	}
	if err := ev.CheckJoin(now, sq); err != nil {
		return lottery.JoinResult{}, err
	}
	addr, err := identity.NormalizeEmail(req.Email)
	if err != nil {
		return lottery.JoinResult{}, lottery.Fieldf("email", "give a valid e-mail address")
	}
	risk := ev.Scorer(s.scorer).AssessQueueJoin(antibot.QueueJoinInput{UserAgent: client.UserAgent, AcceptLanguage: client.AcceptLanguage,
		DeviceCookie: client.DeviceID != "", DisposableMail: s.cfg.Disposable.IsDisposable(addr.Domain),
		Network: s.events.Network(client.IP)})
	id, err := uuid.NewRandomFromReader(s.cfg.Random)
	if err != nil {
		return lottery.JoinResult{}, fmt.Errorf("ticket id: %w", err)
	}
	// The user agent is cut on a character boundary: a cut inside a
	// character leaves invalid UTF-8 that PostgreSQL refuses.
	t := lottery.QueueTicket{ID: id.String(), EventID: ev.ID, SubQueueID: sq.ID, PublicID: s.publicID(id.String()),
		EmailKey: addr.Key, Status: lottery.TicketWaiting, Risk: risk, ClientIP: client.IP,
		UserAgent: textin.Cut(client.UserAgent, 512), DeviceID: client.DeviceID, JoinedAt: now}
	if risk.Decision == antibot.Reject {
		t.Status = lottery.TicketRefused
	}
	line, err := s.queueLine(ctx, sq.ID)
	if err != nil {
		return lottery.JoinResult{}, err
	}
	commitment := line.PrequeueCommitment
	if commitment == "" && !line.Opened {
		// The first join of a line: the order's seed is committed before
		// any ticket exists, so it cannot be chosen to suit the tickets.
		c, err := s.commit(ctx, sq.ID)
		if err != nil && !errors.Is(err, lottery.ErrNotFound) {
			return lottery.JoinResult{}, fmt.Errorf("join queue %s: %w", slug, err)
		}
		commitment = c.Commitment
		s.forgetLine(sq.ID)
	}
	out, err := s.store.JoinQueue(ctx, t, line.Opened)
	if errors.Is(err, lottery.ErrLineUnopened) {
		if err = s.openLine(ctx, sq.ID, now); err == nil {
			out, err = s.store.JoinQueue(ctx, t, true)
		}
	}
	if err != nil {
		return lottery.JoinResult{}, fmt.Errorf("join queue %s: %w", slug, err)
	}
	if out.Status == lottery.TicketRefused {
		s.log.InfoContext(ctx, "queue join refused", "event", slug, "subqueue", sq.Key, "score", risk.Score,
			"reasons", lottery.ReasonCodes(risk), "rules", risk.RulesVersion)
		return lottery.JoinResult{Risk: risk}, lottery.ErrQueueRefused
	}
	res := lottery.JoinResult{Ticket: s.ticketString(out.ID, sq.ID, out.Place), Place: out.Place, Risk: risk}
	if out.Place == 0 {
		res.Prequeue, res.OpensAt, res.PublicID, res.PrequeueCommitment = true, ev.OpensAt, out.PublicID, commitment
	} else {
		res.Ahead = max(0, out.Place-line.AdmittedThrough-1)
	}
	return res, nil
}

// QueueStatus answers a waiting-room poll. Polls of waiting tickets, by far
// the most, are answered from the signed ticket and a line state cached as
// briefly as events: no database read. An admitted ticket is read once to hand out
// its admission token. A forged or unknown ticket is ErrNotFound.
func (s *Service) QueueStatus(ctx context.Context, ticket string) (lottery.QueueView, error) {
	id, sqID, place, ok := s.parseTicket(ticket)
	if !ok {
		return lottery.QueueView{}, lottery.ErrNotFound
	}
	line, err := s.queueLine(ctx, sqID)
	if err != nil {
		return lottery.QueueView{}, err
	}
	v := lottery.QueueView{EventSlug: line.EventSlug, SubQueue: lottery.SubQueue{ID: sqID, Key: line.SubQueueKey}, Place: place,
		SoldOut: line.SoldOut, Paused: line.Paused}
	var t lottery.QueueTicket
	if place == 0 {
		// A pre-queue ticket: before the opening its answer needs nothing
		// but the line; after it, one read finds the place, and the
		// re-issued ticket spares the next polls that read.
		if !line.Opened {
			v.Prequeue, v.OpensAt, v.PublicID, v.PrequeueCommitment = true, line.OpensAt, s.publicID(id), line.PrequeueCommitment
			v.ETASeconds = max(0, int(math.Ceil(line.OpensAt.Sub(s.clock.Now()).Seconds())))
			return v, nil
		}
		if t, err = s.store.QueueTicket(ctx, id); err != nil {
			return lottery.QueueView{}, fmt.Errorf("queue status: %w", err)
		}
		if t.Place == 0 { // refused: it never had a place
			return lottery.QueueView{}, lottery.ErrNotFound
		}
		place, v.Place, v.Ticket = t.Place, t.Place, s.ticketString(id, sqID, t.Place)
	}
	if place <= line.Prequeued { // placed by the opening: its order is published
		v.PublicID, v.PrequeuePlaced = s.publicID(id), true
	}
	if place > line.AdmittedThrough {
		v.Ahead = place - line.AdmittedThrough - 1
		rate := max(line.AdmitPerMinute, 1)
		v.ETASeconds = int((v.Ahead+1)*60+int64(rate)-1) / rate
		return v, nil
	}
	if t.ID == "" {
		if t, err = s.store.QueueTicket(ctx, id); err != nil {
			return lottery.QueueView{}, fmt.Errorf("queue status: %w", err)
		}
	}
	switch t.Status {
	case lottery.TicketAdmitted:
		if t.AdmissionExpiresAt != nil && s.clock.Now().Before(*t.AdmissionExpiresAt) {
			v.Admitted, v.AdmissionExpiresAt = true, t.AdmissionExpiresAt
			v.AdmissionToken = s.admissions.Token(t.ID, t.SubQueueID, t.EmailKey, t.Risk.Decision == antibot.Review)
		} else {
			v.Lapsed = true
		}
	case lottery.TicketUsed:
		v.Admitted, v.Used = true, true
	case lottery.TicketLapsed:
		v.Lapsed = true
	default: // a join that committed after the pass went by: the next pass admits it first
		v.Ahead = 0
		v.ETASeconds = 5
	}
	return v, nil
}

// queueLine reads a line through a cache as short-lived as the root
// service's event cache: every poller of a line shares one read per
// EventCacheTTL per process. A cache's age is real elapsed time, not the
// service clock (a test clock that stands still must not freeze it).
func (s *Service) queueLine(ctx context.Context, subqueueID int64) (lottery.QueueLine, error) {
	now := time.Now()
	s.cacheMu.RLock()
	c, ok := s.lines[subqueueID]
	s.cacheMu.RUnlock()
	if ok && now.Sub(c.at) < s.cfg.EventCacheTTL {
		return c.line, nil
	}
	v, err, _ := s.flight.Do(strconv.FormatInt(subqueueID, 10), func() (any, error) {
		l, err := s.store.QueueLine(ctx, subqueueID)
		if err != nil {
			// PostgreSQL unreachable: polls go on from the last line read
			// (issue 16). A line only moves forward, so an old one shows a
			// longer wait, never a wrong admission (that needs the ticket).
			if ok && errors.Is(err, lottery.ErrUnavailable) {
				return c.line, nil
			}
			return lottery.QueueLine{}, fmt.Errorf("queue line %d: %w", subqueueID, err)
		}
		s.cacheMu.Lock()
		s.lines[subqueueID] = cachedLine{line: l, at: time.Now()}
		s.cacheMu.Unlock()
		return l, nil
	})
	return v.(lottery.QueueLine), err
}

// forgetLine drops a line from the cache after this process changed it.
func (s *Service) forgetLine(subqueueID int64) {
	s.cacheMu.Lock()
	delete(s.lines, subqueueID)
	s.cacheMu.Unlock()
}

// AdmitQueues runs one admission pass over every active line (the worker
// calls it every few seconds). A failing line does not stop the others.
func (s *Service) AdmitQueues(ctx context.Context) (int, error) {
	refs, err := s.store.ActiveQueues(ctx)
	if err != nil {
		return 0, fmt.Errorf("admit: %w", err)
	}
	total := 0
	var errs []error
	events := map[int64]lottery.Event{}
	for _, r := range refs {
		ev, ok := events[r.EventID]
		if !ok {
			if ev, err = s.store.EventByID(ctx, r.EventID); err != nil {
				errs = append(errs, err)
				continue
			}
			events[r.EventID] = ev
		}
		// A line not opened yet is committed now if no join did it (so the
		// commitment is public soon after the event is), and brings its
		// secret in case this pass opens it.
		var secret []byte
		if !r.Opened {
			c := r.Commit
			if c == nil {
				stored, err := s.commit(ctx, r.SubQueueID)
				if err != nil {
					errs = append(errs, fmt.Errorf("admit sub-queue %d: %w", r.SubQueueID, err))
					continue
				}
				c = &stored
			}
			if secret, err = s.openSecret(r.SubQueueID, *c); err != nil {
				errs = append(errs, fmt.Errorf("admit sub-queue %d: %w", r.SubQueueID, err))
				continue
			}
		}
		res, issued, err := s.store.AdmitQueue(ctx, lottery.AdmitTx{SubQueueID: r.SubQueueID, Now: s.clock.Now(),
			Window: lottery.AdmissionWindow, Offers: lottery.OfferTx{Now: s.clock.Now(), Hold: ev.OfferHold},
			PrequeueSecret: secret})
		lottery.NotifyOffers(ctx, s.notify, s.log, issued)
		if err != nil {
			errs = append(errs, fmt.Errorf("admit sub-queue %d: %w", r.SubQueueID, err))
			continue
		}
		total += res.Admitted
		if res.Prequeued > 0 {
			s.log.InfoContext(ctx, "waiting room opened", "subqueue_id", r.SubQueueID, "prequeued", res.Prequeued)
		}
		if !r.Opened {
			s.forgetLine(r.SubQueueID) // it may have opened: polls see the new state at once
		}
	}
	return total, errors.Join(errs...)
}
