package lottery

import (
	"context"
	"time"

	"github.com/startline/startline/antibot"
)

// Actor names who caused a change, for the event and audit logs. Staff
// actors carry their account; the system and runners carry only a label.
type Actor struct {
	StaffID int64
	OrgID   int64  // the staff member's organization; 0 for runners and the system
	Label   string // "runner", "system", "staff:<id>"
}

// LogRecord is one row of an event's append-only log.
type LogRecord struct {
	Kind       string
	EntryID    string
	FromStatus string
	ToStatus   string
	Actor      string
	Details    map[string]any
}

// Mail is one outgoing message in the outbox. A mail rendered at write time
// (the one-time code, the staff alert) has its Subject and Body; an intent
// (an offer's mail) has only its Intent and ids, written in the transaction
// of the change it tells about, and is rendered from lottery/mails when it
// is sent or read (Pending).
type Mail struct {
	ID      int64
	To      string
	Subject string
	Body    string // text/plain
	HTML    string // text/html: the same text through lottery/mails' layout
	Kind    string // the category: otp, offer, entry, staff_alert
	Intent  string // the mails template it was or is rendered from
	// What an intent is about; empty for mails rendered at write time.
	EventID int64
	EntryID string
	OfferID string
	// Detail is a fact of the change fixed when the intent was queued, so
	// the mail reads the same however late it is rendered: the receipt's
	// entry status at apply, a rejection's category when the decision names
	// it (a cluster rejected whole), a refund's amount in minor units. Never
	// personal data.
	Detail    string
	CreatedAt time.Time
	SentAt    *time.Time
	Attempts  int
}

// Pending reports whether m is an intent still to be rendered.
func (m Mail) Pending() bool { return m.Intent != "" && m.Subject == "" && m.Body == "" }

// OTPRequest is one stored code request and its assessment.
type OTPRequest struct {
	RequestedAt time.Time
	Mailed      bool
	Risk        antibot.Assessment
}

// EventStore keeps events and their lifecycle.
type EventStore interface {
	// ListEvents returns every event that is not a draft, newest window first.
	ListEvents(ctx context.Context) ([]Event, error)
	// OrgEvents returns every event of an organization, drafts included,
	// newest window first.
	OrgEvents(ctx context.Context, orgID int64) ([]Event, error)
	// EventBySlug returns the event with its courses; ErrNotFound.
	EventBySlug(ctx context.Context, slug string) (Event, error)
	// CreateEvent stores a draft event; ErrEventExists.
	CreateEvent(ctx context.Context, e Event, actor Actor) (Event, error)
	// ReplaceDraft replaces a draft event's columns, courses and pace
	// groups with e's (e.ID names it), re-checking under a row lock that it
	// is still a draft (ErrNotDraft); audited and logged.
	ReplaceDraft(ctx context.Context, e Event, actor Actor) (Event, error)
	// TransitionEvent moves an event from one stored state to another in one
	// transaction, recording the change in the event and audit logs. When
	// commit is set it stores the sealed seed and its commitment too.
	// ErrInvalidTransition when the event is no longer in state from.
	TransitionEvent(ctx context.Context, slug string, from, to EventStatus, commit *SeedCommit, actor Actor) (Event, error)
	// SettleEvent closes a drawn event's waitlist (ActionSettle): under
	// its sub-queues' locks, the ones every re-offer takes, the event becomes
	// settled and every entry still waiting is mailed entry.not_drawn, once;
	// logged and audited. ErrInvalidTransition when it is not drawn with
	// its results published.
	SettleEvent(ctx context.Context, slug string, actor Actor) (Event, error)
	// SetEventForm replaces an event's form if its registration has not
	// opened at now (Event.CheckFormChange), with an audit row naming the
	// versions (never answers). ErrNotFound; invalid_transition once open.
	SetEventForm(ctx context.Context, slug string, form Form, now time.Time, actor Actor) (Event, error)
	// EditEvent stores an edit of the event's details, prices and refund
	// policy (after, validated by EventPatch.Apply from before) with its
	// event-log and audit rows; under the event's lock it refuses terms
	// once TermsOpen is over (ErrTermsFixed) and an event that moved on
	// since before was read (ErrConflict).
	EditEvent(ctx context.Context, before, after Event, changed []string, terms bool, now time.Time, actor Actor) (Event, error)
}

// SeedCommit is a sealed draw seed and its public commitment.
type SeedCommit struct {
	Sealed     []byte
	Commitment string
}

// MailStore reads and settles the outbox.
type MailStore interface {
	// Mail returns one outbox message; ErrNotFound.
	Mail(ctx context.Context, id int64) (Mail, error)
	// OutboxFor lists messages to an address (all when to is empty), newest first.
	OutboxFor(ctx context.Context, to string, limit int) ([]Mail, error)
	// UnsentMail lists the ids of messages older than before that were
	// never sent, above afterID in id order (a cursor over a backlog).
	UnsentMail(ctx context.Context, before time.Time, afterID int64, limit int) ([]int64, error)
	// MarkMailSent records delivery; redact drops the body (it may hold a code).
	MarkMailSent(ctx context.Context, id int64, at time.Time, redact bool) error
	// MarkMailFailed records a failed attempt.
	MarkMailFailed(ctx context.Context, id int64, reason string) error
	// AbandonMail records a mail that can never be sent (an intent whose
	// entry was erased): it is not swept again.
	AbandonMail(ctx context.Context, id int64, reason string) error
}

// Store is what the root service needs from persistence: the event
// lifecycle. Each concept package declares its own store
// (registration.Store, draws.Store, ...); lottery/postgres implements all.
type Store interface {
	EventStore
	OfferStore
	AuditStore
}

// Notifier hears about committed work that a background worker delivers.
type Notifier interface {
	// MailQueued asks for an outbox message to be sent. A failure is not
	// fatal: the outbox sweeper retries unsent mail.
	MailQueued(ctx context.Context, outboxID int64) error
	// DrawRequested asks for one sub-queue to be drawn.
	DrawRequested(ctx context.Context, subqueueID int64) error
	// OffersIssued queues the offers' mails and schedules their expiry.
	OffersIssued(ctx context.Context, issued []OfferIssue) error
}
