package lottery

import (
	"context"
	"net/http"
	"time"
)

// PaymentProvider takes payments for offers with an authorization hold:
// the runner authorizes at checkout, Startline captures only while the
// offer still holds its slot, and cancels (voids or refunds) otherwise.
// Implementations: the dev sandbox and Stripe PaymentIntents with manual
// capture (lottery/payments/stripe).
type PaymentProvider interface {
	// Name identifies the provider in stored payments ("sandbox", "stripe").
	Name() string
	// CreatePayment starts a payment for an offer and returns where to send
	// the runner. The idempotency key makes a retry return the same payment.
	CreatePayment(ctx context.Context, r PaymentRequest) (Payment, error)
	// Capture collects an authorized payment.
	Capture(ctx context.Context, paymentID, idempotencyKey string) (Payment, error)
	// Cancel releases an authorization, or refunds a captured payment.
	Cancel(ctx context.Context, paymentID, idempotencyKey string) (Payment, error)
	// Refund returns amountMinor (at most what was captured; less is a
	// partial refund) of a captured payment: a given-back slot's refund by
	// the event's refund policy. The idempotency key makes a retry refund
	// once. The answer's RefundedMinor is what this refund returned.
	// CodeInvalidTransition for a payment that was never captured.
	Refund(ctx context.Context, paymentID string, amountMinor int64, idempotencyKey string) (Payment, error)
	// ParseWebhook verifies a webhook's signature and decodes it; a bad
	// signature is ErrInvalidSignature.
	ParseWebhook(payload []byte, header http.Header, now time.Time) (PaymentEvent, error)
}

// PaymentRequest is what a provider needs to start a payment.
type PaymentRequest struct {
	OfferID        string
	AmountMinor    int64  // in the currency's minor unit (KRW has none)
	Currency       string // ISO 4217, lower case for Stripe ("krw")
	Description    string // no personal data
	ReturnURL      string
	IdempotencyKey string
}

// PaymentStatus is a provider-neutral payment state.
type PaymentStatus string

// Payment states, in the order a payment normally moves through them.
const (
	PaymentCreated    PaymentStatus = "created"
	PaymentAuthorized PaymentStatus = "authorized" // funds held, not captured
	PaymentCaptured   PaymentStatus = "captured"
	PaymentFailed     PaymentStatus = "failed"
	PaymentCanceled   PaymentStatus = "canceled" // authorization released
	PaymentRefunded   PaymentStatus = "refunded"
)

// Payment is a provider's payment as Startline sees it.
type Payment struct {
	ID          string // the provider's id
	OfferID     string
	Status      PaymentStatus
	AmountMinor int64
	Currency    string
	CheckoutURL string // where the runner authorizes (hosted page or client secret flow)
	// RefundedMinor is what a Refund returned (a partial refund is less
	// than AmountMinor).
	RefundedMinor int64
}

// PaymentEvent is one verified webhook delivery.
type PaymentEvent struct {
	ID        string // the provider's event id: deliveries are idempotent by it
	PaymentID string
	OfferID   string
	Status    PaymentStatus
	Created   time.Time // for ordering out-of-order deliveries
}

// ErrIgnoredWebhook marks a verified delivery Startline has no use for (an
// event type it does not handle, a payment it did not create): answered 200
// so the provider stops retrying.
var ErrIgnoredWebhook = &Error{Code: "ignored_webhook", Message: "event ignored"}

// ErrInvalidSignature refuses a webhook whose signature does not verify.
var ErrInvalidSignature = &Error{Code: CodeUnauthorized, Message: "webhook signature does not verify"}

// paymentRank orders payment states: a state never moves to a lower rank,
// so a late "authorized" webhook cannot undo a capture. A failed attempt
// ranks below authorized: after a declined card the runner may retry, and
// the later authorization must still count.
var paymentRank = map[PaymentStatus]int{PaymentCreated: 0, PaymentFailed: 1, PaymentAuthorized: 2, PaymentCaptured: 3,
	PaymentCanceled: 4, PaymentRefunded: 5}

// Later reports whether moving from a to b goes forward.
func (a PaymentStatus) Later(b PaymentStatus) bool { return paymentRank[b] > paymentRank[a] }
