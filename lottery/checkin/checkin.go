// Package checkin is race-day bib pickup (issue 15): a confirmed entry's
// signed check-in code (shown as a QR code in the paid mail and on the
// status page), the rule that says whether a code may pick up now, and the
// service staff use to record the pickup, once.
package checkin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/startline/startline/lottery"
)

// Refusal codes: why a code does not pick up a bib (API error codes, and
// the check-in page's messages).
const (
	CodeAlreadyPickedUp = "already_picked_up"
	CodeNotConfirmed    = "not_confirmed"
	CodeBadCode         = "invalid_checkin_code"
)

// Reasons a not-confirmed entry is refused, shown to staff.
const (
	ReasonWithdrawn   = "withdrawn"           // taken back or its slot given back
	ReasonErased      = "erased"              // the runner's data was erased
	ReasonNotAccepted = "not_accepted"        // never paid: offered, expired, declined, ...
	ReasonCancelled   = "event_cancelled"     // the event was cancelled and paid slots refunded
	ReasonTransferred = "transferred"         // the place moved to another runner: their code picks it up
	ReasonDeferred    = "deferred"            // the runner deferred to the next edition
	ReasonNoLonger    = "no_longer_confirmed" // any other status
)

// unpaid are the statuses of an entry that never held a paid slot.
var unpaid = map[lottery.EntryStatus]bool{lottery.EntryReceived: true, lottery.EntryInReview: true, lottery.EntryRejected: true,
	lottery.EntryEligible: true, lottery.EntrySelected: true, lottery.EntryWaitlisted: true, lottery.EntryOffered: true,
	lottery.EntryDeclined: true, lottery.EntryExpired: true}

// version is the code format's version, its first character.
const version = "1"

// b32 is the code's alphabet: upper-case letters and digits only, so a QR
// code holds it in alphanumeric mode and staff can type it.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Signer signs and reads check-in codes with a purpose key
// (lottery.Keys.Derive("checkin")).
type Signer struct{ key []byte }

// NewSigner returns a signer with the key.
func NewSigner(key []byte) *Signer { return &Signer{key: key} }

// Code is the entry's check-in code: the version, then in base32 the
// entry id's 16 bytes and 10 bytes of HMAC over version and id (42
// characters).
func (s *Signer) Code(entryID string) (string, error) {
	id, err := uuidBytes(entryID)
	if err != nil {
		return "", fmt.Errorf("check-in code: %w", err)
	}
	return version + b32.EncodeToString(append(id, s.mac(id)...)), nil
}

func (s *Signer) mac(id []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("checkin/" + version + "/"))
	m.Write(id)
	return m.Sum(nil)[:10]
}

// ErrBadCode is a code that is not one of ours: mistyped, or forged.
var ErrBadCode = &lottery.Error{Code: lottery.CodeInvalidField, Field: "code", Message: "this is not a check-in code"}

// Entry reads a code typed or scanned (spaces, dashes and case ignored)
// and returns its entry id; ErrBadCode when it is not one we signed.
func (s *Signer) Entry(code string) (string, error) {
	c := strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\t", "", "\n", "", "\r", "").Replace(code))
	if len(c) < 2 || c[:1] != version {
		return "", ErrBadCode
	}
	raw, err := b32.DecodeString(c[1:])
	if err != nil || len(raw) != 26 {
		return "", ErrBadCode
	}
	if !hmac.Equal(raw[16:], s.mac(raw[:16])) {
		return "", ErrBadCode
	}
	h := hex.EncodeToString(raw[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

func uuidBytes(id string) ([]byte, error) {
	b, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if err != nil || len(b) != 16 {
		return nil, errors.New("entry id is not a uuid")
	}
	return b, nil
}

// Entry is what check-in reads of an entry.
type Entry struct {
	ID         string
	EventID    int64
	EventSlug  string
	OrgID      int64
	SubQueue   string // "course:pace"
	EventState lottery.EventStatus
	Status     lottery.EntryStatus
	Erased     bool
	Name       string
	BirthDate  time.Time
	Bib        int // 0: none assigned
	PickedUpAt *time.Time
	PickedUpBy int64
}

// Refusal is why an entry's code picks up no bib.
type Refusal struct {
	Code   string     // CodeAlreadyPickedUp or CodeNotConfirmed
	Reason string     // for CodeNotConfirmed: one of the Reason constants
	At     *time.Time // for CodeAlreadyPickedUp: when
}

func (r *Refusal) Error() string {
	if r.Code == CodeAlreadyPickedUp && r.At != nil {
		return "check-in: already picked up at " + r.At.UTC().Format(time.RFC3339)
	}
	return "check-in: " + r.Code + " " + r.Reason
}

// CheckPickup is the rule: a confirmed entry, not erased, whose bib has not
// been picked up yet may pick it up now. Anything else is refused with a
// Refusal.
func CheckPickup(e Entry, now time.Time) error {
	_ = now // the rule has no time window yet: race day is the organizer's
	switch {
	case e.Erased:
		return &Refusal{Code: CodeNotConfirmed, Reason: ReasonErased}
	case e.EventState == lottery.EventCancelled:
		return &Refusal{Code: CodeNotConfirmed, Reason: ReasonCancelled}
	case e.Status == lottery.EntryWithdrawn:
		return &Refusal{Code: CodeNotConfirmed, Reason: ReasonWithdrawn}
	case e.Status == lottery.EntryTransferred:
		return &Refusal{Code: CodeNotConfirmed, Reason: ReasonTransferred}
	case e.Status == lottery.EntryDeferred:
		return &Refusal{Code: CodeNotConfirmed, Reason: ReasonDeferred}
	case unpaid[e.Status]:
		return &Refusal{Code: CodeNotConfirmed, Reason: ReasonNotAccepted}
	case e.Status != lottery.EntryConfirmed:
		return &Refusal{Code: CodeNotConfirmed, Reason: ReasonNoLonger}
	case e.PickedUpAt != nil:
		return &Refusal{Code: CodeAlreadyPickedUp, At: e.PickedUpAt}
	}
	return nil
}

// Store is what check-in needs of the database.
type Store interface {
	// CheckinEntry returns the entry with its bib, event and pickup;
	// lottery.ErrNotFound.
	CheckinEntry(ctx context.Context, entryID string) (Entry, error)
	// RecordPickup locks the entry, applies check to it and, when it
	// passes, records the pickup at now by the actor with its event-log
	// ('entry.picked_up') and audit rows; it returns the entry as it then
	// stands. check's error is returned as is, nothing changed.
	RecordPickup(ctx context.Context, entryID string, now time.Time, actor lottery.Actor,
		check func(Entry) error) (Entry, error)
}

// Service checks codes in.
type Service struct {
	store  Store
	signer *Signer
	now    func() time.Time
}

// NewService returns a check-in service.
func NewService(store Store, signer *Signer, now func() time.Time) *Service {
	return &Service{store: store, signer: signer, now: now}
}

// Signer returns the service's code signer (for the mail and status page).
func (s *Service) Signer() *Signer { return s.signer }

// Result is a code checked in: the entry as it stands, and the refusal
// (nil: picked up now).
type Result struct {
	Entry   Entry
	Refusal *Refusal
}

// CheckIn reads a code and records its entry's pickup by a staff member who
// may review the entry's event (lottery.MayReview). slug, when not empty,
// is the event staff chose: a code of another event is lottery.ErrNotFound,
// as is one of another organization's. A refused pickup is a Result with
// its Refusal, not an error.
func (s *Service) CheckIn(ctx context.Context, actor lottery.StaffAccount, slug, code string) (Result, error) {
	id, err := s.signer.Entry(code)
	if err != nil {
		return Result{}, err
	}
	e, err := s.store.CheckinEntry(ctx, id)
	if err != nil {
		return Result{}, fmt.Errorf("check in: %w", err)
	}
	if !lottery.MayReview(actor, lottery.Event{OrgID: e.OrgID}) || (slug != "" && e.EventSlug != slug) {
		return Result{}, lottery.ErrNotFound
	}
	e, err = s.store.RecordPickup(ctx, id, s.now(), actor.Actor(), func(e Entry) error { return CheckPickup(e, s.now()) })
	var ref *Refusal
	if errors.As(err, &ref) {
		return Result{Entry: e, Refusal: ref}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("check in: %w", err)
	}
	return Result{Entry: e}, nil
}
