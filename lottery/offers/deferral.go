package offers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/startline/startline/lottery"
)

// DeferStore is what deferrals (issue 15) ask of persistence.
type DeferStore interface {
	// Defer defers a confirmed entry to its series' next edition
	// (lottery.CheckDeferral in the transaction) and returns the deferral;
	// a deferral made before is returned as it stands. ErrNotFound,
	// ErrNotConfirmed, ErrNoNextEdition, ErrDeferralClosed, ErrDeferralFull.
	Defer(ctx context.Context, entryID string, now time.Time) (lottery.Deferral, error)
	// DeferralCheck returns the entry's event's terms and
	// lottery.CheckDeferral's answer for it now; ErrNotFound.
	DeferralCheck(ctx context.Context, entryID string, now time.Time) (lottery.DeferralSettings, error)
	// Deferral returns an entry's deferral; ErrNotFound.
	Deferral(ctx context.Context, entryID string) (lottery.Deferral, error)
	// DeferralSettings returns an event's deferral terms (zero: none).
	DeferralSettings(ctx context.Context, eventID int64) (lottery.DeferralSettings, error)
	// SetDeferralSettings stores an event's deferral terms with the audit row.
	SetDeferralSettings(ctx context.Context, eventID int64, slug string, d lottery.DeferralSettings, actor lottery.Actor) error
}

// managedEvent is an event the account may change (lottery.MayManage);
// any other is ErrNotFound.
func (s *Service) managedEvent(ctx context.Context, actor lottery.StaffAccount, slug string) (lottery.Event, error) {
	ev, err := s.events.CachedEvent(ctx, slug)
	if err != nil {
		return lottery.Event{}, err
	}
	if !lottery.MayManage(actor, ev) {
		return lottery.Event{}, lottery.ErrNotFound
	}
	return ev, nil
}

// SetDeferralSettings sets an event's deferral terms (organizers of its
// organization): the deadline, the fee in minor units and the cap per
// sub-queue (0: none). Audited.
func (s *Service) SetDeferralSettings(ctx context.Context, actor lottery.StaffAccount, slug string, d lottery.DeferralSettings) (lottery.DeferralSettings, error) {
	if err := lottery.CheckDeferralSettings(d); err != nil {
		return lottery.DeferralSettings{}, err
	}
	ev, err := s.managedEvent(ctx, actor, slug)
	if err != nil {
		return lottery.DeferralSettings{}, fmt.Errorf("deferral settings %s: %w", slug, err)
	}
	d.Deadline = d.Deadline.UTC()
	if err := s.store.SetDeferralSettings(ctx, ev.ID, ev.Slug, d, actor.Actor()); err != nil {
		return lottery.DeferralSettings{}, fmt.Errorf("deferral settings %s: %w", slug, err)
	}
	return d, nil
}

// DeferralSettings returns an event's deferral terms (organizers of its
// organization).
func (s *Service) DeferralSettings(ctx context.Context, actor lottery.StaffAccount, slug string) (lottery.DeferralSettings, error) {
	ev, err := s.managedEvent(ctx, actor, slug)
	if err != nil {
		return lottery.DeferralSettings{}, fmt.Errorf("deferral settings %s: %w", slug, err)
	}
	return s.store.DeferralSettings(ctx, ev.ID)
}

// receiptEntry checks an entry id and its receipt token: a bad id or token
// is ErrNotFound, as for an entry that does not exist.
func (s *Service) receiptEntry(entryID, token string) (string, error) {
	if _, err := uuid.Parse(entryID); err != nil {
		return "", lottery.ErrNotFound
	}
	entryID = strings.ToLower(entryID)
	if !s.keys.CheckReceipt(entryID, token) {
		return "", lottery.ErrNotFound
	}
	return entryID, nil
}

// Defer lets the holder of an entry's receipt token defer its confirmed
// slot to the series' next edition, where the event allows it: the entry
// becomes deferred, the runner is mailed, and the deferral holds a slot in
// the next edition (a confirmed entry there once it is published; its draw
// gives out lottery.DrawCapacity). ErrNotFound for a bad id or token; the
// refusals of lottery.CheckDeferral (409).
func (s *Service) Defer(ctx context.Context, entryID, token string) (lottery.Deferral, error) {
	id, err := s.receiptEntry(entryID, token)
	if err != nil {
		return lottery.Deferral{}, err
	}
	d, err := s.store.Defer(ctx, id, s.clock.Now())
	if err != nil {
		return lottery.Deferral{}, err
	}
	s.log.InfoContext(ctx, "entry deferred", "entry_id", id, "series", d.Series, "state", d.State)
	return d, nil
}

// DeferralQuote answers, for the entry status page, whether the entry may
// defer now and on what terms: ok is false (and the error nil) when it
// may not.
func (s *Service) DeferralQuote(ctx context.Context, entryID, token string) (lottery.DeferralSettings, bool, error) {
	id, err := s.receiptEntry(entryID, token)
	if err != nil {
		return lottery.DeferralSettings{}, false, err
	}
	set, err := s.store.DeferralCheck(ctx, id, s.clock.Now())
	var le *lottery.Error
	if errors.As(err, &le) && le.Code != lottery.CodeNotFound {
		return set, false, nil
	}
	if err != nil {
		return set, false, fmt.Errorf("deferral quote %s: %w", id, err)
	}
	return set, true, nil
}

// EntryDeferral returns an entry's deferral (ErrNotFound: none, or a bad
// id or token).
func (s *Service) EntryDeferral(ctx context.Context, entryID, token string) (lottery.Deferral, error) {
	id, err := s.receiptEntry(entryID, token)
	if err != nil {
		return lottery.Deferral{}, err
	}
	return s.store.Deferral(ctx, id)
}
