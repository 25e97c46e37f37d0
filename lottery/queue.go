package lottery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/startline/startline/antibot"
)

// The waiting room of ordered sub-queues: runners join a line, a worker
// admits them in line order at the sub-queue's rate while slots are free,
// and an admitted runner has AdmissionWindow to apply with the admission
// token. An accepted entry is offered a slot at once if one is free, else
// it waits, in line order, for the next released slot. The waiting room's
// service is lottery/waitroom; its shared types stay here.
const (
	AdmissionWindow       = 10 * time.Minute
	DefaultAdmitPerMinute = 600
	MaxPrequeueMinutes    = 7 * 24 * 60
	// DefaultPrequeueMinutes is the pre-queue an ordered sub-queue gets
	// when its spec names none: a script that joins at the first
	// millisecond of the window then gains nothing over a runner who
	// arrived a quarter of an hour early.
	DefaultPrequeueMinutes = 15
)

// ErrLineUnopened tells a join that the window has opened but the line may
// not have been: open it (placing the pre-queue) and join again. It never
// reaches a handler.
var ErrLineUnopened = errors.New("the line has not been opened")

// PrequeueArtifactPath is where a sub-queue's pre-queue artifact
// (prequeue-v1, docs/PREQUEUE-SPEC.md) is published.
func PrequeueArtifactPath(slug, subqueueKey string) string {
	return "/api/v1/events/" + url.PathEscape(slug) + "/prequeue/" + url.PathEscape(subqueueKey) + "/artifact.json"
}

// TicketStatus is where a waiting-room ticket stands.
type TicketStatus string

// Ticket statuses: waiting → admitted → used (applied) or lapsed (the
// admission window ended unused); refused tickets never had a place.
const (
	TicketWaiting  TicketStatus = "waiting"
	TicketAdmitted TicketStatus = "admitted"
	TicketUsed     TicketStatus = "used"
	TicketLapsed   TicketStatus = "lapsed"
	TicketRefused  TicketStatus = "refused"
)

// CodeQueueRefused is the API code of a join that bot scoring refused.
const CodeQueueRefused = "queue_refused"

// ErrQueueRefused refuses a join that scored as automated.
var ErrQueueRefused = &Error{Code: CodeQueueRefused,
	Message: "this request looks automated and was not given a place; join from your own browser"}

// QueueTicket is one place in an ordered sub-queue's line.
type QueueTicket struct {
	ID         string
	EventID    int64
	SubQueueID int64
	Place      int64 // 1-based; 0 when refused or in the pre-queue
	// PublicID is the ticket's pseudonym in the published pre-queue order:
	// it names the ticket without revealing its holder or letting anyone
	// poll it.
	PublicID           string
	EmailKey           string
	Status             TicketStatus
	Risk               antibot.Assessment
	ClientIP           string
	UserAgent          string
	DeviceID           string
	JoinedAt           time.Time
	AdmittedAt         *time.Time
	AdmissionExpiresAt *time.Time
	UsedAt             *time.Time
	EntryID            string
}

// QueueLine is the state of one ordered sub-queue's line.
type QueueLine struct {
	SubQueueID      int64
	EventSlug       string
	SubQueueKey     string
	AdmittedThrough int64 // the highest place admitted
	AdmitPerMinute  int
	SoldOut         bool // every slot is held by a live offer
	Paused          bool // the organizer paused the line: nobody is admitted
	OpensAt         time.Time
	Opened          bool // the pre-queue has been placed; joins now take places
	// Prequeued is how many tickets the opening placed: places 1 to
	// Prequeued came from the pre-queue.
	Prequeued int64
	// PrequeueCommitment is the published sha256 of the pre-queue's seed
	// secret; empty until committed.
	PrequeueCommitment string
}

// Prequeue is the record of one line's pre-queue (prequeue-v1): the
// commitment published before the first join, then, once placed, the
// revealed secret, the tickets' root and the order.
type Prequeue struct {
	SubQueueID  int64
	Commitment  string
	Sealed      []byte // the sealed secret: never published
	SeedSecret  string // hex; empty until placed
	TicketsRoot string
	Order       []string // public ticket ids in place order
	PlacedAt    *time.Time
}

// OpenLineTx opens one line: the pre-queue is placed by prequeue-v1 under
// Secret, which must match the stored commitment.
type OpenLineTx struct {
	SubQueueID int64
	Now        time.Time
	Secret     []byte
}

// AdmitTx is one admission pass over one line.
type AdmitTx struct {
	SubQueueID int64
	Now        time.Time
	Window     time.Duration // how long an admitted runner has to apply
	Offers     OfferTx       // for slots offered to waiting entries
	// PrequeueSecret places the pre-queue if this pass opens the line.
	PrequeueSecret []byte
}

// AdmitResult is what one admission pass did.
type AdmitResult struct {
	Lapsed          int
	Prequeued       int // tickets placed by opening the line in this pass
	Admitted        int
	AdmittedThrough int64
	SoldOut         bool
}

// QueueRef names a line an admission pass should visit.
type QueueRef struct {
	EventID    int64
	SubQueueID int64
	Opened     bool
	// Commit is the line's sealed pre-queue secret and its commitment; nil
	// until committed.
	Commit *SeedCommit
}

// JoinRequest is a runner's request for a place in a waiting room.
type JoinRequest struct {
	Course    string
	PaceGroup string
	Email     string
}

// JoinResult is a place in line and the ticket that proves it. A ticket in
// the pre-queue has no place yet (Place 0, Prequeue set): it gets one at
// OpensAt.
type JoinResult struct {
	Ticket   string
	Place    int64
	Ahead    int64
	Prequeue bool
	OpensAt  time.Time
	Risk     antibot.Assessment
	// PublicID and PrequeueCommitment, for a pre-queue ticket: its name in
	// the order to be published, and the commitment to that order's seed.
	PublicID           string
	PrequeueCommitment string
}

// QueueView is what a ticket's holder sees of their place in line.
type QueueView struct {
	EventSlug          string
	SubQueue           SubQueue
	Place              int64
	Ahead              int64
	ETASeconds         int
	Admitted           bool
	AdmissionToken     string
	AdmissionExpiresAt *time.Time
	Used               bool // the admission was used to apply
	Lapsed             bool // the admission window ended unused
	SoldOut            bool
	// Paused: the organizer paused the line; places hold, nobody moves.
	Paused bool
	// Prequeue: the ticket waits for the opening at OpensAt, when it gets a
	// place in random order among everyone who joined before.
	Prequeue bool
	OpensAt  time.Time
	// Ticket is the ticket re-issued with its place, once a pre-queue
	// ticket has one: polling it needs no database read.
	Ticket string
	// PublicID names a pre-queue ticket in the published order; set while
	// it waits and once it was placed from the pre-queue.
	PublicID string
	// PrequeueCommitment is the commitment to the pre-queue's seed, while
	// the ticket waits for the opening.
	PrequeueCommitment string
	// PrequeuePlaced: the place came from the pre-queue's published order
	// (PrequeueArtifactPath).
	PrequeuePlaced bool
}

// PollAfter is how long a client should wait before polling again: every
// 5 s near the front (the admission pass runs every 5 s), up to 30 s far
// back, and 0 once the wait is over. The API and the page both use it.
func (v QueueView) PollAfter() int {
	if v.Admitted || v.Lapsed {
		return 0
	}
	return min(max(v.ETASeconds/4, 5), 30)
}

// AdmissionCodec issues and checks admission tokens. lottery/waitroom
// issues them to admitted runners; lottery/registration's Apply checks
// them. A token is MACed and bound to the ticket, the sub-queue and the
// e-mail address it was issued for; single use and expiry are checked in
// the apply transaction.
type AdmissionCodec struct{ key []byte }

// NewAdmissionCodec derives the admission key from keys (nil keys: a codec
// whose tokens only it can check, for tests without keys).
func NewAdmissionCodec(keys *Keys) AdmissionCodec {
	if keys == nil {
		return AdmissionCodec{}
	}
	return AdmissionCodec{key: keys.Derive("admission")}
}

const (
	admissionLen = 16 + 1 + 16 // id, flags, MAC
	flagReview   = 1           // the join was flagged: the entry goes to review
)

// Token issues the admission token of a ticket; review says the join was
// flagged, so the entry it leads to goes to review.
func (c AdmissionCodec) Token(ticketID string, subqueueID int64, emailKey string, review bool) string {
	u := uuid.MustParse(ticketID)
	b := append(make([]byte, 0, admissionLen), u[:]...)
	flags := byte(0)
	if review {
		flags |= flagReview
	}
	b = append(b, flags)
	b = append(b, c.mac(b, subqueueID, emailKey)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Check verifies a token against the sub-queue and e-mail address of the
// application.
func (c AdmissionCodec) Check(token string, subqueueID int64, emailKey string) (ticketID string, review bool, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != admissionLen || !hmac.Equal(b[17:], c.mac(b[:17], subqueueID, emailKey)) {
		return "", false, false
	}
	u, _ := uuid.FromBytes(b[:16])
	return u.String(), b[16]&flagReview != 0, true
}

func (c AdmissionCodec) mac(head []byte, subqueueID int64, emailKey string) []byte {
	msg := binary.BigEndian.AppendUint64(append([]byte(nil), head...), uint64(subqueueID))
	m := hmac.New(sha256.New, c.key)
	m.Write(append(msg, emailKey...))
	return m.Sum(nil)[:16]
}
