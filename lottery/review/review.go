// Package review is the reviewers' work: the queue of entries the anti-bot
// scoring or the cluster sweep sent to review, one entry with every signal
// and the entries linked to it, and the decisions (approve, reject, reject
// the whole cluster), each logged and audited in the transaction that
// applies it. Who may review is lottery.CanReview. The dispute window's
// disputes are here too (disputes.go): runners file them against their
// frozen line, reviewers answer them. Clustering is here too
// (RecomputeClusters): the worker's sweep runs it over every open event,
// and the event lifecycle once more at freeze, through lottery.Clusters.
package review

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/uuid"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/ipintel"
	"github.com/startline/startline/lottery"
)

// Review decisions.
const (
	DecisionApprove       = "approve"
	DecisionReject        = "reject"
	DecisionRejectCluster = "reject_cluster"
)

// Store is what the review concept asks of persistence.
type Store interface {
	// EventBySlug returns the event with its courses; lottery.ErrNotFound.
	EventBySlug(ctx context.Context, slug string) (lottery.Event, error)
	// Entry returns an entry by id; lottery.ErrNotFound.
	Entry(ctx context.Context, id string) (lottery.Entry, error)
	// ReviewQueue lists an event's entries in review, riskiest first.
	ReviewQueue(ctx context.Context, eventID int64, f Filter) ([]lottery.Entry, error)
	// LinkedEntries lists entries of the same event sharing an identity or
	// device key with e, or its cluster.
	LinkedEntries(ctx context.Context, e lottery.Entry, limit int) ([]lottery.Entry, error)
	// EntryTicket returns the ticket an entry was admitted with; lottery.ErrNotFound.
	EntryTicket(ctx context.Context, entryID string) (lottery.QueueTicket, error)
	// OTPRequests lists an address's latest code requests for an event, newest first.
	OTPRequests(ctx context.Context, eventID int64, emailKey string, limit int) ([]lottery.OTPRequest, error)
	// Audit appends a staff action to the audit log.
	Audit(ctx context.Context, staffID int64, action, target string, details map[string]any) error
	// Decide applies a review decision in one transaction with its log and
	// audit records and returns the entries it changed and the offers a
	// freed ordered slot issued. lottery.ErrInvalidTransition when the
	// entry is not in review (or the event is frozen).
	Decide(ctx context.Context, d Decision, o lottery.OfferTx) ([]string, []lottery.OfferIssue, error)
	// DecideClaim rules on an entry's pending ticket claim in one
	// transaction with its log and audit records: the store loads the entry
	// and its event under lock and applies lottery.ClaimDecision.
	// ErrTicketsFrozen after freeze, ErrInvalidTransition when no claim is
	// pending, ErrNotFound (also for an entry of an event outside the
	// actor's organization).
	DecideClaim(ctx context.Context, d ClaimRuling) (lottery.Entry, error)
	// ClusterInputs lists an event's entries' identity and device keys.
	ClusterInputs(ctx context.Context, eventID int64) ([]ClusterInput, error)
	// SaveClusters stores cluster ids and flags entries for review, in one
	// transaction, with a log record per flagged entry.
	SaveClusters(ctx context.Context, u ClusterUpdate) (flagged int, err error)
	// OpenEvents lists the events whose entries may still change.
	OpenEvents(ctx context.Context) ([]lottery.Event, error)
	DisputeStore
	AppealStore
}

// Notifier hands offers a decision issued to the workers (mail and
// expiry); the worker client is one. A failure is logged: the reconciler
// catches up from PostgreSQL.
type Notifier interface {
	OffersIssued(ctx context.Context, issued []lottery.OfferIssue) error
}

// Service runs the review queue and decisions.
type Service struct {
	store    Store
	clock    lottery.Clock
	notify   Notifier
	log      *slog.Logger
	networks *ipintel.DB
	entries  Entries          // receipt checks for runners' disputes (UseEntries)
	observer DecisionObserver // counts decisions for the operators; nil: none
}

// NewService wires a Service. notify may be nil; networks nil uses the
// embedded IP tables.
func NewService(store Store, clock lottery.Clock, notify Notifier, log *slog.Logger, networks *ipintel.DB) *Service {
	return &Service{store: store, clock: clock, notify: notify, log: log, networks: networks}
}

// network is what the IP tables know of a client address, for reviewers.
func (s *Service) network(ip string) ipintel.Network {
	db := s.networks
	if db == nil {
		db = ipintel.Default()
	}
	return db.LookupString(ip)
}

// Filter narrows the review queue.
type Filter struct {
	Reason    string // a reason code, e.g. "webdriver"
	ClusterID string
	Limit     int
}

// Decision is a reviewer's ruling on an entry.
type Decision struct {
	EntryID  string
	Decision string
	Note     string
	Actor    lottery.StaffAccount
}

// Detail is everything a reviewer sees about one entry.
type Detail struct {
	Entry   lottery.Entry
	Event   lottery.Event
	Linked  []lottery.Entry
	Network ipintel.Network // where the entry's address is, looked up now
	// QueueJoin is the assessment of the waiting-room join that admitted
	// the entry (ordered sub-queues); nil for drawn ones.
	QueueJoin *antibot.Assessment
	// OTPRequests are the address's latest code requests for the event,
	// newest first, with their assessments (refused ones included).
	OTPRequests []lottery.OTPRequest
}

// Queue lists an event's flagged entries, riskiest first.
func (s *Service) Queue(ctx context.Context, actor lottery.StaffAccount, slug string, f Filter) (lottery.Event, []lottery.Entry, error) {
	if !lottery.CanReview(actor.Role) {
		return lottery.Event{}, nil, lottery.ErrForbidden
	}
	ev, err := s.reviewable(ctx, actor, slug)
	if err != nil {
		return lottery.Event{}, nil, fmt.Errorf("review queue %s: %w", slug, err)
	}
	if f.ClusterID != "" {
		if _, err := uuid.Parse(f.ClusterID); err != nil {
			return lottery.Event{}, nil, lottery.Fieldf("cluster", "give a cluster id from the queue")
		}
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	entries, err := s.store.ReviewQueue(ctx, ev.ID, f)
	if err != nil {
		return lottery.Event{}, nil, fmt.Errorf("review queue %s: %w", slug, err)
	}
	return ev, entries, nil
}

// Entry shows one entry with every signal, its reasons and the entries
// linked to it.
func (s *Service) Entry(ctx context.Context, actor lottery.StaffAccount, id string) (Detail, error) {
	if !lottery.CanReview(actor.Role) {
		return Detail{}, lottery.ErrForbidden
	}
	if _, err := uuid.Parse(id); err != nil {
		return Detail{}, lottery.ErrNotFound // an entry id is a UUID
	}
	e, err := s.store.Entry(ctx, strings.ToLower(id))
	if err != nil {
		return Detail{}, fmt.Errorf("review %s: %w", id, err)
	}
	ev, err := s.reviewable(ctx, actor, e.EventSlug)
	if err != nil {
		return Detail{}, fmt.Errorf("review %s: %w", id, err)
	}
	linked, err := s.store.LinkedEntries(ctx, e, 50)
	if err != nil {
		return Detail{}, fmt.Errorf("review %s: %w", id, err)
	}
	d := Detail{Entry: e, Event: ev, Linked: linked, Network: s.network(e.ClientIP)}
	if t, err := s.store.EntryTicket(ctx, e.ID); err == nil {
		d.QueueJoin = &t.Risk
	} else if !errors.Is(err, lottery.ErrNotFound) {
		return Detail{}, fmt.Errorf("review %s: %w", id, err)
	}
	if d.OTPRequests, err = s.store.OTPRequests(ctx, e.EventID, e.EmailKey, 10); err != nil {
		return Detail{}, fmt.Errorf("review %s: %w", id, err)
	}
	if err := s.store.Audit(ctx, actor.ID, "review.view", e.ID, nil); err != nil {
		return Detail{}, fmt.Errorf("review %s: %w", id, err)
	}
	return d, nil
}

// Decide applies a reviewer's decision: approve (into the draw), reject,
// or reject the entry's whole cluster. Each change is logged and audited.
func (s *Service) Decide(ctx context.Context, actor lottery.StaffAccount, id, decision, note string) ([]string, error) {
	if !lottery.CanReview(actor.Role) {
		return nil, lottery.ErrForbidden
	}
	note, err := CheckDecision(decision, note)
	if err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(id); err != nil {
		return nil, lottery.ErrNotFound // an entry id is a UUID
	}
	e, err := s.store.Entry(ctx, strings.ToLower(id))
	if err != nil {
		return nil, fmt.Errorf("decide %s: %w", id, err)
	}
	ev, err := s.reviewable(ctx, actor, e.EventSlug)
	if err != nil {
		return nil, fmt.Errorf("decide %s: %w", id, err)
	}
	// A rejection can free a slot an entry held in an ordered group.
	changed, issued, err := s.store.Decide(ctx, Decision{EntryID: e.ID, Decision: decision, Note: note, Actor: actor},
		lottery.OfferTx{Now: s.clock.Now(), Hold: ev.OfferHold})
	s.notifyOffers(ctx, issued)
	if err != nil {
		return nil, fmt.Errorf("decide %s: %w", id, err)
	}
	s.observed(decision)
	return changed, nil
}

// Claim decisions.
const (
	ClaimAccept  = "accept"
	ClaimDecline = "decline"
)

// ClaimRuling is a reviewer's ruling on a ticket claim.
type ClaimRuling struct {
	EntryID string
	Accept  bool
	Note    string
	Actor   lottery.StaffAccount
}

// DecideClaim accepts or declines an entry's claim of more earlier
// applications than the record shows: accepted, its tickets follow the
// claim; declined, they stay at the record. Refused after freeze
// (CodeTicketsFrozen, 409): ticket counts are fixed then.
func (s *Service) DecideClaim(ctx context.Context, actor lottery.StaffAccount, id, decision, note string) (lottery.Entry, error) {
	if !lottery.CanReview(actor.Role) {
		return lottery.Entry{}, lottery.ErrForbidden
	}
	if decision != ClaimAccept && decision != ClaimDecline {
		return lottery.Entry{}, lottery.Fieldf("decision", "use accept or decline")
	}
	note = strings.TrimSpace(note)
	if len(note) > 1000 {
		return lottery.Entry{}, lottery.Fieldf("note", "keep the note under 1000 characters")
	}
	if _, err := uuid.Parse(id); err != nil {
		return lottery.Entry{}, lottery.ErrNotFound
	}
	e, err := s.store.DecideClaim(ctx, ClaimRuling{EntryID: strings.ToLower(id), Accept: decision == ClaimAccept, Note: note, Actor: actor})
	if err != nil {
		return lottery.Entry{}, fmt.Errorf("decide claim %s: %w", id, err)
	}
	return e, nil
}

// reviewable loads an event whose entries the account may review
// (lottery.MayReview: staff of the event's organization); another
// organization's event is lottery.ErrNotFound, as if it did not exist.
func (s *Service) reviewable(ctx context.Context, actor lottery.StaffAccount, slug string) (lottery.Event, error) {
	ev, err := s.store.EventBySlug(ctx, slug)
	if err != nil {
		return lottery.Event{}, err
	}
	if !lottery.MayReview(actor, ev) {
		return lottery.Event{}, lottery.ErrNotFound
	}
	return ev, nil
}

// notifyOffers hands issued offers to the workers; failures are logged, the
// outbox sweep and the offer reconciler catch up from PostgreSQL.
func (s *Service) notifyOffers(ctx context.Context, issued []lottery.OfferIssue) {
	if s.notify == nil || len(issued) == 0 {
		return
	}
	if err := s.notify.OffersIssued(ctx, issued); err != nil {
		s.log.WarnContext(ctx, "offer tasks not enqueued; the reconciler will expire from PostgreSQL", "offers", len(issued), "err", err)
	}
}

// CheckDecision is the rule for a reviewer's ruling: the decision is
// approve, reject or reject_cluster; the note (trimmed, returned) is at most
// 1000 bytes and required for a rejection, so every rejection says why.
// Errors are field errors (decision, note).
func CheckDecision(decision, note string) (string, error) {
	switch decision {
	case DecisionApprove, DecisionReject, DecisionRejectCluster:
	default:
		return "", lottery.Fieldf("decision", "use approve, reject or reject_cluster")
	}
	note = strings.TrimSpace(note)
	if len(note) > 1000 {
		return "", lottery.Fieldf("note", "keep the note under 1000 characters")
	}
	if decision != DecisionApprove && note == "" {
		return "", lottery.Fieldf("note", "say why the entry is rejected")
	}
	return note, nil
}
