package lottery

import (
	"context"
	"fmt"
)

// SetForm replaces an event's registration questions and consent documents
// (an organizer's action, audited by the store) while registration has not
// opened: afterwards every entry's answers follow the form it applied with.
// Errors: ErrForbidden, ErrNotFound, a field error, 409 invalid_transition
// once registration opened.
func (s *Service) SetForm(ctx context.Context, actor StaffAccount, slug string, spec FormSpec) (Event, error) {
	if actor.Role != RoleOrganizer {
		return Event{}, ErrForbidden
	}
	ev, err := s.store.EventBySlug(ctx, slug)
	if err != nil {
		return Event{}, fmt.Errorf("set form %s: %w", slug, err)
	}
	now := s.clock.Now()
	if err := ev.CheckFormChange(now); err != nil {
		return Event{}, err
	}
	form, err := spec.Build()
	if err != nil {
		return Event{}, err
	}
	defer s.forget(slug)
	out, err := s.store.SetEventForm(ctx, slug, form, now, actor.Actor())
	if err != nil {
		return Event{}, fmt.Errorf("set form %s: %w", slug, err)
	}
	return out, nil
}
