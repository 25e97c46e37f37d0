package lottery

import (
	"context"
	"fmt"
)

// ErrNotDraft refuses to replace an event that is no longer a draft: once
// published, runners see it, and only its details, terms (until
// registration opens) and questions may change (EditEvent, SetForm).
var ErrNotDraft = &Error{Code: CodeInvalidTransition,
	Message: "only a draft can be changed in full; once published, only the race details, terms of sale and questions can be edited"}

// CheckReplaceDraft is the rule of a full edit (ReplaceDraft): the event
// must still be a draft, and the spec must keep its slug (links and the
// API name the event by it).
func CheckReplaceDraft(ev Event, spec EventSpec) error {
	if ev.Status != EventDraft {
		return ErrNotDraft
	}
	if spec.Slug != ev.Slug {
		return Fieldf("slug", "the slug of an event cannot change (it is %q)", ev.Slug)
	}
	return nil
}

// ReplaceDraft replaces everything of a draft event with an organizer's
// spec, validated exactly as CreateEvent validates it (EventSpec.Build):
// name, window, rules, series, courses and pace groups, race details,
// terms and questions. The event keeps its id and organization. Another
// organization's event is ErrNotFound; a published one ErrNotDraft.
func (s *Service) ReplaceDraft(ctx context.Context, actor StaffAccount, slug string, spec EventSpec) (Event, error) {
	ev, err := s.store.EventBySlug(ctx, slug)
	if err != nil {
		return Event{}, fmt.Errorf("replace draft %s: %w", slug, err)
	}
	if !MayManage(actor, ev) {
		return Event{}, ErrNotFound
	}
	if err := CheckReplaceDraft(ev, spec); err != nil {
		return Event{}, err
	}
	next, err := spec.Build()
	if err != nil {
		return Event{}, err
	}
	next.ID, next.OrgID = ev.ID, ev.OrgID
	out, err := s.store.ReplaceDraft(ctx, next, actor.Actor())
	s.forget(slug)
	if err != nil {
		return Event{}, fmt.Errorf("replace draft %s: %w", slug, err)
	}
	return out, nil
}
