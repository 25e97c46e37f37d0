// Package selfservice is what a runner does for themselves once they have
// applied: "my entries" (an e-mailed code shows every entry of the address
// with its status link, so a lost link is never a lost entry), withdrawing
// an entry before registration closes, and erasing its personal data; and
// the retention pass that anonymizes every entry of an event a configured
// time after it (the worker's privacy:retention task). The rules are the
// root package's (lottery.CheckWithdraw, CheckErase, ErasedStatus,
// RetentionDue, CheckMeCode); the store applies them under the entry's lock.
package selfservice

import (
	"context"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
)

// Code policy of "my entries": as the apply codes (6 digits, single use,
// lottery.OTPMaxAttempts tries), valid a little shorter since the list is
// all it opens.
const (
	CodeValidity = 10 * time.Minute
	MaxAttempts  = lottery.OTPMaxAttempts
	// MaxListed caps the list: no real person has more entries.
	MaxListed = 200
	// DefaultRetention is how long after an event its entries' personal
	// data is kept (STARTLINE_RETENTION): 90 days.
	DefaultRetention = 2160 * time.Hour
)

// Store is what self-service asks of persistence; lottery/postgres
// implements it.
type Store interface {
	// SaveMeCode stores the address's code (replacing an earlier one),
	// whether or not the address has entries, and queues its mail in the
	// same transaction only when it has an entry whose data is kept;
	// mailed reports whether it did.
	SaveMeCode(ctx context.Context, c MeCode, m lottery.Mail) (outboxID int64, mailed bool, err error)
	// TryMeCode counts one try of the address's code, consuming it when
	// lottery.CheckMeCode says so, and returns the verdict; an address with
	// no code is lottery.ErrNoCode.
	TryMeCode(ctx context.Context, emailKey string, hash []byte, now time.Time, maxAttempts int) (lottery.CodeVerdict, error)
	// EntriesByEmail lists the address's entries whose data is kept,
	// newest first.
	EntriesByEmail(ctx context.Context, emailKey string, limit int) ([]lottery.Entry, error)
	// Withdraw applies lottery.CheckWithdraw under the entry's and its
	// event's locks and, unless already withdrawn, moves the entry with its
	// event-log record and its mail intent (mails.EntryWithdrawn) in one
	// transaction. ErrNotFound, the rule's errors.
	Withdraw(ctx context.Context, entryID string, now time.Time) error
	// Erase applies lottery.CheckErase to the entry's offers under lock and
	// anonymizes it (status by lottery.ErasedStatus) with its event-log and
	// audit records, in one transaction; an entry anonymized before is left
	// as it is. ErrNotFound, ErrEntryHoldsSlot.
	Erase(ctx context.Context, entryID string, now time.Time) error
	// Anonymized reports whether an entry's personal data was replaced.
	Anonymized(ctx context.Context, entryID string) (bool, error)
	// RetentionCandidates lists events whose retention start
	// (lottery.RetentionStart) is at or before cutoff and that still have
	// entries with personal data.
	RetentionCandidates(ctx context.Context, cutoff time.Time, limit int) ([]lottery.Event, error)
	// AnonymizeEvent anonymizes every kept entry of an event with one
	// event-log and one audit record (actor "system"); it returns how many.
	AnonymizeEvent(ctx context.Context, eventID int64, now time.Time) (int, error)
}

// Entries is the receipt check the runner's actions start with.
// *registration.Service implements it.
type Entries interface {
	// EntryStatus checks an entry's receipt token; a wrong one is
	// lottery.ErrNotFound.
	EntryStatus(ctx context.Context, entryID, token string) (lottery.EntryView, error)
}

// Events reads events through the root service's cache.
// *lottery.Service implements it.
type Events interface {
	CachedEvent(ctx context.Context, slug string) (lottery.Event, error)
}

// MeCode is a fresh "my entries" code, stored as its keyed hash.
type MeCode struct {
	EmailKey  string
	CodeHash  []byte
	ExpiresAt time.Time
}

// Config tunes the service.
type Config struct {
	// Retention is how long after an event (lottery.RetentionStart) its
	// entries' personal data is kept; 0 is DefaultRetention.
	Retention time.Duration
	Random    io.Reader // codes; nil: the root Config's default (crypto/rand)
}

// Service runs "my entries", withdrawals, erasures and retention.
type Service struct {
	store   Store
	entries Entries
	events  Events
	keys    *lottery.Keys
	clock   lottery.Clock
	notify  lottery.Notifier
	log     *slog.Logger
	cfg     Config
}

// NewService wires a Service. notify may be nil (mail waits for the
// outbox sweep).
func NewService(store Store, entries Entries, events Events, keys *lottery.Keys, clock lottery.Clock,
	notify lottery.Notifier, log *slog.Logger, cfg Config) *Service {
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Random == nil {
		cfg.Random = lottery.Config{}.WithDefaults().Random
	}
	return &Service{store: store, entries: entries, events: events, keys: keys, clock: clock, notify: notify, log: log, cfg: cfg}
}

// Retention is the configured retention period.
func (s *Service) Retention() time.Duration { return s.cfg.Retention }

// codeHash is what the store keeps of a "my entries" code: the apply codes'
// keyed hash under event 0, which no event has, so a code for one purpose
// never matches the other.
func (s *Service) codeHash(emailKey, code string) []byte { return s.keys.OTPHash(0, emailKey, code) }

// RequestCode mails a "my entries" code to the address when it has entries
// (lang "en" or "ko" for the subject). The answer is the same whether or
// not it has any, so the route cannot tell who applied; an address with
// none gets no mail, so the route cannot be used to mail strangers. Only
// an address that does not parse is refused (a field error).
func (s *Service) RequestCode(ctx context.Context, email, lang string) error {
	addr, err := identity.NormalizeEmail(email)
	if err != nil {
		return lottery.Fieldf("email", "give a valid e-mail address")
	}
	code, err := s.newCode()
	if err != nil {
		return fmt.Errorf("my entries code: %w", err)
	}
	m, err := mails.Render(mails.MeCode, lang, mails.MeCodeData{Code: code, Minutes: int(CodeValidity / time.Minute)})
	if err != nil {
		return fmt.Errorf("my entries code: %w", err)
	}
	mail := lottery.Mail{To: addr.Address, Subject: m.Subject, Body: m.Body, HTML: m.HTML, Kind: "me", Intent: mails.MeCode}
	rec := MeCode{EmailKey: addr.Key, CodeHash: s.codeHash(addr.Key, code), ExpiresAt: s.clock.Now().Add(CodeValidity)}
	id, mailed, err := s.store.SaveMeCode(ctx, rec, mail)
	if err != nil {
		return fmt.Errorf("my entries code: %w", err)
	}
	if mailed && s.notify != nil {
		if err := s.notify.MailQueued(ctx, id); err != nil {
			s.log.WarnContext(ctx, "mail enqueue failed; the outbox sweeper will retry", "outbox_id", id, "err", err)
		}
	}
	return nil
}

func (s *Service) newCode() (string, error) {
	secret := make([]byte, 20)
	if _, err := io.ReadFull(s.cfg.Random, secret); err != nil {
		return "", err
	}
	return hotp.GenerateCodeCustom(base32.StdEncoding.EncodeToString(secret), 0,
		hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// MyEntry is one line of "my entries".
type MyEntry struct {
	Entry lottery.Entry
	Event lottery.Event
	// StatusPath is the entry's status page with its receipt token, a path
	// on this site; adapters make it absolute (httpkit.Site.Absolute).
	StatusPath string
}

// Entries checks the address's code (consumed on success) and lists every
// entry of the address whose data is kept, newest first. A wrong, expired,
// used or over-tried code is lottery.CodeInvalidOTP on field otp.
func (s *Service) Entries(ctx context.Context, email, code string) ([]MyEntry, error) {
	addr, err := identity.NormalizeEmail(email)
	if err != nil {
		return nil, lottery.Fieldf("email", "give a valid e-mail address")
	}
	code = strings.TrimSpace(code)
	if len(code) != lottery.OTPDigits || strings.Trim(code, "0123456789") != "" {
		return nil, &lottery.Error{Code: lottery.CodeInvalidOTP, Field: "otp", Message: "give the 6-digit code from the e-mail"}
	}
	v, err := s.store.TryMeCode(ctx, addr.Key, s.codeHash(addr.Key, code), s.clock.Now(), MaxAttempts)
	if err != nil {
		return nil, fmt.Errorf("my entries: %w", err)
	}
	switch {
	case v.Consumed:
	case v.UsedElsewhere:
		return nil, lottery.ErrCodeUsed
	case v.Err != nil:
		return nil, v.Err
	default:
		return nil, lottery.ErrInvalidOTP
	}
	return s.list(ctx, addr.Key)
}

// ViewValidity is how long a shown list may be shown again (in the other
// language) without a new code.
const ViewValidity = 15 * time.Minute

// viewLabel binds a view pass to its purpose.
const viewLabel = "me/view"

// ViewPass seals the address and a deadline, for the listed page's
// language switch: the code was consumed to show the list, and the pass
// shows it again until ViewValidity has passed. It never appears in a URL.
func (s *Service) ViewPass(email string) string {
	addr, err := identity.NormalizeEmail(email)
	if err != nil {
		return ""
	}
	until := strconv.FormatInt(s.clock.Now().Add(ViewValidity).Unix(), 10)
	b, err := s.keys.Seal([]byte(until+"|"+addr.Key), viewLabel)
	if err != nil {
		return "" // the switch then starts again at the first step
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// EntriesByPass lists the entries again for a pass ViewPass made for
// email, before its deadline; any other pass is lottery.ErrInvalidOTP.
func (s *Service) EntriesByPass(ctx context.Context, email, pass string) ([]MyEntry, error) {
	addr, err := identity.NormalizeEmail(email)
	if err != nil {
		return nil, lottery.Fieldf("email", "give a valid e-mail address")
	}
	raw, err := base64.RawURLEncoding.DecodeString(pass)
	if err != nil || pass == "" {
		return nil, lottery.ErrInvalidOTP
	}
	plain, err := s.keys.Open(raw, viewLabel)
	if err != nil {
		return nil, lottery.ErrInvalidOTP
	}
	until, key, ok := strings.Cut(string(plain), "|")
	sec, perr := strconv.ParseInt(until, 10, 64)
	if !ok || perr != nil || key != addr.Key || !s.clock.Now().Before(time.Unix(sec, 0)) {
		return nil, lottery.ErrInvalidOTP
	}
	return s.list(ctx, addr.Key)
}

// list is every kept entry of an address, newest first, with status paths.
func (s *Service) list(ctx context.Context, emailKey string) ([]MyEntry, error) {
	es, err := s.store.EntriesByEmail(ctx, emailKey, MaxListed)
	if err != nil {
		return nil, fmt.Errorf("my entries: %w", err)
	}
	out := make([]MyEntry, 0, len(es))
	for _, e := range es {
		ev, err := s.events.CachedEvent(ctx, e.EventSlug)
		if err != nil {
			return nil, fmt.Errorf("my entries: %w", err)
		}
		out = append(out, MyEntry{Entry: e, Event: ev, StatusPath: StatusPath(e.ID, s.keys.ReceiptToken(e.ID))})
	}
	return out, nil
}

// StatusPath is an entry's status page with its receipt token.
func StatusPath(entryID, token string) string {
	return "/entries/" + url.PathEscape(entryID) + "?token=" + url.QueryEscape(token)
}

// checked runs the receipt check and returns the lower-case entry id.
func (s *Service) checked(ctx context.Context, entryID, token string) (lottery.EntryView, error) {
	if s.entries == nil {
		return lottery.EntryView{}, errors.New("self-service: the receipt check is not wired")
	}
	if _, err := uuid.Parse(entryID); err != nil {
		return lottery.EntryView{}, lottery.ErrNotFound
	}
	return s.entries.EntryStatus(ctx, strings.ToLower(entryID), token)
}

// Withdraw takes an entry out before registration closes: it leaves the
// draw, the change is logged and the runner mailed. The identity keys stay
// with the withdrawn entry, so the same person cannot apply to the event
// again: withdrawing and re-applying would let a runner move to whichever
// pace group the live odds favour late in the window, an edge the others
// do not have. lottery.ErrNotFound (token), ErrClosed, ErrEntryHoldsSlot,
// ErrInvalidTransition.
func (s *Service) Withdraw(ctx context.Context, entryID, token string) error {
	v, err := s.checked(ctx, entryID, token)
	if err != nil {
		return err
	}
	if err := s.store.Withdraw(ctx, v.Entry.ID, s.clock.Now()); err != nil {
		return fmt.Errorf("withdraw %s: %w", v.Entry.ID, err)
	}
	return nil
}

// Erase replaces the entry's personal data now, on the runner's request
// (lottery.CheckErase: not while it holds or pays a slot). Before the
// freeze the entry also leaves the draw (lottery.ErasedStatus). The status
// page keeps working with the receipt token and says the data is gone.
// lottery.ErrNotFound, ErrEntryHoldsSlot.
func (s *Service) Erase(ctx context.Context, entryID, token string) error {
	v, err := s.checked(ctx, entryID, token)
	if err != nil {
		return err
	}
	if err := s.store.Erase(ctx, v.Entry.ID, s.clock.Now()); err != nil {
		return fmt.Errorf("erase %s: %w", v.Entry.ID, err)
	}
	return nil
}

// Anonymized reports whether the personal data of an entry (whose receipt
// the caller checked) was replaced.
func (s *Service) Anonymized(ctx context.Context, entryID string) (bool, error) {
	return s.store.Anonymized(ctx, entryID)
}

// RunRetention anonymizes the entries of every event past retention
// (lottery.RetentionDue), at most limit events per pass; it returns the
// events and entries it anonymized. Statuses, tickets, draw records and
// published artifacts stay as they are.
func (s *Service) RunRetention(ctx context.Context, limit int) (events, entries int, err error) {
	now := s.clock.Now()
	evs, err := s.store.RetentionCandidates(ctx, now.Add(-s.cfg.Retention), limit)
	if err != nil {
		return 0, 0, fmt.Errorf("retention: %w", err)
	}
	for _, ev := range evs {
		if !lottery.RetentionDue(ev, s.cfg.Retention, now) {
			continue
		}
		n, err := s.store.AnonymizeEvent(ctx, ev.ID, now)
		if err != nil {
			return events, entries, fmt.Errorf("retention %s: %w", ev.Slug, err)
		}
		events, entries = events+1, entries+n
	}
	return events, entries, nil
}

// CheckAddress refuses an address that does not parse (a field error), the
// one check a "my entries" request fails before any budget is counted.
func (s *Service) CheckAddress(email string) error {
	if _, err := identity.NormalizeEmail(email); err != nil {
		return lottery.Fieldf("email", "give a valid e-mail address")
	}
	return nil
}
