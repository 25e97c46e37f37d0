package lottery

import (
	"context"
	"fmt"
)

// EditEvent applies an organizer's edit of an event's details, prices and
// refund policy (EventPatch.Apply) and stores it, audited. Details may
// change at any time; terms of sale only until registration opens
// (ErrTermsFixed). Field errors name the bad field; ErrForbidden for a
// non-organizer, ErrNotFound.
func (s *Service) EditEvent(ctx context.Context, actor StaffAccount, slug string, p EventPatch) (Event, error) {
	if actor.Role != RoleOrganizer {
		return Event{}, ErrForbidden
	}
	ev, err := s.store.EventBySlug(ctx, slug)
	if err != nil {
		return Event{}, fmt.Errorf("edit event %s: %w", slug, err)
	}
	now := s.clock.Now()
	after, changed, err := p.Apply(ev, now)
	if err != nil {
		return Event{}, err
	}
	if len(changed) == 0 {
		return ev, nil
	}
	out, err := s.store.EditEvent(ctx, ev, after, changed, p.Terms(), now, actor.Actor())
	s.forget(slug)
	if err != nil {
		return Event{}, err
	}
	return out, nil
}
