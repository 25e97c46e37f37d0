package review

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/startline/startline/lottery"
)

// AppealStore is what appeals ask of persistence; lottery/postgres
// implements it with the rest of Store.
type AppealStore interface {
	// FileAppeal inserts a in one transaction with its event-log and audit
	// records and its mail intent (mails.EntryAppealed), under a lock on
	// the entry: it calls allow with the stored event, the entry's status
	// and whether it appealed before, returning allow's error unchanged.
	FileAppeal(ctx context.Context, a lottery.Appeal, allow func(ev lottery.Event, st lottery.EntryStatus, filed bool) error) (lottery.Appeal, error)
	// EntryAppeal returns an entry's appeal; lottery.ErrNotFound.
	EntryAppeal(ctx context.Context, entryID string) (lottery.Appeal, error)
	// EventAppeals lists an event's appeals, open ones first, oldest first
	// within each.
	EventAppeals(ctx context.Context, eventID int64, openOnly bool, limit int) ([]lottery.Appeal, error)
	// DecideAppeal sets an open appeal's outcome once under locks on the
	// appeal, the entry and its event, after lottery.CheckAppealDecidable:
	// reinstated, the entry goes back to received as a review approval
	// would; each with its event-log and audit records and its mail intent
	// (mails.EntryReinstated or mails.EntryRejected). lottery.ErrNotFound
	// (also for an appeal of an event outside the actor's organization),
	// lottery.ErrConflict (decided already), ErrAppealClosed,
	// ErrInvalidTransition.
	DecideAppeal(ctx context.Context, d AppealDecision) (lottery.Appeal, error)
}

// AppealDecision is a reviewer's decision on an appeal.
type AppealDecision struct {
	AppealID int64
	Outcome  string // lottery.AppealReinstated or AppealUpheld
	Note     string
	Actor    lottery.StaffAccount
	Now      time.Time
}

// AppealLine is an appeal with what reviewers decide it on: the entry
// (its reasons and signals) and how many entries it shares a key with.
type AppealLine struct {
	lottery.Appeal
	Entry  lottery.Entry
	Linked int
}

// FileAppeal records a rejected runner's appeal: the receipt token is
// checked, the message cut (lottery.AppealMessage), and the rule
// (lottery.CheckAppeal: rejected, before the freeze, once) decided under
// the entry's lock. lottery.ErrNotFound, ErrInvalidTransition,
// ErrAppealClosed, ErrAppealExists, field errors on message.
func (s *Service) FileAppeal(ctx context.Context, entryID, token, message string) (lottery.Appeal, error) {
	if s.entries == nil {
		return lottery.Appeal{}, errNoEntries
	}
	v, err := s.entries.EntryStatus(ctx, entryID, token)
	if err != nil {
		return lottery.Appeal{}, err
	}
	msg, err := lottery.AppealMessage(message)
	if err != nil {
		return lottery.Appeal{}, err
	}
	a := lottery.Appeal{EventID: v.Entry.EventID, EventSlug: v.Entry.EventSlug, EntryID: v.Entry.ID, SubQueue: v.Entry.SubQueue,
		Message: msg, CreatedAt: s.clock.Now()}
	out, err := s.store.FileAppeal(ctx, a, func(ev lottery.Event, st lottery.EntryStatus, filed bool) error {
		return lottery.CheckAppeal(ev, st, filed)
	})
	if err != nil {
		return lottery.Appeal{}, fmt.Errorf("appeal %s: %w", v.Entry.ID, err)
	}
	return out, nil
}

// EntryAppeal returns the appeal of an entry whose receipt token the caller
// checked; found is false when it has none.
func (s *Service) EntryAppeal(ctx context.Context, v lottery.EntryView) (a lottery.Appeal, found bool, err error) {
	a, err = s.store.EntryAppeal(ctx, v.Entry.ID)
	if lottery.CodeOf(err) == lottery.CodeNotFound {
		return lottery.Appeal{}, false, nil
	}
	if err != nil {
		return lottery.Appeal{}, false, fmt.Errorf("appeal of %s: %w", v.Entry.ID, err)
	}
	return a, true, nil
}

// Appeals lists an event's appeals for reviewers, open ones first, each
// with its entry and how many entries share a key with it.
func (s *Service) Appeals(ctx context.Context, actor lottery.StaffAccount, slug string, openOnly bool) (lottery.Event, []AppealLine, error) {
	if !lottery.CanReview(actor.Role) {
		return lottery.Event{}, nil, lottery.ErrForbidden
	}
	ev, err := s.reviewable(ctx, actor, slug)
	if err != nil {
		return lottery.Event{}, nil, fmt.Errorf("appeals %s: %w", slug, err)
	}
	as, err := s.store.EventAppeals(ctx, ev.ID, openOnly, 200)
	if err != nil {
		return lottery.Event{}, nil, fmt.Errorf("appeals %s: %w", slug, err)
	}
	out := make([]AppealLine, 0, len(as))
	for _, a := range as {
		e, err := s.store.Entry(ctx, a.EntryID)
		if err != nil {
			return lottery.Event{}, nil, fmt.Errorf("appeals %s: %w", slug, err)
		}
		linked, err := s.store.LinkedEntries(ctx, e, 50)
		if err != nil {
			return lottery.Event{}, nil, fmt.Errorf("appeals %s: %w", slug, err)
		}
		out = append(out, AppealLine{Appeal: a, Entry: e, Linked: len(linked)})
	}
	return ev, out, nil
}

// DecideAppeal records a reviewer's decision (lottery.CheckAppealDecision:
// reinstate, or uphold with a note) on an open appeal. lottery.ErrForbidden,
// ErrNotFound, ErrConflict (decided already), ErrAppealClosed (frozen),
// ErrInvalidTransition (no longer rejected), field errors.
func (s *Service) DecideAppeal(ctx context.Context, actor lottery.StaffAccount, id, decision, note string) (lottery.Appeal, error) {
	if !lottery.CanReview(actor.Role) {
		return lottery.Appeal{}, lottery.ErrForbidden
	}
	n, err := ParseDisputeID(id) // the same positive-decimal ids
	if err != nil {
		return lottery.Appeal{}, err
	}
	outcome, note, err := lottery.CheckAppealDecision(decision, strings.TrimSpace(note))
	if err != nil {
		return lottery.Appeal{}, err
	}
	a, err := s.store.DecideAppeal(ctx, AppealDecision{AppealID: n, Outcome: outcome, Note: note, Actor: actor, Now: s.clock.Now()})
	if err != nil {
		return lottery.Appeal{}, fmt.Errorf("decide appeal %d: %w", n, err)
	}
	return a, nil
}
