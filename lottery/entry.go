package lottery

import (
	"encoding/json"
	"regexp"
	"time"

	"github.com/startline/startline/antibot"
)

// EntryStatus is where an entry stands. Every change is appended to the
// event log.
type EntryStatus string

// Entry statuses (API.md).
const (
	EntryReceived   EntryStatus = "received"
	EntryInReview   EntryStatus = "in_review"
	EntryRejected   EntryStatus = "rejected"
	EntryEligible   EntryStatus = "eligible"
	EntrySelected   EntryStatus = "selected"
	EntryWaitlisted EntryStatus = "waitlisted"
	EntryOffered    EntryStatus = "offered"
	EntryConfirmed  EntryStatus = "confirmed"
	EntryDeclined   EntryStatus = "declined"
	EntryExpired    EntryStatus = "expired"
	// EntryWithdrawn is an entry its runner took back before close, or
	// whose paid slot was given back; it leaves the draw and the waitlist.
	EntryWithdrawn EntryStatus = "withdrawn"
	// EntryTransferred is an entry whose confirmed place moved to another
	// runner by a face-value transfer (the recipient paid; 00032).
	EntryTransferred EntryStatus = "transferred"
)

// Entry is one person's application to one sub-queue of an event.
type Entry struct {
	ID                   string
	EventID              int64
	SubQueueID           int64
	SubQueue             string // "course:pace"
	EventSlug            string
	Name                 string
	Email                string // as given (trimmed)
	EmailKey             string // normalized, the dedupe key
	Phone                string // E.164
	BirthDate            time.Time
	Tickets              int
	PreviousApplications int // the count Tickets follows: the record, or an accepted claim
	// RecordedApplications is the runner's record (TicketRecord.Count);
	// ClaimedApplications what the runner claimed above it (nil: no claim),
	// with ClaimNote; ClaimStatus is ClaimNone, ClaimPending, ClaimAccepted
	// or ClaimDeclined.
	RecordedApplications int
	ClaimedApplications  *int
	ClaimNote            string
	ClaimStatus          string
	TicketRecord         TicketRecord
	GroupCode            string
	Status               EntryStatus
	// Lang is the language the runner applied in ("en" or "ko"): every
	// mail about the entry is written in it.
	Lang string
	// Answers are the runner's answers to the event's questions (Form);
	// Consents the documents accepted at apply. Personal data: never in
	// logs, the event log or published files.
	Answers   Answers
	Consents  []Consent
	Risk      antibot.Assessment
	CreatedAt time.Time
	UpdatedAt time.Time
	// PickedUpAt is when the bib was picked up at race-day check-in; from
	// then on the place stays with this runner (no transfer, give-back or
	// deferral).
	PickedUpAt *time.Time

	// Identity and device keys, for de-duplication, clustering and review.
	PersonKey   string // normalized name + birth date
	ClientIP    string
	UserAgent   string
	DeviceID    string // the signed first-party cookie's id
	Fingerprint string // canvas/WebGL/fonts hash from the form's script
	Signals     json.RawMessage
	ClusterID   string
}

// EntryView is what a runner sees of their entry
// (lottery/registration's EntryStatus).
type EntryView struct {
	Entry Entry
	Event Event
	Place *DrawPlace // after the draw
	Offer *Offer     // once offered a slot
	// Card is the card saved at apply (brand and last four only), where
	// the event has card on file.
	Card *SavedCard
}

// ClientInfo is what the transport knows about the caller.
type ClientInfo struct {
	IP             string
	UserAgent      string
	AcceptLanguage string
	DeviceID       string // from a validly signed sl_device cookie, else empty
	UAPlatform     string // Sec-CH-UA-Platform client hint
}

// groupRe is what a group code may be (GroupCode).
var groupRe = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
