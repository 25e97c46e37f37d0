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
	Body    string
	Kind    string // the category: otp, offer, staff_alert
	Intent  string // the mails template it was or is rendered from
	// What an intent is about; empty for mails rendered at write time.
	EventID   int64
	EntryID   string
	OfferID   string
	CreatedAt time.Time
	SentAt    *time.Time
	Attempts  int
}

// Pending reports whether m is an intent still to be rendered.
func (m Mail) Pending() bool { return m.Intent != "" && m.Subject == "" && m.Body == "" }

// OTPRecord is a fresh e-mail code, stored as its keyed hash.
type OTPRecord struct {
	EventID   int64
	EmailKey  string
	CodeHash  []byte
	ExpiresAt time.Time
	// The request's assessment, kept whether the code is mailed or not.
	RequestedAt time.Time
	Risk        antibot.Assessment
	ClientIP    string
	UserAgent   string
}

// OTPRequest is one stored code request and its assessment.
type OTPRequest struct {
	RequestedAt time.Time
	Mailed      bool
	Risk        antibot.Assessment
}

// ApplyTx is everything one application writes, in one transaction.
type ApplyTx struct {
	Entry          Entry
	OTPHash        []byte
	MaxOTPAttempts int
	MaxGroupSize   int
	Now            time.Time
	IdempotencyKey string // empty when the client sent none
	RequestHash    []byte
	// Admission is set for an ordered sub-queue: the admitted ticket the
	// entry uses up, and how a free slot is offered to it.
	Admission *AdmissionUse
}

// AdmissionUse is the waiting-room ticket an ordered application uses.
type AdmissionUse struct {
	TicketID string
	Offers   OfferTx
}

// ApplyOutcome is the stored result of an application: the new entry, or
// the entry an earlier request with the same Idempotency-Key created.
type ApplyOutcome struct {
	EntryID  string
	Status   EntryStatus
	SubQueue string
	Replayed bool
	Issued   []OfferIssue // an ordered sub-queue's slot offered at once
}

// EventStore keeps events and their lifecycle.
type EventStore interface {
	// ListEvents returns every event that is not a draft, newest window first.
	ListEvents(ctx context.Context) ([]Event, error)
	// EventByID returns the event with its courses; ErrNotFound.
	EventByID(ctx context.Context, id int64) (Event, error)
	// EventBySlug returns the event with its courses; ErrNotFound.
	EventBySlug(ctx context.Context, slug string) (Event, error)
	// CreateEvent stores a draft event; ErrEventExists.
	CreateEvent(ctx context.Context, e Event, actor Actor) (Event, error)
	// TransitionEvent moves an event from one stored state to another in one
	// transaction, recording the change in the event and audit logs. When
	// commit is set it stores the sealed seed and its commitment too.
	// ErrInvalidTransition when the event is no longer in state from.
	TransitionEvent(ctx context.Context, slug string, from, to EventStatus, commit *SeedCommit, actor Actor) (Event, error)
}

// SeedCommit is a sealed draw seed and its public commitment.
type SeedCommit struct {
	Sealed     []byte
	Commitment string
}

// EntryStore keeps applications, codes and the outbox.
type EntryStore interface {
	// SaveOTP replaces the person's code for the event and queues the mail,
	// in one transaction; it returns the outbox id.
	SaveOTP(ctx context.Context, otp OTPRecord, mail Mail) (int64, error)
	// RefuseOTP records a refused code request's assessment (no code, no mail).
	RefuseOTP(ctx context.Context, otp OTPRecord) error
	// OTPRequests lists an address's latest code requests for an event, newest first.
	OTPRequests(ctx context.Context, eventID int64, emailKey string, limit int) ([]OTPRequest, error)
	// Apply checks and consumes the e-mail code and stores the entry, its log
	// record and its idempotency record in one transaction. Errors:
	// ErrInvalidOTP, ErrDuplicateEntry, ErrClosed, ErrGroupFull,
	// ErrIdempotencyMismatch, a field error for a group in another sub-queue.
	Apply(ctx context.Context, tx ApplyTx) (ApplyOutcome, error)
	// IdempotencyHash returns the request hash stored with an event's
	// Idempotency-Key by an earlier application; found is false when the
	// key was never used. A read outside any transaction: the request gate
	// asks it before spending a proof of work, Apply decides under its locks.
	IdempotencyHash(ctx context.Context, eventID int64, key string) (hash []byte, found bool, err error)
	// Entry returns an entry by id; ErrNotFound.
	Entry(ctx context.Context, id string) (Entry, error)
	// EntryPlace returns where an entry stands in its draw; ErrNotFound
	// when it was not drawn.
	EntryPlace(ctx context.Context, entryID string) (DrawPlace, error)
}

// MailStore reads and settles the outbox.
type MailStore interface {
	// Mail returns one outbox message; ErrNotFound.
	Mail(ctx context.Context, id int64) (Mail, error)
	// OutboxFor lists messages to an address (all when to is empty), newest first.
	OutboxFor(ctx context.Context, to string, limit int) ([]Mail, error)
	// UnsentMail lists messages older than before that were never sent.
	UnsentMail(ctx context.Context, before time.Time, limit int) ([]Mail, error)
	// MarkMailSent records delivery; redact drops the body (it may hold a code).
	MarkMailSent(ctx context.Context, id int64, at time.Time, redact bool) error
	// MarkMailFailed records a failed attempt.
	MarkMailFailed(ctx context.Context, id int64, reason string) error
}

// AuditStore appends to the staff audit log.
type AuditStore interface {
	// Audit appends a staff action to the audit log.
	Audit(ctx context.Context, staffID int64, action, target string, details map[string]any) error
}

// Store is everything the service needs from persistence.
type Store interface {
	EventStore
	EntryStore
	MailStore
	AuditStore
	ClusterStore
	OfferStore
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
