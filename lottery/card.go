package lottery

import "context"

// CardProvider is a payment provider that also saves cards and charges
// them off-session: an event's card-on-file option (Chicago's model: the
// card given at entry is charged as soon as the runner is selected, which
// makes holding entries to resell them expensive). Implemented by the
// sandbox (a hosted setup step with test cards) and Stripe (a SetupIntent
// with usage off_session, then a PaymentIntent confirmed off_session).
type CardProvider interface {
	PaymentProvider
	// StartCardSetup begins saving a card for an applicant and returns
	// where they confirm it. The idempotency key makes a retry return the
	// same setup.
	StartCardSetup(ctx context.Context, r CardSetupRequest) (CardSetup, error)
	// CardSetupResult reads a setup: the saved card with its fingerprint
	// once the applicant confirmed it; CodeInvalidTransition while it is
	// not confirmed (or failed), ErrNotFound for an unknown id.
	CardSetupResult(ctx context.Context, setupID string) (SavedCard, error)
	// ChargeCard charges a saved card off-session and captures at once.
	// A declined card is a Payment with Status PaymentFailed and
	// DeclineCode set (no error); a provider asking to slow down or
	// unreachable is an error wrapping ErrProviderBusy (retry later).
	ChargeCard(ctx context.Context, r CardCharge) (Payment, CardDecline, error)
}

// CardSetupRequest is what starting a card setup needs. No personal data
// goes to the provider beyond what the card form itself collects.
type CardSetupRequest struct {
	EventSlug      string
	ReturnURL      string // where the applicant comes back after confirming
	IdempotencyKey string
}

// CardSetup is a started setup: its id and the page where the applicant
// enters and confirms the card (the sandbox's hosted page, or Stripe's
// client-secret URL for Stripe.js).
type CardSetup struct {
	ID         string
	ConfirmURL string
}

// SavedCard is a confirmed setup: what an off-session charge needs
// (PaymentMethod, Customer), the fingerprint that links entries paying
// with the same card, and what people are shown (brand, last four).
type SavedCard struct {
	Provider      string
	SetupID       string
	PaymentMethod string
	Customer      string
	Fingerprint   string
	Brand         string
	Last4         string
}

// CardCharge is one off-session charge of a saved card for an offer.
type CardCharge struct {
	OfferID        string
	Card           SavedCard
	AmountMinor    int64
	Currency       string
	Description    string // no personal data
	IdempotencyKey string // one per attempt that may be retried safely
}

// CardDecline says why a card was declined and whether trying again later
// can help (insufficient funds, a processing error) or not (a stolen card,
// authentication required off-session: the runner must pay on the page).
type CardDecline struct {
	Code  string // the provider's decline code, never card data
	Retry bool
}

// ErrProviderBusy marks a provider that asked to slow down (HTTP 429) or
// could not be reached: the charge is retried later, nothing is decided.
var ErrProviderBusy = &Error{Code: CodeUnavailable, Message: "the payment provider is busy; retried later"}
