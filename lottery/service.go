package lottery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"golang.org/x/sync/singleflight"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/antibot/ipintel"
	"github.com/startline/startline/internal/textin"
	"github.com/startline/startline/lottery/mails"
)

// OTP policy: 6 digits, valid 10 minutes, 5 attempts, single use.
const (
	OTPDigits      = 6
	OTPValidity    = 10 * time.Minute
	OTPMaxAttempts = 5
)

// Config tunes a Service; zero values take the defaults.
type Config struct {
	EventCacheTTL time.Duration // how stale a cached event read may be (default 2s)
	PhoneRegion   string        // region for phone numbers given without +country (default KR)
	Disposable    *identity.DisposableList
	Rules         antibot.Rules
	Networks      *ipintel.DB // where client addresses are; nil: the embedded tables, loaded on first use
	// Random is where the service's secrets and ids come from (seed secrets,
	// e-mail codes, entry and ticket ids; staff credentials come from
	// staff.Config.Random); nil: crypto/rand. It must be safe for
	// concurrent use. Tests may fix it.
	Random io.Reader
}

// Service runs registration: events, e-mail codes, applications, status
// and organizer actions. Staff accounts and logins are lottery/staff's.
type Service struct {
	store  Store
	keys   *Keys
	clock  Clock
	notify Notifier
	log    *slog.Logger
	cfg    Config
	random io.Reader
	scorer antibot.Scorer

	draws DrawSteps

	cacheMu sync.RWMutex
	cache   map[string]cachedEvent
	flight  singleflight.Group

	admissions AdmissionCodec // checks the waiting room's admission tokens at apply
}

type cachedEvent struct {
	ev  Event
	err error
	at  time.Time
}

// WithDefaults fills in the zero values of a Config (lottery/waitroom
// shares the root service's Config and so its defaults).
func (cfg Config) WithDefaults() Config {
	if cfg.EventCacheTTL == 0 {
		cfg.EventCacheTTL = 2 * time.Second
	}
	if cfg.PhoneRegion == "" {
		cfg.PhoneRegion = "KR"
	}
	if cfg.Disposable == nil {
		cfg.Disposable = identity.DefaultDisposable()
	}
	if cfg.Rules.Version == "" {
		cfg.Rules = antibot.DefaultRules
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	return cfg
}

// NewService wires a Service. notify may be nil (nothing is sent).
func NewService(store Store, keys *Keys, clock Clock, notify Notifier, log *slog.Logger, cfg Config) *Service {
	cfg = cfg.WithDefaults()
	return &Service{store: store, keys: keys, clock: clock, notify: notify, log: log, cfg: cfg, random: cfg.Random,
		scorer: antibot.Scorer{Rules: cfg.Rules}, cache: map[string]cachedEvent{}, admissions: NewAdmissionCodec(keys)}
}

// Network is what the IP tables know of a client address (country and
// network kind, never the address itself), for scoring and for reviewers.
func (s *Service) Network(ip string) ipintel.Network {
	db := s.cfg.Networks
	if db == nil {
		db = ipintel.Default()
	}
	return db.LookupString(ip)
}

// Now is the service clock.
func (s *Service) Now() time.Time { return s.clock.Now() }

// ListEvents returns the events runners may see.
func (s *Service) ListEvents(ctx context.Context) ([]Event, error) {
	evs, err := s.store.ListEvents(ctx)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return evs, nil
}

// PublicEvent returns a non-draft event from a short-lived cache: event reads
// are the hottest path and change rarely. Drafts are ErrNotFound.
func (s *Service) PublicEvent(ctx context.Context, slug string) (Event, error) {
	ev, err := s.cachedEvent(ctx, slug)
	if err != nil {
		return Event{}, err
	}
	if !ev.Public() {
		return Event{}, ErrNotFound
	}
	return ev, nil
}

func (s *Service) cachedEvent(ctx context.Context, slug string) (Event, error) {
	// A cache's age is real elapsed time, not the service clock: a test
	// clock that stands still must not freeze the cache (nor one moved ahead
	// empty it). The same holds for lottery/waitroom's line cache.
	now := time.Now()
	s.cacheMu.RLock()
	c, ok := s.cache[slug]
	s.cacheMu.RUnlock()
	if ok && now.Sub(c.at) < s.cfg.EventCacheTTL {
		return c.ev, c.err
	}
	v, err, _ := s.flight.Do(slug, func() (any, error) {
		ev, err := s.store.EventBySlug(ctx, slug)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Event{}, fmt.Errorf("event %s: %w", slug, err) // not cached: transient
		}
		s.cacheMu.Lock()
		s.cache[slug] = cachedEvent{ev: ev, err: err, at: time.Now()}
		s.cacheMu.Unlock()
		return ev, err
	})
	return v.(Event), err
}

// CachedEvent returns an event, drafts included, from the short-lived
// cache PublicEvent reads (for concept services that act on an event they
// reached through an offer or entry); ErrNotFound.
func (s *Service) CachedEvent(ctx context.Context, slug string) (Event, error) {
	return s.cachedEvent(ctx, slug)
}

// ForgetEvent drops a cached event after a concept service changed it.
func (s *Service) ForgetEvent(slug string) { s.forget(slug) }

// forget drops a cached event after this process changed it.
func (s *Service) forget(slug string) {
	s.cacheMu.Lock()
	delete(s.cache, slug)
	s.cacheMu.Unlock()
}

// RequestOTP e-mails a fresh 6-digit code for applying to an event. It
// answers the same whether or not the address is known, so it cannot be used
// to find out who applied.
func (s *Service) RequestOTP(ctx context.Context, slug, email string, lang string, client ClientInfo) error {
	return s.requestOTP(ctx, slug, email, lang, client, false)
}

// WithholdOTP answers a code request exactly as RequestOTP does (the same
// checks, the same errors) but mails nothing: the address had its share of
// codes from anyone (the inbox cap) and this requester is not known to read
// it. The request is recorded as refused with the reason "inbox_cap".
func (s *Service) WithholdOTP(ctx context.Context, slug, email string, client ClientInfo) error {
	return s.requestOTP(ctx, slug, email, "", client, true)
}

func (s *Service) requestOTP(ctx context.Context, slug, email string, lang string, client ClientInfo, withhold bool) error {
	ev, err := s.PublicEvent(ctx, slug)
	if err != nil {
		return err
	}
	if err := ev.CheckOpen(s.clock.Now()); err != nil {
		return err
	}
	addr, err := identity.NormalizeEmail(email)
	if err != nil {
		return Fieldf("email", "give a valid e-mail address")
	}
	now := s.clock.Now()
	a := ev.Scorer(s.scorer).AssessOTP(antibot.OTPInput{UserAgent: client.UserAgent,
		DisposableMail: s.cfg.Disposable.IsDisposable(addr.Domain), Network: s.Network(client.IP)})
	if withhold {
		a.Reasons = append(a.Reasons, antibot.Reason{Code: "inbox_cap",
			Detail: "the address had its share of codes; this requester has not applied with one before"})
		a.Decision = antibot.Reject
	}
	rec := OTPRecord{EventID: ev.ID, EmailKey: addr.Key, RequestedAt: now, Risk: a, ClientIP: client.IP,
		UserAgent: truncate(client.UserAgent, 512)}
	if a.Decision == antibot.Reject {
		// Same answer as a sent code: nothing is revealed, nothing is
		// mailed; the stored assessment explains the refusal later.
		s.log.InfoContext(ctx, "otp request refused", "event", slug, "score", a.Score, "reasons", ReasonCodes(a),
			"rules", a.RulesVersion)
		if err := s.store.RefuseOTP(ctx, rec); err != nil {
			return fmt.Errorf("request otp %s: %w", slug, err)
		}
		return nil
	}
	code, err := s.newOTPCode()
	if err != nil {
		return fmt.Errorf("request otp: %w", err)
	}
	m, err := otpMail(ev, addr.Address, code, lang)
	if err != nil {
		return fmt.Errorf("request otp: %w", err)
	}
	rec.CodeHash, rec.ExpiresAt = s.keys.OTPHash(ev.ID, addr.Key, code), now.Add(OTPValidity)
	id, err := s.store.SaveOTP(ctx, rec, m)
	if err != nil {
		return fmt.Errorf("request otp %s: %w", slug, err)
	}
	if s.notify != nil {
		if err := s.notify.MailQueued(ctx, id); err != nil {
			s.log.WarnContext(ctx, "mail enqueue failed; the outbox sweeper will retry", "outbox_id", id, "err", err)
		}
	}
	return nil
}

// newOTPCode draws a code with pquerna/otp's HOTP over a fresh random secret:
// a uniformly random 6-digit code with the library's standard truncation.
func (s *Service) newOTPCode() (string, error) {
	secret := make([]byte, 20)
	if _, err := io.ReadFull(s.random, secret); err != nil {
		return "", err
	}
	return hotp.GenerateCodeCustom(base32.StdEncoding.EncodeToString(secret), 0,
		hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// otpMail renders the code mail at write time: the plain code exists only
// here and in the mail, never as an intent to render later.
func otpMail(ev Event, to, code, lang string) (Mail, error) {
	m, err := mails.Render(mails.OTPCode, lang, mails.OTPData{Event: ev.Name, Code: code})
	if err != nil {
		return Mail{}, err
	}
	return Mail{To: to, Subject: m.Subject, Body: m.Body, Kind: "otp", Intent: mails.OTPCode}, nil
}

// ApplyResult is the receipt of an accepted application.
type ApplyResult struct {
	EntryID      string
	ReceiptToken string
	Status       EntryStatus
	SubQueue     string
	Replayed     bool
}

// Apply validates and stores an application in one transaction. Validation
// failures are field errors and change nothing. idemKey and body implement
// the Idempotency-Key contract: the same key and body answer the same.
func (s *Service) Apply(ctx context.Context, slug string, req ApplyRequest, client ClientInfo, idemKey string, body []byte) (ApplyResult, error) {
	ev, err := s.PublicEvent(ctx, slug)
	if err != nil {
		return ApplyResult{}, err
	}
	now := s.clock.Now()
	if err := ev.CheckOpen(now); err != nil {
		return ApplyResult{}, err
	}
	entry, err := s.validate(&ev, req, now)
	if err != nil {
		return ApplyResult{}, err
	}
	// Ordered sub-queues take only runners the waiting room admitted: the
	// token is bound to this sub-queue and e-mail address here, and used
	// once, before it lapses, in the apply transaction.
	var admission *AdmissionUse
	joinFlagged := false
	if sq, _ := ev.SubQueue(req.Course, req.PaceGroup); sq.Mode == ModeOrdered {
		if req.AdmissionToken == "" {
			return ApplyResult{}, ErrAdmissionRequired
		}
		ticket, review, ok := s.admissions.Check(req.AdmissionToken, sq.ID, entry.EmailKey)
		if !ok {
			return ApplyResult{}, &Error{Code: CodeAdmissionRequired, Field: "admission_token",
				Message: "this admission token is not for this pace group and e-mail address"}
		}
		admission, joinFlagged = &AdmissionUse{TicketID: ticket, Offers: s.offerTx(ev, "", "")}, review
	}
	if len(idemKey) > 255 {
		return ApplyResult{}, Fieldf("Idempotency-Key", "use at most 255 characters")
	}
	entry.Risk = s.assess(&ev, req, client, entry)
	if joinFlagged && entry.Risk.Decision == antibot.Accept {
		// The join's own reasons are on its ticket; the entry says why it waits.
		entry.Risk.Reasons = append(entry.Risk.Reasons, antibot.Reason{Code: "queue_join_flagged",
			Detail: "the waiting-room join that admitted this entry was flagged for review"})
		entry.Risk.Decision = antibot.Review
	}
	entry.Status = ApplyStatus(entry.Risk.Decision, admission != nil)
	entry.ClientIP, entry.DeviceID = client.IP, client.DeviceID
	entry.UserAgent = truncate(client.UserAgent, 512)
	if len(req.Signals) > 0 && json.Valid(req.Signals) {
		entry.Signals = req.Signals
		var sig struct {
			Fingerprint string `json:"fingerprint"`
		}
		_ = json.Unmarshal(req.Signals, &sig) // a non-object simply has no fingerprint
		entry.Fingerprint = truncate(sig.Fingerprint, 128)
	}
	var reqHash []byte
	if idemKey != "" {
		h := sha256.Sum256(body)
		reqHash = h[:]
	}
	out, err := s.store.Apply(ctx, ApplyTx{Entry: entry, OTPHash: s.keys.OTPHash(ev.ID, entry.EmailKey, req.OTP),
		MaxOTPAttempts: OTPMaxAttempts, MaxGroupSize: ev.MaxGroupSize, Now: now, IdempotencyKey: idemKey, RequestHash: reqHash,
		Admission: admission})
	if err != nil {
		return ApplyResult{}, fmt.Errorf("apply %s: %w", slug, err)
	}
	s.notifyOffers(ctx, out.Issued)
	return ApplyResult{EntryID: out.EntryID, ReceiptToken: s.keys.ReceiptToken(out.EntryID), Status: out.Status,
		SubQueue: out.SubQueue, Replayed: out.Replayed}, nil
}

// validate checks every field in form order and builds the entry.
func (s *Service) validate(ev *Event, req ApplyRequest, now time.Time) (Entry, error) {
	sq, err := ev.Pick(req.Course, req.PaceGroup)
	if err != nil {
		return Entry{}, err
	}
	name, ok := cleanName(req.Name)
	if !ok {
		return Entry{}, Fieldf("name", "give your name (1 to 100 characters)")
	}
	addr, err := identity.NormalizeEmail(req.Email)
	if err != nil {
		return Entry{}, Fieldf("email", "give a valid e-mail address")
	}
	phone, err := identity.NormalizePhone(req.Phone, s.cfg.PhoneRegion)
	if err != nil {
		return Entry{}, Fieldf("phone", "give a valid phone number, e.g. +82 10 1234 5678")
	}
	birth, err := parseBirthDate(req.BirthDate, now)
	if err != nil {
		return Entry{}, err
	}
	if !otpRe.MatchString(req.OTP) {
		return Entry{}, Fieldf("otp", "give the 6-digit code we e-mailed you")
	}
	group, err := GroupCode(req.GroupCode, ev.MaxGroupSize)
	if err != nil {
		return Entry{}, err
	}
	prev := 0
	if req.PreviousApplications != nil {
		prev = *req.PreviousApplications
		if prev < 0 || prev > 100 {
			return Entry{}, Fieldf("previous_applications", "give a number from 0 to 100")
		}
	}
	if len(req.Signals) > 4096 {
		return Entry{}, Fieldf("signals", "signals are limited to 4 KiB")
	}
	id, err := uuid.NewRandomFromReader(s.random)
	if err != nil {
		return Entry{}, fmt.Errorf("entry id: %w", err)
	}
	return Entry{ID: id.String(), EventID: ev.ID, SubQueueID: sq.ID, SubQueue: sq.Key, Name: name, Email: addr.Address,
		EmailKey: addr.Key, Phone: phone, BirthDate: birth, Tickets: ev.Tickets(prev), PreviousApplications: prev,
		GroupCode: group, PersonKey: identity.PersonKey(name, birth)}, nil
}

// truncate cuts s to at most n bytes on a character boundary: a cut inside
// a character leaves invalid UTF-8 that PostgreSQL refuses.
func truncate(s string, n int) string { return textin.Cut(s, n) }

func (s *Service) assess(ev *Event, req ApplyRequest, client ClientInfo, e Entry) antibot.Assessment {
	in := antibot.ApplyInput{Honeypot: req.Website, UserAgent: client.UserAgent, AcceptLanguage: client.AcceptLanguage,
		UAPlatform: client.UAPlatform}
	if len(req.Signals) > 0 && string(req.Signals) != "null" {
		if err := json.Unmarshal(req.Signals, &in.Signals); err == nil {
			in.HasSignals = true
		}
	}
	if at := strings.LastIndexByte(e.EmailKey, '@'); at >= 0 {
		in.DisposableMail = s.cfg.Disposable.IsDisposable(e.EmailKey[at+1:])
	}
	in.Network = s.Network(client.IP)
	return ev.Scorer(s.scorer).AssessApply(in)
}

// EntryView is what a runner sees of their entry.
type EntryView struct {
	Entry Entry
	Event Event
	Place *DrawPlace // after the draw
	Offer *Offer     // once offered a slot
}

// EntryStatus returns an entry to the holder of its receipt token. A wrong
// token is ErrNotFound, exactly as an unknown id, so nothing leaks.
func (s *Service) EntryStatus(ctx context.Context, entryID, token string) (EntryView, error) {
	if _, err := uuid.Parse(entryID); err != nil || !s.keys.CheckReceipt(strings.ToLower(entryID), token) {
		return EntryView{}, ErrNotFound
	}
	e, err := s.store.Entry(ctx, strings.ToLower(entryID))
	if err != nil {
		return EntryView{}, fmt.Errorf("entry status: %w", err)
	}
	ev, err := s.cachedEvent(ctx, e.EventSlug)
	if err != nil {
		return EntryView{}, fmt.Errorf("entry status: %w", err)
	}
	v := EntryView{Entry: e, Event: ev}
	// Ordered sub-queues offer slots as runners apply, not at publication.
	if ev.ResultsPublishedAt != nil || e.Status == EntryOffered || e.Status == EntryConfirmed ||
		e.Status == EntryDeclined || e.Status == EntryExpired {
		o, err := s.store.EntryOffer(ctx, e.ID)
		if err == nil {
			v.Offer = &o
		} else if !errors.Is(err, ErrNotFound) {
			return EntryView{}, fmt.Errorf("entry status: %w", err)
		}
	}
	if ev.Status == EventDrawn || ev.Status == EventSettled {
		p, err := s.store.EntryPlace(ctx, e.ID)
		if err == nil {
			v.Place = &p
		} else if !errors.Is(err, ErrNotFound) {
			return EntryView{}, fmt.Errorf("entry status: %w", err)
		}
	}
	return v, nil
}

// CreateEvent stores a draft event from an organizer's spec.
func (s *Service) CreateEvent(ctx context.Context, actor StaffAccount, spec EventSpec) (Event, error) {
	if actor.Role != RoleOrganizer {
		return Event{}, ErrForbidden
	}
	ev, err := spec.Build()
	if err != nil {
		return Event{}, err
	}
	out, err := s.store.CreateEvent(ctx, ev, actor.Actor())
	if err != nil {
		return Event{}, fmt.Errorf("create event %s: %w", spec.Slug, err)
	}
	s.forget(ev.Slug)
	return out, nil
}

func (s *Service) newSeedCommit(slug string) (*SeedCommit, error) {
	secret := make([]byte, 32)
	if _, err := io.ReadFull(s.random, secret); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	sealed, err := s.keys.Seal(secret, "seed:"+slug)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(secret)
	return &SeedCommit{Sealed: sealed, Commitment: hex.EncodeToString(sum[:])}, nil
}

// ReasonCodes lists an assessment's reason codes, for logs (the reasons'
// details may quote client input; the codes never do).
func ReasonCodes(a antibot.Assessment) []string {
	out := make([]string, len(a.Reasons))
	for i, r := range a.Reasons {
		out[i] = r.Code
	}
	return out
}
