package lottery

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/ipintel"
)

// Review decisions.
const (
	DecisionApprove       = "approve"
	DecisionReject        = "reject"
	DecisionRejectCluster = "reject_cluster"
)

// ReviewStore keeps review decisions.
type ReviewStore interface {
	// ReviewQueue lists an event's entries in review, riskiest first.
	ReviewQueue(ctx context.Context, eventID int64, f ReviewFilter) ([]Entry, error)
	// LinkedEntries lists entries of the same event sharing an identity or
	// device key with e, or its cluster.
	LinkedEntries(ctx context.Context, e Entry, limit int) ([]Entry, error)
	// Decide applies a review decision in one transaction with its log and
	// audit records and returns the entries it changed.
	// ErrInvalidTransition when the entry is not in review (or the event is frozen).
	Decide(ctx context.Context, d Decision, o OfferTx) ([]string, []OfferIssue, error)
}

// ReviewFilter narrows the review queue.
type ReviewFilter struct {
	Reason    string // a reason code, e.g. "webdriver"
	ClusterID string
	Limit     int
}

// Decision is a reviewer's ruling on an entry.
type Decision struct {
	EntryID  string
	Decision string
	Note     string
	Actor    StaffAccount
}

// ReviewDetail is everything a reviewer sees about one entry.
type ReviewDetail struct {
	Entry   Entry
	Event   Event
	Linked  []Entry
	Network ipintel.Network // where the entry's address is, looked up now
	// QueueJoin is the assessment of the waiting-room join that admitted
	// the entry (ordered sub-queues); nil for drawn ones.
	QueueJoin *antibot.Assessment
	// OTPRequests are the address's latest code requests for the event,
	// newest first, with their assessments (refused ones included).
	OTPRequests []OTPRequest
}

// CanReview reports whether a role may work the review queue.
func CanReview(r Role) bool { return r == RoleReviewer || r == RoleOrganizer }

// ReviewQueue lists an event's flagged entries, riskiest first.
func (s *Service) ReviewQueue(ctx context.Context, actor StaffAccount, slug string, f ReviewFilter) (Event, []Entry, error) {
	if !CanReview(actor.Role) {
		return Event{}, nil, ErrForbidden
	}
	ev, err := s.store.EventBySlug(ctx, slug)
	if err != nil {
		return Event{}, nil, fmt.Errorf("review queue %s: %w", slug, err)
	}
	if f.ClusterID != "" {
		if _, err := uuid.Parse(f.ClusterID); err != nil {
			return Event{}, nil, Fieldf("cluster", "give a cluster id from the queue")
		}
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	entries, err := s.store.ReviewQueue(ctx, ev.ID, f)
	if err != nil {
		return Event{}, nil, fmt.Errorf("review queue %s: %w", slug, err)
	}
	return ev, entries, nil
}

// ReviewEntry shows one entry with every signal, its reasons and the entries
// linked to it.
func (s *Service) ReviewEntry(ctx context.Context, actor StaffAccount, id string) (ReviewDetail, error) {
	if !CanReview(actor.Role) {
		return ReviewDetail{}, ErrForbidden
	}
	if _, err := uuid.Parse(id); err != nil {
		return ReviewDetail{}, ErrNotFound // an entry id is a UUID
	}
	e, err := s.store.Entry(ctx, strings.ToLower(id))
	if err != nil {
		return ReviewDetail{}, fmt.Errorf("review %s: %w", id, err)
	}
	ev, err := s.store.EventBySlug(ctx, e.EventSlug)
	if err != nil {
		return ReviewDetail{}, fmt.Errorf("review %s: %w", id, err)
	}
	linked, err := s.store.LinkedEntries(ctx, e, 50)
	if err != nil {
		return ReviewDetail{}, fmt.Errorf("review %s: %w", id, err)
	}
	d := ReviewDetail{Entry: e, Event: ev, Linked: linked, Network: s.Network(e.ClientIP)}
	if t, err := s.store.EntryTicket(ctx, e.ID); err == nil {
		d.QueueJoin = &t.Risk
	} else if !errors.Is(err, ErrNotFound) {
		return ReviewDetail{}, fmt.Errorf("review %s: %w", id, err)
	}
	if d.OTPRequests, err = s.store.OTPRequests(ctx, e.EventID, e.EmailKey, 10); err != nil {
		return ReviewDetail{}, fmt.Errorf("review %s: %w", id, err)
	}
	if err := s.store.Audit(ctx, actor.ID, "review.view", e.ID, nil); err != nil {
		return ReviewDetail{}, fmt.Errorf("review %s: %w", id, err)
	}
	return d, nil
}

// Decide applies a reviewer's decision: approve (into the draw), reject,
// or reject the entry's whole cluster. Each change is logged and audited.
func (s *Service) Decide(ctx context.Context, actor StaffAccount, id, decision, note string) ([]string, error) {
	if !CanReview(actor.Role) {
		return nil, ErrForbidden
	}
	switch decision {
	case DecisionApprove, DecisionReject, DecisionRejectCluster:
	default:
		return nil, Fieldf("decision", "use approve, reject or reject_cluster")
	}
	note = strings.TrimSpace(note)
	if len(note) > 1000 {
		return nil, Fieldf("note", "keep the note under 1000 characters")
	}
	if decision != DecisionApprove && note == "" {
		return nil, Fieldf("note", "say why the entry is rejected")
	}
	if _, err := uuid.Parse(id); err != nil {
		return nil, ErrNotFound // an entry id is a UUID
	}
	e, err := s.store.Entry(ctx, strings.ToLower(id))
	if err != nil {
		return nil, fmt.Errorf("decide %s: %w", id, err)
	}
	ev, err := s.cachedEvent(ctx, e.EventSlug)
	if err != nil {
		return nil, fmt.Errorf("decide %s: %w", id, err)
	}
	// A rejection can free a slot an entry held in an ordered group.
	changed, issued, err := s.store.Decide(ctx, Decision{EntryID: e.ID, Decision: decision, Note: note, Actor: actor},
		s.offerTx(ev, "", ""))
	s.notifyOffers(ctx, issued)
	if err != nil {
		return nil, fmt.Errorf("decide %s: %w", id, err)
	}
	return changed, nil
}
