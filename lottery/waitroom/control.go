package waitroom

import (
	"context"
	"fmt"
	"time"

	"github.com/startline/startline/lottery"
)

// Admissions is how many runners one admission pass lets in: nobody while
// the window is not open or the organizer paused the line, else the
// admissions earned at the line's rate (credit), at most the free slots.
func Admissions(open, paused bool, credit, free int64) int64 {
	if !open || paused || credit <= 0 || free <= 0 {
		return 0
	}
	return min(credit, free)
}

// ControlStore is what an organizer's waiting-room controls ask of
// persistence; lottery/postgres.Store implements it.
type ControlStore interface {
	// SetLinePaused pauses or resumes an ordered sub-queue's line, logged
	// and audited; ErrNotFound, ErrConflict when already in that state.
	SetLinePaused(ctx context.Context, slug, key string, paused bool, now time.Time, actor lottery.Actor) error
	// SetAdmitRate changes an ordered sub-queue's admissions per minute,
	// logged and audited; ErrNotFound.
	SetAdmitRate(ctx context.Context, slug, key string, perMinute int, actor lottery.Actor) error
}

// CheckControl is the rule for an organizer's waiting-room control: the
// event has the sub-queue, it is ordered (only an ordered sub-queue has a
// waiting room), and the event is not over (cancelled or settled).
// ErrNotFound, or invalid_field / invalid_transition naming why.
func CheckControl(ev lottery.Event, key string) (lottery.SubQueue, error) {
	var sq lottery.SubQueue
	found := false
	for _, s := range ev.SubQueues() {
		if s.Key == key {
			sq, found = s, true
		}
	}
	switch {
	case !found:
		return sq, lottery.ErrNotFound
	case sq.Mode != lottery.ModeOrdered:
		return sq, lottery.Fieldf("subqueue", "only a first-come (ordered) pace group has a waiting room")
	case ev.Status == lottery.EventCancelled || ev.Status == lottery.EventSettled:
		return sq, &lottery.Error{Code: lottery.CodeInvalidTransition, Field: "subqueue", Message: "the event is " + string(ev.Status)}
	}
	return sq, nil
}

// CheckAdmitRate validates an admission rate (admissions per minute).
func CheckAdmitRate(perMinute int) error {
	if perMinute < 1 || perMinute > 100_000 {
		return lottery.Fieldf("admit_per_minute", "give 1 to 100000 admissions per minute")
	}
	return nil
}

// SetPaused pauses (paused) or resumes the waiting room of the event's
// ordered sub-queue key. ErrNotFound (no such event for this organizer, or
// no such sub-queue), CheckControl's errors, conflict when it already is.
func (s *Service) SetPaused(ctx context.Context, actor lottery.StaffAccount, slug, key string, paused bool) error {
	sq, err := s.control(ctx, actor, slug, key)
	if err != nil {
		return err
	}
	if err := s.store.SetLinePaused(ctx, slug, key, paused, s.clock.Now(), actor.Actor()); err != nil {
		return fmt.Errorf("pause %s %s: %w", slug, key, err)
	}
	s.changed(slug, sq.ID)
	return nil
}

// SetAdmitRate sets the admissions per minute of the event's ordered
// sub-queue key; the errors of SetPaused and CheckAdmitRate.
func (s *Service) SetAdmitRate(ctx context.Context, actor lottery.StaffAccount, slug, key string, perMinute int) error {
	if err := CheckAdmitRate(perMinute); err != nil {
		return err
	}
	sq, err := s.control(ctx, actor, slug, key)
	if err != nil {
		return err
	}
	if err := s.store.SetAdmitRate(ctx, slug, key, perMinute, actor.Actor()); err != nil {
		return fmt.Errorf("admission rate %s %s: %w", slug, key, err)
	}
	s.changed(slug, sq.ID)
	return nil
}

func (s *Service) control(ctx context.Context, actor lottery.StaffAccount, slug, key string) (lottery.SubQueue, error) {
	ev, err := s.events.ManagedEvent(ctx, actor, slug)
	if err != nil {
		return lottery.SubQueue{}, err
	}
	return CheckControl(ev, key)
}

func (s *Service) changed(slug string, subqueueID int64) {
	s.events.ForgetEvent(slug)
	s.forgetLine(subqueueID)
}
