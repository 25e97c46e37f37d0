package review

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/startline/startline/lottery"
)

// DisputeStore is what disputes ask of persistence; lottery/postgres
// implements it with the rest of Store.
type DisputeStore interface {
	// FileDispute inserts d in one transaction with its event-log and
	// audit records, under a lock on the entry: it counts the entry's
	// disputes and calls allow with the count first, returning allow's
	// error unchanged.
	FileDispute(ctx context.Context, d lottery.Dispute, allow func(filed int) error) (lottery.Dispute, error)
	// EntryDisputes lists an entry's disputes, oldest first.
	EntryDisputes(ctx context.Context, entryID string) ([]DisputeLine, error)
	// EventDisputes lists an event's disputes, open ones first, oldest
	// first within each.
	EventDisputes(ctx context.Context, eventID int64, openOnly bool, limit int) ([]DisputeLine, error)
	// AnswerDispute sets a dispute's outcome and answer once, with its
	// event-log and audit records; lottery.ErrNotFound (also for a dispute
	// of an event outside the actor's organization), or
	// lottery.ErrConflict when it was answered already.
	AnswerDispute(ctx context.Context, a Answer) (lottery.Dispute, error)
}

// DisputeLine is a dispute with the entry's line in its sub-queue's frozen
// list, which is what the runner disputes.
type DisputeLine struct {
	lottery.Dispute
	// InList reports whether the entry is in a frozen list; Tickets and
	// Group (the pseudonym the list publishes) are its line there.
	InList  bool
	Tickets int
	Group   string
}

// Answer is a reviewer's answer to a dispute.
type Answer struct {
	DisputeID int64
	Outcome   string
	Text      string
	Actor     lottery.StaffAccount
	Now       time.Time
}

// Entries is the receipt check a runner's dispute starts with.
// *registration.Service implements it.
type Entries interface {
	// EntryStatus checks an entry's receipt token; a wrong one is
	// lottery.ErrNotFound.
	EntryStatus(ctx context.Context, entryID, token string) (lottery.EntryView, error)
}

// UseEntries sets the receipt check runners' disputes go through.
func (s *Service) UseEntries(e Entries) { s.entries = e }

var errNoEntries = errors.New("the receipt check is not wired into the review service")

// FileDispute records a runner's dispute of their frozen line: the receipt
// token is checked, the message cut (lottery.DisputeMessage), and the
// window and the per-entry limit decided (lottery.CheckDispute) against the
// stored event, not a cached one, so a reveal ends the window at once.
// lottery.ErrNotFound, lottery.ErrDisputeWindowClosed, lottery.ErrDisputeLimit,
// field errors on message.
func (s *Service) FileDispute(ctx context.Context, entryID, token, message string) (lottery.Dispute, error) {
	if s.entries == nil {
		return lottery.Dispute{}, errNoEntries
	}
	v, err := s.entries.EntryStatus(ctx, entryID, token)
	if err != nil {
		return lottery.Dispute{}, err
	}
	msg, err := lottery.DisputeMessage(message)
	if err != nil {
		return lottery.Dispute{}, err
	}
	ev, err := s.store.EventBySlug(ctx, v.Entry.EventSlug)
	if err != nil {
		return lottery.Dispute{}, fmt.Errorf("dispute %s: %w", v.Entry.ID, err)
	}
	now := s.clock.Now()
	d := lottery.Dispute{EventID: ev.ID, EventSlug: ev.Slug, EntryID: v.Entry.ID, SubQueue: v.Entry.SubQueue,
		Message: msg, CreatedAt: now}
	out, err := s.store.FileDispute(ctx, d, func(filed int) error { return lottery.CheckDispute(ev, filed, now) })
	if err != nil {
		return lottery.Dispute{}, fmt.Errorf("dispute %s: %w", v.Entry.ID, err)
	}
	return out, nil
}

// EntryDisputes lists the disputes of an entry whose receipt token the
// caller has checked (the status page's own EntryStatus call).
func (s *Service) EntryDisputes(ctx context.Context, v lottery.EntryView) ([]DisputeLine, error) {
	ds, err := s.store.EntryDisputes(ctx, v.Entry.ID)
	if err != nil {
		return nil, fmt.Errorf("disputes of %s: %w", v.Entry.ID, err)
	}
	return ds, nil
}

// Disputes lists an event's disputes for reviewers, open ones first.
func (s *Service) Disputes(ctx context.Context, actor lottery.StaffAccount, slug string, openOnly bool) (lottery.Event, []DisputeLine, error) {
	if !lottery.CanReview(actor.Role) {
		return lottery.Event{}, nil, lottery.ErrForbidden
	}
	ev, err := s.reviewable(ctx, actor, slug)
	if err != nil {
		return lottery.Event{}, nil, fmt.Errorf("disputes %s: %w", slug, err)
	}
	ds, err := s.store.EventDisputes(ctx, ev.ID, openOnly, 500)
	if err != nil {
		return lottery.Event{}, nil, fmt.Errorf("disputes %s: %w", slug, err)
	}
	return ev, ds, nil
}

// AnswerDispute records a reviewer's answer (lottery.CheckAnswer) to an
// open dispute; the runner reads it on the status page. An upheld dispute
// is the reviewer's finding: correcting the list is the organizer's call
// before the reveal. lottery.ErrForbidden, lottery.ErrNotFound,
// lottery.ErrConflict (answered already), field errors.
func (s *Service) AnswerDispute(ctx context.Context, actor lottery.StaffAccount, id, outcome, text string) (lottery.Dispute, error) {
	if !lottery.CanReview(actor.Role) {
		return lottery.Dispute{}, lottery.ErrForbidden
	}
	n, err := ParseDisputeID(id)
	if err != nil {
		return lottery.Dispute{}, err
	}
	text, err = lottery.CheckAnswer(outcome, text)
	if err != nil {
		return lottery.Dispute{}, err
	}
	d, err := s.store.AnswerDispute(ctx, Answer{DisputeID: n, Outcome: outcome, Text: text, Actor: actor, Now: s.clock.Now()})
	if err != nil {
		return lottery.Dispute{}, fmt.Errorf("answer dispute %d: %w", n, err)
	}
	return d, nil
}

// ParseDisputeID reads a dispute id from a path; anything but a positive
// decimal is lottery.ErrNotFound, as an unknown id.
func ParseDisputeID(s string) (int64, error) {
	var n int64
	if s == "" || len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, lottery.ErrNotFound
	}
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	if n <= 0 {
		return 0, lottery.ErrNotFound
	}
	return n, nil
}
