package lottery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/antibot/ipintel"
)

// Config tunes the root Service and the concept services that share it
// (lottery/registration, lottery/waitroom); zero values take the defaults.
type Config struct {
	EventCacheTTL time.Duration // how stale a cached event read may be (default 2s)
	PhoneRegion   string        // region for phone numbers given without +country (default KR)
	Disposable    *identity.DisposableList
	Rules         antibot.Rules
	Networks      *ipintel.DB // where client addresses are; nil: the embedded tables, loaded on first use
	// Random is where the service's secrets and ids come from (seed secrets,
	// e-mail codes, entry and ticket ids; staff credentials come from
	// staff.Config.Random); nil: crypto/rand. It must be safe for
	// concurrent use. Tests may fix it.
	Random io.Reader
}

// Service runs the event lifecycle: an organizer's new events and
// transitions, and the cached event reads every concept service shares.
// Registration, draws, offers, the waiting room, review and staff are
// their own packages (lottery/<concept>).
type Service struct {
	store  Store
	keys   *Keys
	clock  Clock
	notify Notifier
	log    *slog.Logger
	cfg    Config
	random io.Reader

	draws     DrawSteps
	canceller Canceller
	clusters  Clusters

	cacheMu sync.RWMutex
	cache   map[string]cachedEvent
	flight  singleflight.Group
}

type cachedEvent struct {
	ev  Event
	err error
	at  time.Time
}

// WithDefaults fills in the zero values of a Config (lottery/registration
// and lottery/waitroom share the root service's Config and so its defaults).
func (cfg Config) WithDefaults() Config {
	if cfg.EventCacheTTL == 0 {
		cfg.EventCacheTTL = 2 * time.Second
	}
	if cfg.PhoneRegion == "" {
		cfg.PhoneRegion = "KR"
	}
	if cfg.Disposable == nil {
		cfg.Disposable = identity.DefaultDisposable()
	}
	if cfg.Rules.Version == "" {
		cfg.Rules = antibot.DefaultRules
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	return cfg
}

// NewService wires a Service. notify may be nil (nothing is sent).
func NewService(store Store, keys *Keys, clock Clock, notify Notifier, log *slog.Logger, cfg Config) *Service {
	cfg = cfg.WithDefaults()
	return &Service{store: store, keys: keys, clock: clock, notify: notify, log: log, cfg: cfg, random: cfg.Random,
		cache: map[string]cachedEvent{}}
}

// Network is what the IP tables know of a client address (country and
// network kind, never the address itself), for scoring and for reviewers.
func (s *Service) Network(ip string) ipintel.Network {
	db := s.cfg.Networks
	if db == nil {
		db = ipintel.Default()
	}
	return db.LookupString(ip)
}

// Now is the service clock.
func (s *Service) Now() time.Time { return s.clock.Now() }

// ListEvents returns the events runners may see.
func (s *Service) ListEvents(ctx context.Context) ([]Event, error) {
	evs, err := s.store.ListEvents(ctx)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return evs, nil
}

// PublicEvent returns a non-draft event from a short-lived cache: event reads
// are the hottest path and change rarely. Drafts are ErrNotFound.
func (s *Service) PublicEvent(ctx context.Context, slug string) (Event, error) {
	ev, err := s.cachedEvent(ctx, slug)
	if err != nil {
		return Event{}, err
	}
	if !ev.Public() {
		return Event{}, ErrNotFound
	}
	return ev, nil
}

func (s *Service) cachedEvent(ctx context.Context, slug string) (Event, error) {
	// A cache's age is real elapsed time, not the service clock: a test
	// clock that stands still must not freeze the cache (nor one moved ahead
	// empty it). The same holds for lottery/waitroom's line cache.
	now := time.Now()
	s.cacheMu.RLock()
	c, ok := s.cache[slug]
	s.cacheMu.RUnlock()
	if ok && now.Sub(c.at) < s.cfg.EventCacheTTL {
		return c.ev, c.err
	}
	v, err, _ := s.flight.Do(slug, func() (any, error) {
		ev, err := s.store.EventBySlug(ctx, slug)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Event{}, fmt.Errorf("event %s: %w", slug, err) // not cached: transient
		}
		s.cacheMu.Lock()
		s.cache[slug] = cachedEvent{ev: ev, err: err, at: time.Now()}
		s.cacheMu.Unlock()
		return ev, err
	})
	return v.(Event), err
}

// CachedEvent returns an event, drafts included, from the short-lived
// cache PublicEvent reads (for concept services that act on an event they
// reached through an offer or entry); ErrNotFound.
func (s *Service) CachedEvent(ctx context.Context, slug string) (Event, error) {
	return s.cachedEvent(ctx, slug)
}

// ForgetEvent drops a cached event after a concept service changed it.
func (s *Service) ForgetEvent(slug string) { s.forget(slug) }

// forget drops a cached event after this process changed it.
func (s *Service) forget(slug string) {
	s.cacheMu.Lock()
	delete(s.cache, slug)
	s.cacheMu.Unlock()
}

// ManagedEvent returns an event, drafts included, that the account may
// manage (lottery.MayManage); any other is ErrNotFound, so an organizer
// cannot learn of another organization's drafts. Every admin route and
// console page reaches its event through here.
func (s *Service) ManagedEvent(ctx context.Context, actor StaffAccount, slug string) (Event, error) {
	ev, err := s.cachedEvent(ctx, slug)
	if err != nil {
		return Event{}, err
	}
	if !MayManage(actor, ev) {
		return Event{}, ErrNotFound
	}
	return ev, nil
}

// OrgEvents returns the events of the account's organization, drafts
// included, newest window first: the console's list.
func (s *Service) OrgEvents(ctx context.Context, actor StaffAccount) ([]Event, error) {
	if actor.OrgID == 0 {
		return nil, nil
	}
	evs, err := s.store.OrgEvents(ctx, actor.OrgID)
	if err != nil {
		return nil, fmt.Errorf("events of org %d: %w", actor.OrgID, err)
	}
	return evs, nil
}

// CreateEvent stores a draft event from an organizer's spec.
func (s *Service) CreateEvent(ctx context.Context, actor StaffAccount, spec EventSpec) (Event, error) {
	if actor.Role != RoleOrganizer {
		return Event{}, ErrForbidden
	}
	ev, err := spec.Build()
	if err != nil {
		return Event{}, err
	}
	ev.OrgID = actor.OrgID
	out, err := s.store.CreateEvent(ctx, ev, actor.Actor())
	if err != nil {
		return Event{}, fmt.Errorf("create event %s: %w", spec.Slug, err)
	}
	s.forget(ev.Slug)
	return out, nil
}

func (s *Service) newSeedCommit(slug string) (*SeedCommit, error) {
	secret := make([]byte, 32)
	if _, err := io.ReadFull(s.random, secret); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	sealed, err := s.keys.Seal(secret, "seed:"+slug)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(secret)
	return &SeedCommit{Sealed: sealed, Commitment: hex.EncodeToString(sum[:])}, nil
}

// ReasonCodes lists an assessment's reason codes, for logs (the reasons'
// details may quote client input; the codes never do).
func ReasonCodes(a antibot.Assessment) []string {
	out := make([]string, len(a.Reasons))
	for i, r := range a.Reasons {
		out[i] = r.Code
	}
	return out
}
