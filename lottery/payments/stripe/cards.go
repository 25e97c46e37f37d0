package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	stripeapi "github.com/stripe/stripe-go/v85"

	"github.com/startline/startline/lottery"
)

// Card on file with Stripe: at entry a Customer and a SetupIntent (usage
// off_session, card only) are created and the applicant confirms the card
// with Stripe.js (stripe.confirmSetup with the client secret); once it
// succeeded its PaymentMethod carries card.fingerprint, which is the same
// for one card number across customers of the account and links entries
// paying with one card. A selected runner's card is then charged with a
// PaymentIntent created with confirm=true and off_session=true, captured
// at once. A decline is an answer (lottery.CardDecline), not an error; a
// rate limit or an unreachable Stripe wraps lottery.ErrProviderBusy.

var _ lottery.CardProvider = (*Provider)(nil)

// metadataEvent is the Customer and SetupIntent metadata key naming the
// event: the only thing Startline tells Stripe about an applicant.
const metadataEvent = "event"

// metadataCardCharge marks an off-session charge's PaymentIntent, whose
// webhooks ParseWebhook ignores (the charge pass records it).
const metadataCardCharge = "card_charge"

// StartCardSetup creates a Customer (no personal data: the event's slug
// only) and a SetupIntent saving a card for off-session use. ConfirmURL is
// "stripe:<client_secret>?return_url=<url>" like CreatePayment's
// CheckoutURL (ParseCheckoutURL reads it): the page renders Stripe.js's
// card element and calls stripe.confirmSetup with it. The idempotency key
// (required) makes a retry within 24 hours return the same Customer and
// SetupIntent.
func (p *Provider) StartCardSetup(ctx context.Context, r lottery.CardSetupRequest) (lottery.CardSetup, error) {
	if r.IdempotencyKey == "" {
		return lottery.CardSetup{}, lottery.Fieldf("idempotency_key", "a setup needs an idempotency key")
	}
	returnURL, err := p.resolveReturnURL(r.ReturnURL)
	if err != nil {
		return lottery.CardSetup{}, err
	}
	meta := map[string]string{}
	if r.EventSlug != "" {
		meta[metadataEvent] = r.EventSlug
	}
	cp := &stripeapi.CustomerCreateParams{Metadata: meta}
	cp.SetIdempotencyKey(r.IdempotencyKey + ":customer")
	cus, err := p.client.V1Customers.Create(ctx, cp)
	if err != nil {
		return lottery.CardSetup{}, translate("create customer for a card setup", err)
	}
	sp := &stripeapi.SetupIntentCreateParams{
		Customer:           stripeapi.String(cus.ID),
		Usage:              stripeapi.String(string(stripeapi.SetupIntentUsageOffSession)),
		PaymentMethodTypes: stripeapi.StringSlice([]string{"card"}),
		Metadata:           meta,
	}
	sp.SetIdempotencyKey(r.IdempotencyKey)
	si, err := p.client.V1SetupIntents.Create(ctx, sp)
	if err != nil {
		return lottery.CardSetup{}, translate("create setup intent", err)
	}
	return lottery.CardSetup{ID: si.ID, ConfirmURL: checkoutURL(si.ClientSecret, returnURL)}, nil
}

// CardSetupResult reads a SetupIntent with its PaymentMethod: the saved
// card once it succeeded; CodeInvalidTransition while the applicant has not
// confirmed it (requires_payment_method, requires_confirmation,
// requires_action, processing) or it was cancelled; CodeNotFound for an
// unknown id.
func (p *Provider) CardSetupResult(ctx context.Context, setupID string) (lottery.SavedCard, error) {
	params := &stripeapi.SetupIntentRetrieveParams{}
	params.AddExpand("payment_method")
	si, err := p.client.V1SetupIntents.Retrieve(ctx, setupID, params)
	if err != nil {
		return lottery.SavedCard{}, translate("card setup "+setupID, err)
	}
	return savedCard(si)
}

// savedCard maps a retrieved SetupIntent (payment_method expanded).
func savedCard(si *stripeapi.SetupIntent) (lottery.SavedCard, error) {
	if si.Status != stripeapi.SetupIntentStatusSucceeded {
		return lottery.SavedCard{}, fmt.Errorf("card setup %s is %s: %w", si.ID, si.Status,
			&lottery.Error{Code: lottery.CodeInvalidTransition, Message: "the card is not confirmed yet"})
	}
	pm := si.PaymentMethod
	if pm == nil || pm.Card == nil || pm.Card.Fingerprint == "" || si.Customer == nil {
		// Cannot happen for a card SetupIntent with a customer: a bug.
		return lottery.SavedCard{}, fmt.Errorf("card setup %s succeeded without a card, fingerprint or customer", si.ID)
	}
	return lottery.SavedCard{Provider: ProviderName, SetupID: si.ID, PaymentMethod: pm.ID, Customer: si.Customer.ID,
		Fingerprint: pm.Card.Fingerprint, Brand: string(pm.Card.Brand), Last4: pm.Card.Last4}, nil
}

// ChargeCard charges a saved card off-session: a PaymentIntent created with
// confirm=true, off_session=true and automatic capture, so a success is a
// captured Payment. A declined card (Stripe's 402 card_error, or an intent
// left needing the runner) is a failed Payment and a CardDecline whose
// Retry says whether a later attempt may help (RetryableDecline). A rate
// limit, a Stripe outage or no answer wraps lottery.ErrProviderBusy:
// nothing is decided, and retrying with the same idempotency key is safe
// (Stripe replays the first answer). The idempotency key is required: an
// off-session charge retried without one could charge twice.
func (p *Provider) ChargeCard(ctx context.Context, r lottery.CardCharge) (lottery.Payment, lottery.CardDecline, error) {
	switch {
	case r.OfferID == "":
		return lottery.Payment{}, lottery.CardDecline{}, lottery.Fieldf("offer_id", "an offer is required")
	case r.AmountMinor <= 0:
		return lottery.Payment{}, lottery.CardDecline{}, lottery.Fieldf("amount", "the amount must be positive")
	case len(r.Currency) != 3:
		return lottery.Payment{}, lottery.CardDecline{}, lottery.Fieldf("currency", "the currency must be an ISO 4217 code")
	case r.Card.PaymentMethod == "" || r.Card.Customer == "":
		return lottery.Payment{}, lottery.CardDecline{}, lottery.Fieldf("card", "a saved card (payment method and customer) is required")
	case r.IdempotencyKey == "":
		return lottery.Payment{}, lottery.CardDecline{}, lottery.Fieldf("idempotency_key", "an off-session charge needs an idempotency key")
	}
	params := &stripeapi.PaymentIntentCreateParams{
		Amount:             stripeapi.Int64(r.AmountMinor),
		Currency:           stripeapi.String(strings.ToLower(r.Currency)),
		Customer:           stripeapi.String(r.Card.Customer),
		PaymentMethod:      stripeapi.String(r.Card.PaymentMethod),
		PaymentMethodTypes: stripeapi.StringSlice([]string{"card"}),
		OffSession:         stripeapi.Bool(true),
		Confirm:            stripeapi.Bool(true),
		CaptureMethod:      stripeapi.String(string(stripeapi.PaymentIntentCaptureMethodAutomatic)),
		Metadata:           map[string]string{metadataOfferID: r.OfferID, metadataCardCharge: "1"},
	}
	if r.Description != "" {
		params.Description = stripeapi.String(r.Description)
	}
	params.SetIdempotencyKey(r.IdempotencyKey)
	op := "charge card for offer " + r.OfferID
	pi, err := p.client.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		return chargeError(op, r, err)
	}
	pay, decline := chargeOutcome(pi)
	if pay.OfferID == "" {
		pay.OfferID = r.OfferID
	}
	return pay, decline, nil
}

// chargeOutcome maps the PaymentIntent an off-session confirm returned.
// Stripe answers a decline with an error, so anything but succeeded (or
// processing, settled later by the payment_intent.succeeded webhook) is
// treated as one, coded from last_payment_error when Stripe gave it.
func chargeOutcome(pi *stripeapi.PaymentIntent) (lottery.Payment, lottery.CardDecline) {
	pay := toPayment(pi)
	switch pi.Status {
	case stripeapi.PaymentIntentStatusSucceeded, stripeapi.PaymentIntentStatusProcessing:
		return pay, lottery.CardDecline{}
	}
	code := string(pi.Status)
	if pi.Status == stripeapi.PaymentIntentStatusRequiresAction {
		code = string(stripeapi.ErrorCodeAuthenticationRequired)
	}
	if c := declineCode(pi.LastPaymentError); c != "" {
		code = c
	}
	pay.Status = lottery.PaymentFailed
	return pay, lottery.CardDecline{Code: code, Retry: RetryableDecline(code)}
}

// chargeError sorts a failed off-session charge: a card error is a
// decline, a provider that is busy or unreachable ErrProviderBusy, the
// rest (a bad request, an unknown payment method) translate's codes.
func chargeError(op string, r lottery.CardCharge, err error) (lottery.Payment, lottery.CardDecline, error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return lottery.Payment{}, lottery.CardDecline{}, fmt.Errorf("stripe %s: %w", op, err)
	}
	var se *stripeapi.Error
	if !errors.As(err, &se) || ProviderBusy(se.HTTPStatusCode) {
		return lottery.Payment{}, lottery.CardDecline{}, fmt.Errorf("stripe %s: %w: %w", op, lottery.ErrProviderBusy, err)
	}
	if se.Type != stripeapi.ErrorTypeCard {
		return lottery.Payment{}, lottery.CardDecline{}, translate(op, err)
	}
	pay := lottery.Payment{OfferID: r.OfferID, Status: lottery.PaymentFailed, AmountMinor: r.AmountMinor,
		Currency: strings.ToLower(r.Currency)}
	if se.PaymentIntent != nil {
		pay.ID = se.PaymentIntent.ID // the failed intent, for the log and support
	}
	code := declineCode(se)
	return pay, lottery.CardDecline{Code: code, Retry: RetryableDecline(code)}, nil
}

// declineCode is the issuer's decline_code when Stripe gives one (a
// card_declined error), else the error's code (expired_card,
// incorrect_cvc, authentication_required).
func declineCode(se *stripeapi.Error) string {
	switch {
	case se == nil:
		return ""
	case se.DeclineCode != "":
		return string(se.DeclineCode)
	}
	return string(se.Code)
}

// ProviderBusy says whether an HTTP status from Stripe means "try again
// later" with nothing decided: 429 (rate limited, including lock
// timeouts), 409 (a concurrent request with the same idempotency key) and
// 5xx. The idempotency key makes the retry safe.
func ProviderBusy(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusConflict || status >= 500
}

// RetryableDecline says whether charging a declined card again later may
// succeed: the issuer was short of funds, busy or failed to process it.
// Every other decline is final for an off-session charge — the card is
// lost, stolen, expired, refused, or needs the runner present
// (authentication_required), who then pays on the offer page instead.
func RetryableDecline(code string) bool {
	switch code {
	case "insufficient_funds", // funds may arrive before the next attempt
		"processing_error", "try_again_later", "issuer_not_available", "reenter_transaction", "approve_with_id",
		"rate_limit":
		return true
	}
	return false
}
