// Package series is a race's editions, year after year: organizers create a
// series, attach events to it as editions, and import the history of
// editions that ran elsewhere (a CSV reduced to identity keys on the way
// in). Registration reads the record when a runner applies; with the
// doubling rule it earns the runner's tickets (lottery.EarnedApplications).
package series

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/startline/startline/lottery"
)

// Store is what the series concept asks of persistence.
type Store interface {
	// CreateSeries stores a series with its audit row; ErrSeriesExists.
	CreateSeries(ctx context.Context, s lottery.Series, actor lottery.Actor) (lottery.Series, error)
	// AttachEvent makes an event an edition of a series, with its event-log
	// and audit rows; ErrNotFound for an unknown series or event (or one
	// of another organization than the actor's),
	// ErrInvalidTransition once the event is frozen (its tickets are fixed).
	AttachEvent(ctx context.Context, a Attach, actor lottery.Actor) error
	// ImportHistory stores an imported file's rows for a series with one
	// audit row; ErrNotFound for an unknown series.
	ImportHistory(ctx context.Context, imp Import, actor lottery.Actor) error
	// SeriesBySlug returns a series; ErrNotFound.
	SeriesBySlug(ctx context.Context, slug string) (lottery.Series, error)
}

// Attach places an event in a series.
type Attach struct {
	Series       string
	Event        string
	EditionYear  int
	EditionLabel string
}

// Import is one history file, reduced to keys.
type Import struct {
	ID     string // uuid, names the file in the audit log
	Series string
	Rows   []HistoryRow
}

// Service runs series, editions and history imports.
type Service struct {
	store       Store
	phoneRegion string
	forget      func(slug string) // drops an event from the root service's cache
}

// NewService wires a Service. phoneRegion reads numbers without +country
// (the registration's region); forget drops a changed event from the event
// cache (nil: nothing cached).
func NewService(store Store, phoneRegion string, forget func(slug string)) *Service {
	if forget == nil {
		forget = func(string) {}
	}
	return &Service{store: store, phoneRegion: phoneRegion, forget: forget}
}

// Create makes a series (organizers only).
func (s *Service) Create(ctx context.Context, actor lottery.StaffAccount, in lottery.Series) (lottery.Series, error) {
	if actor.Role != lottery.RoleOrganizer {
		return lottery.Series{}, lottery.ErrForbidden
	}
	in, err := lottery.CheckSeries(in)
	if err != nil {
		return lottery.Series{}, err
	}
	out, err := s.store.CreateSeries(ctx, in, actor.Actor())
	if err != nil {
		return lottery.Series{}, fmt.Errorf("create series %s: %w", in.Slug, err)
	}
	return out, nil
}

// Managed returns a series the account may change: an organizer's of its
// own organization. Another organization's series is lottery.ErrNotFound,
// as if it did not exist (the admin routes' check, lottery.MayManage's for
// series); a reviewer is lottery.ErrForbidden.
func (s *Service) Managed(ctx context.Context, actor lottery.StaffAccount, slug string) (lottery.Series, error) {
	if actor.Role != lottery.RoleOrganizer {
		return lottery.Series{}, lottery.ErrForbidden
	}
	ser, err := s.store.SeriesBySlug(ctx, slug)
	if err != nil {
		return lottery.Series{}, err
	}
	if actor.OrgID == 0 || ser.OrgID != actor.OrgID {
		return lottery.Series{}, lottery.ErrNotFound
	}
	return ser, nil
}

// AttachEvent makes an event an edition of a series (organizers only).
func (s *Service) AttachEvent(ctx context.Context, actor lottery.StaffAccount, a Attach) error {
	if actor.Role != lottery.RoleOrganizer {
		return lottery.ErrForbidden
	}
	a.EditionLabel = strings.TrimSpace(a.EditionLabel)
	if a.Event == "" {
		return lottery.Fieldf("event", "give the event's slug")
	}
	if err := lottery.CheckEdition(a.Series, a.EditionYear, a.EditionLabel); err != nil {
		return err
	}
	if _, err := s.Managed(ctx, actor, a.Series); err != nil {
		return fmt.Errorf("attach %s to %s: %w", a.Event, a.Series, err)
	}
	if err := s.store.AttachEvent(ctx, a, actor.Actor()); err != nil {
		return fmt.Errorf("attach %s to %s: %w", a.Event, a.Series, err)
	}
	s.forget(a.Event)
	return nil
}

// ImportHistory reads a history CSV (ParseHistory) and stores its rows for
// the series (organizers only). It returns how many rows were stored; a
// bad row refuses the whole file with a row-numbered field error.
func (s *Service) ImportHistory(ctx context.Context, actor lottery.StaffAccount, series string, r io.Reader) (int, error) {
	if actor.Role != lottery.RoleOrganizer {
		return 0, lottery.ErrForbidden
	}
	if _, err := s.Managed(ctx, actor, series); err != nil {
		return 0, fmt.Errorf("import history %s: %w", series, err)
	}
	rows, err := ParseHistory(r, s.phoneRegion)
	if err != nil {
		return 0, err
	}
	if err := s.store.ImportHistory(ctx, Import{ID: uuid.NewString(), Series: series, Rows: rows}, actor.Actor()); err != nil {
		return 0, fmt.Errorf("import history %s: %w", series, err)
	}
	return len(rows), nil
}
