// Package registration is how a runner gets in: the e-mail code
// (RequestOTP, or WithholdOTP past an address's inbox cap), the
// application (Apply: validated in form order, scored by antibot, stored
// with the code, the group, the identity keys and the idempotency record in
// one transaction of the store), the Idempotency-Key pre-check the request
// gate runs before it spends a proof of work, and the runner's view of
// their entry (EntryStatus). What decides an outcome inside that
// transaction (code tries, groups, duplicates, the entry's status) is the
// root package's pure rules (lottery/rules_*.go).
package registration

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/ipintel"
	"github.com/startline/startline/lottery"
)

// Store is what registration asks of persistence. lottery/postgres.Store
// implements it.
type Store interface {
	// SaveOTP replaces the person's code for the event and queues the mail,
	// in one transaction; it returns the outbox id.
	SaveOTP(ctx context.Context, otp OTPRecord, mail lottery.Mail) (int64, error)
	// RefuseOTP records a refused code request's assessment (no code, no mail).
	RefuseOTP(ctx context.Context, otp OTPRecord) error
	// Apply checks and consumes the e-mail code and stores the entry, its log
	// record and its idempotency record in one transaction. Errors:
	// ErrInvalidOTP, ErrDuplicateEntry, ErrClosed, ErrGroupFull,
	// ErrIdempotencyMismatch, a field error for a group in another
	// sub-queue.
	Apply(ctx context.Context, tx ApplyTx) (ApplyOutcome, error)
	// IdempotencyHash returns the request hash stored with an event's
	// Idempotency-Key by an earlier application; found is false when the
	// key was never used. A read outside any transaction: the request gate
	// asks it before spending a proof of work, Apply decides under its locks.
	IdempotencyHash(ctx context.Context, eventID int64, key string) (hash []byte, found bool, err error)
	// Entry returns an entry by id; ErrNotFound.
	Entry(ctx context.Context, id string) (lottery.Entry, error)
	// TicketHistory finds the person's record in ev's series (earlier
	// editions not won, imported history) by their identity keys; nil when
	// ev is in no series.
	TicketHistory(ctx context.Context, ev lottery.Event, emailKey, phone, personKey string) ([]lottery.HistoryMatch, error)
	// EntryOffer returns an entry's offer; ErrNotFound.
	EntryOffer(ctx context.Context, entryID string) (lottery.Offer, error)
	// EntryPlace returns where an entry stands in its draw; ErrNotFound
	// when it was not drawn.
	EntryPlace(ctx context.Context, entryID string) (lottery.DrawPlace, error)
	// SetAnswers replaces an entry's answers while its event's registration
	// is open at now, with an event-log record of the kind only (no
	// values). ErrNotFound; ErrClosed once registration closed.
	SetAnswers(ctx context.Context, entryID string, answers lottery.Answers, now time.Time) error
	// EntryConsents lists the documents an entry's runner accepted, oldest
	// first.
	EntryConsents(ctx context.Context, entryID string) ([]lottery.Consent, error)
}

// Events is what registration reads through the root service: its event
// cache and the IP tables. *lottery.Service implements it.
type Events interface {
	// PublicEvent returns a non-draft event; drafts are ErrNotFound.
	PublicEvent(ctx context.Context, slug string) (lottery.Event, error)
	// CachedEvent returns an event, drafts included; ErrNotFound.
	CachedEvent(ctx context.Context, slug string) (lottery.Event, error)
	// Network is what the IP tables know of a client address.
	Network(ip string) ipintel.Network
}

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

// ApplyTx is everything one application writes, in one transaction.
type ApplyTx struct {
	Entry          lottery.Entry
	OTPHash        []byte
	MaxOTPAttempts int
	MaxGroupSize   int
	Now            time.Time
	IdempotencyKey string // empty when the client sent none
	RequestHash    []byte
	// Admission is set for an ordered sub-queue: the admitted ticket the
	// entry uses up, and how a free slot is offered to it.
	Admission *AdmissionUse
	// Card is the card saved for the entry where the event has card on
	// file (nil otherwise), stored with it; EntriesPerCard is how many
	// entries of the event one card may pay for (lottery.SharedCard).
	Card           *lottery.SavedCard
	EntriesPerCard int
}

// AdmissionUse is the waiting-room ticket an ordered application uses.
type AdmissionUse struct {
	TicketID string
	Offers   lottery.OfferTx
}

// ApplyOutcome is the stored result of an application: the new entry, or
// the entry an earlier request with the same Idempotency-Key created.
type ApplyOutcome struct {
	EntryID  string
	Status   lottery.EntryStatus
	SubQueue string
	Replayed bool
	Issued   []lottery.OfferIssue // an ordered sub-queue's slot offered at once
	Mails    []int64              // the receipt's outbox id, for the notifier
}

// Service runs code requests, applications and the runner's entry view.
type Service struct {
	store      Store
	events     Events
	keys       *lottery.Keys
	clock      lottery.Clock
	notify     lottery.Notifier
	log        *slog.Logger
	cfg        lottery.Config
	random     io.Reader
	scorer     antibot.Scorer
	admissions lottery.AdmissionCodec // checks the waiting room's admission tokens at apply
	observer   ApplyObserver          // counts decisions for the operators; nil: none
	cards      lottery.CardProvider   // saves cards for events with card on file (cards.go); nil: none
}

// ApplyObserver hears each stored application's decision and the codes of
// its risk reasons (never the entry or the runner). It lets the metrics
// count decisions without this package importing a metrics library.
type ApplyObserver interface {
	Applied(decision antibot.Decision, reasons []string)
}

// UseObserver sets who hears the decisions. Call it before serving.
func (s *Service) UseObserver(o ApplyObserver) { s.observer = o }

// NewService wires a Service with the root service's Config (its phone
// region, disposable-mail list, risk rules and random source, from which
// e-mail codes and entry ids come). notify may be nil (nothing is sent).
func NewService(store Store, events Events, keys *lottery.Keys, clock lottery.Clock, notify lottery.Notifier, log *slog.Logger, cfg lottery.Config) *Service {
	cfg = cfg.WithDefaults()
	return &Service{store: store, events: events, keys: keys, clock: clock, notify: notify, log: log, cfg: cfg,
		random: cfg.Random, scorer: antibot.Scorer{Rules: cfg.Rules}, admissions: lottery.NewAdmissionCodec(keys)}
}

// Now is the service clock (the request gate expires proofs of work by it).
func (s *Service) Now() time.Time { return s.clock.Now() }
