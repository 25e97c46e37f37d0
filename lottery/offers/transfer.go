package offers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/lottery"
)

// TransferLinkValidity is how long a transfer link stays open at most (the
// event's transfer deadline may end it sooner).
const TransferLinkValidity = 72 * time.Hour

// Transfer states (00032 transfers.state).
const (
	TransferPending = "pending"
	// TransferReview: the recipient's form scored for review; a reviewer
	// approves (→ verified) or rejects (→ rejected) it (00037).
	TransferReview    = "review"
	TransferRejected  = "rejected"
	TransferVerified  = "verified"
	TransferPaid      = "paid"
	TransferCancelled = "cancelled"
	TransferExpired   = "expired"
)

// TransferPolicy is what an event allows of face-value transfers: until
// Deadline (nil: until the race starts), at most Max transfers in the event
// (0: none), the giver refunded the price less FeeMinor.
type TransferPolicy struct {
	Deadline *time.Time
	Max      int
	FeeMinor int64
}

// TransferAsk is a transfer as the rule sees it: the giver's offer and
// entry, both sides' normalized e-mail keys, the sub-queue's price, and how
// many transfers of the event are open or done (Used).
type TransferAsk struct {
	Offer      lottery.OfferStatus
	Entry      lottery.EntryStatus
	FromKey    string
	ToKey      string
	PriceMinor int64
	Used       int
	// PickedUp: the giver's bib was picked up at check-in.
	PickedUp bool
}

// Transferable is the rule for naming a recipient at now: the entry is
// confirmed with a paid offer, the event allows transfers, its deadline has
// not passed, its count is not used up, the recipient is someone else, and
// the fee is at most the price (face value: the recipient pays exactly the
// price, the giver gets it back less the fee, nothing else passes).
func Transferable(p TransferPolicy, a TransferAsk, now time.Time) error {
	switch {
	case a.Entry != lottery.EntryConfirmed || a.Offer != lottery.OfferPaid:
		return &lottery.Error{Code: lottery.CodeNoSlotHeld, Message: "only a confirmed, paid place can be transferred"}
	case a.PickedUp:
		return errPickedUp
	case p.Max <= 0:
		return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "this event does not allow transfers"}
	case p.Deadline != nil && !now.Before(*p.Deadline):
		return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "the transfer deadline has passed"}
	case a.Used >= p.Max:
		return &lottery.Error{Code: lottery.CodeConflict, Message: "this event's transfers are used up"}
	case a.FromKey == a.ToKey:
		return lottery.Fieldf("to_email", "name someone else: a place cannot be transferred to yourself")
	case p.FeeMinor < 0 || p.FeeMinor > a.PriceMinor:
		return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "the event's transfer fee is above the price"}
	}
	return nil
}

// errPickedUp refuses to move a place whose bib was picked up: one place,
// one bib (the recipient, or the next on the waitlist, would get another).
var errPickedUp = &lottery.Error{Code: lottery.CodeInvalidTransition,
	Message: "the bib of this place was picked up; the place can no longer be transferred or given back"}

// TransferHeld is the rule a recipient's verification and payment apply
// under the giver's lock: the giver still holds the place (a paid offer,
// a confirmed entry) and has not picked its bib up. ErrNoSlotHeld-coded,
// or CodeInvalidTransition after a pickup.
func TransferHeld(offer lottery.OfferStatus, entry lottery.EntryStatus, pickedUp bool) error {
	switch {
	case offer != lottery.OfferPaid || entry != lottery.EntryConfirmed:
		return &lottery.Error{Code: lottery.CodeNoSlotHeld, Message: "the place is no longer held"}
	case pickedUp:
		return errPickedUp
	}
	return nil
}

// MaxTransfers bounds an event's transfer count.
const MaxTransfers = 1000000

// CheckTransferPolicy is the rule for what an organizer may set: a count
// from 0 (no transfers) to MaxTransfers and a fee that is not negative (a
// fee above a sub-queue's price refuses that sub-queue's transfers, by
// Transferable).
func CheckTransferPolicy(p TransferPolicy) error {
	switch {
	case p.Max < 0 || p.Max > MaxTransfers:
		return lottery.Fieldf("max", "give a number of transfers from 0 to %d", MaxTransfers)
	case p.FeeMinor < 0 || p.FeeMinor > lottery.MaxPriceMinor:
		return lottery.Fieldf("fee", "give a fee from 0 to the price")
	}
	return nil
}

// TransferExpiry is when a link made at now closes: TransferLinkValidity
// later, or at the event's deadline when that comes first.
func TransferExpiry(p TransferPolicy, now time.Time) time.Time {
	end := now.Add(TransferLinkValidity)
	if p.Deadline != nil && p.Deadline.Before(end) {
		end = *p.Deadline
	}
	return end
}

// TransferRefund is what the giver gets back once the recipient paid: the
// price less the fee, never below zero.
func TransferRefund(priceMinor, feeMinor int64) int64 {
	return max(priceMinor-feeMinor, 0)
}

// Transfer is a stored transfer with what its pages show.
type Transfer struct {
	ID         string
	EventID    int64
	EventSlug  string
	SubQueue   string // "course:pace", the giver's sub-queue
	FromEntry  string
	FromOffer  string
	ToEmail    string
	ToEmailKey string
	ToEntry    string // the recipient's entry, once verified
	ToOffer    string // the recipient's hold offer, once verified
	State      string
	PriceMinor int64
	FeeMinor   int64
	Currency   string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// Open reports whether the transfer can still go on at now.
func (t Transfer) Open(now time.Time) bool {
	return OpenState(t.State) && now.Before(t.ExpiresAt)
}

// OpenState reports whether a transfer in state may still go on (before
// its end): pending, in review or verified.
func OpenState(state string) bool {
	return state == TransferPending || state == TransferReview || state == TransferVerified
}

// TransferTx is what the store checks and records under the giver's
// offer lock: the rule's inputs it reads itself (policy, price, count) and
// the new transfer's values; Mail renders the recipient's mail from the
// stored transfer (queued in the same transaction).
type TransferTx struct {
	ID, EntryID, OfferID string
	ToEmail, ToKey       string
	TokenHash            string
	Now                  time.Time
	Mail                 func(Transfer) (lottery.Mail, error)
}

// AcceptTx is a recipient's verified form: the transfer (by its token's
// hash), the entry to create and the hash of the code they gave.
type AcceptTx struct {
	TokenHash      string
	Entry          lottery.Entry
	OfferID        string // the recipient's hold offer's id
	OTPHash        []byte
	MaxOTPAttempts int
	Now            time.Time
}

// TransferDone is a completed transfer: the giver's refund (price less
// the fee, owed until the provider confirms it).
type TransferDone struct {
	Transfer Transfer
	Refund   Refund
	Mails    []int64
}

// TransferStore is what transfers ask of persistence (lottery/postgres).
// Every change locks the giver's offer row first, then the transfer's.
type TransferStore interface {
	// OfferTransfer locks the giver's offer and entry, applies Transferable
	// to what it reads (the event's policy, the sub-queue's price, the
	// event's open and done transfers), inserts the transfer, logs it and
	// queues the recipient's mail, in one transaction.
	OfferTransfer(ctx context.Context, tx TransferTx) (Transfer, int64, error)
	// CancelTransfer cancels the entry's open transfer; ErrNotFound when it
	// has none.
	CancelTransfer(ctx context.Context, entryID string, now time.Time) (Transfer, error)
	// TransferByToken returns a transfer by its token's hash (an open one
	// past its end is expired first); ErrNotFound.
	TransferByToken(ctx context.Context, tokenHash string, now time.Time) (Transfer, error)
	// EntryTransfer returns the entry's open transfer (pending or
	// verified, not past its end); ErrNotFound.
	EntryTransfer(ctx context.Context, entryID string, now time.Time) (Transfer, error)
	// SetTransferPolicy sets an event's transfer deadline, count and fee,
	// audited under staffID; ErrNotFound.
	SetTransferPolicy(ctx context.Context, slug string, p TransferPolicy, staffID int64) error
	// TransferOfOffer returns the transfer whose recipient holds offerID;
	// ErrNotFound.
	TransferOfOffer(ctx context.Context, offerID string) (Transfer, error)
	// AcceptTransfer checks the recipient's code, creates their entry
	// (refused as a duplicate when any identity key is taken in the event)
	// and hold offer, and marks the transfer verified, in one transaction.
	AcceptTransfer(ctx context.Context, tx AcceptTx) (Transfer, error)
	// CompleteTransfer moves the slot once the recipient's payment is
	// captured: in one transaction the giver's offer is voided and entry
	// transferred, the recipient's offer paid and entry confirmed, the
	// giver's refund recorded as owed, logged and mailed.
	CompleteTransfer(ctx context.Context, offerID, paymentID string, now time.Time) (TransferDone, error)
}

// HashTransferToken is how a transfer link's token is stored.
func HashTransferToken(token string) string {
	sum := sha256.Sum256([]byte("startline-transfer:" + token))
	return hex.EncodeToString(sum[:])
}

// TransferResult is a transfer offered: the stored transfer and the link's
// token (shown once, mailed to the recipient).
type TransferResult struct {
	Transfer Transfer
	Token    string
}

func (s *Service) transfers() (TransferStore, error) {
	ts, ok := s.store.(TransferStore)
	if !ok {
		return nil, &lottery.Error{Code: lottery.CodeUnavailable, Message: "transfers are not configured"}
	}
	return ts, nil
}

// OfferTransfer lets the holder of an entry's receipt token name a
// recipient for its confirmed place (Transferable); the recipient gets a
// link that takes the slot once they have paid. ErrNotFound for a bad id
// or token.
func (s *Service) OfferTransfer(ctx context.Context, entryID, token, toEmail, lang string) (TransferResult, error) {
	ts, err := s.transfers()
	if err != nil {
		return TransferResult{}, err
	}
	addr, err := identity.NormalizeEmail(toEmail)
	if err != nil {
		return TransferResult{}, lottery.Fieldf("to_email", "enter the recipient's e-mail address")
	}
	o, _, err := s.heldOffer(ctx, entryID, token)
	if err != nil {
		return TransferResult{}, err
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return TransferResult{}, fmt.Errorf("transfer token: %w", err)
	}
	link := base64.RawURLEncoding.EncodeToString(raw)
	tr, mailID, err := ts.OfferTransfer(ctx, TransferTx{ID: uuid.NewString(), EntryID: o.EntryID, OfferID: o.ID,
		ToEmail: addr.Address, ToKey: addr.Key, TokenHash: HashTransferToken(link), Now: s.clock.Now(),
		Mail: func(t Transfer) (lottery.Mail, error) { return s.transferMail(ctx, t, link, lang) }})
	if err != nil {
		return TransferResult{}, fmt.Errorf("transfer %s: %w", entryID, err)
	}
	s.log.InfoContext(ctx, "transfer offered", "transfer_id", tr.ID, "entry_id", o.EntryID)
	s.mailQueued(ctx, mailID)
	return TransferResult{Transfer: tr, Token: link}, nil
}

// CancelTransfer lets the giver cancel their entry's open transfer.
func (s *Service) CancelTransfer(ctx context.Context, entryID, token string) (Transfer, error) {
	ts, err := s.transfers()
	if err != nil {
		return Transfer{}, err
	}
	if _, err := uuid.Parse(entryID); err != nil || !s.keys.CheckReceipt(strings.ToLower(entryID), token) {
		return Transfer{}, lottery.ErrNotFound
	}
	tr, err := ts.CancelTransfer(ctx, strings.ToLower(entryID), s.clock.Now())
	if err != nil && !errors.Is(err, lottery.ErrNotFound) {
		return Transfer{}, fmt.Errorf("cancel transfer %s: %w", entryID, err)
	}
	return tr, err
}
