// Package stripe implements lottery.PaymentProvider with Stripe
// PaymentIntents and manual capture: the runner authorizes a hold on the
// offer's price in the browser (Stripe.js), Startline captures it while the
// offer still holds its slot, and cancels it (releasing the hold) or refunds
// it otherwise. Webhooks are verified with Stripe's documented
// Stripe-Signature scheme. It is also a lottery.CardProvider (cards.go):
// cards saved with SetupIntents and charged off-session.
//
// The runner's browser never leaves Startline: CreatePayment returns a
// CheckoutURL of the form "stripe:<client_secret>?return_url=<url>" (see
// ParseCheckoutURL), which Startline's checkout page renders into Stripe.js
// Payment Element; it is not a link to redirect to.
package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	stripeapi "github.com/stripe/stripe-go/v85"

	"github.com/startline/startline/lottery"
)

// Config configures a Provider. APIKey and WebhookSecret are secrets: log
// neither.
type Config struct {
	// APIKey is the secret (sk_…) or restricted (rk_…) API key. A restricted
	// key needs write access to PaymentIntents and Refunds; card on file
	// (cards.go) also Customers and SetupIntents, and read access to
	// PaymentMethods.
	APIKey string
	// WebhookSecret is the endpoint's signing secret (whsec_…).
	WebhookSecret string
	// BaseURL overrides the API's base URL, e.g. http://127.0.0.1:12111 for
	// stripe-mock; empty means https://api.stripe.com.
	BaseURL string
	// ReturnURLBase is Startline's absolute public URL. A relative
	// PaymentRequest.ReturnURL is resolved against it (Stripe redirects
	// only to absolute URLs), and an absolute one must share its scheme and
	// host. Empty: return URLs must be absolute and may point anywhere.
	ReturnURLBase string
	// PaymentMethodTypes restricts the payment methods offered, e.g.
	// "card" (card holds last about 7 days); empty enables Stripe's automatic
	// payment methods as set in the Dashboard.
	PaymentMethodTypes []string
	// HTTPClient is used for API calls; nil means stripe-go's default (80 s
	// timeout).
	HTTPClient *http.Client
}

// Provider is a lottery.PaymentProvider backed by Stripe PaymentIntents. It
// is safe for concurrent use.
type Provider struct {
	client        *stripeapi.Client
	webhookSecret []byte
	returnBase    *url.URL
	methodTypes   []string
}

var _ lottery.PaymentProvider = (*Provider)(nil)

// ProviderName is the name Stripe payments are stored under.
const ProviderName = "stripe"

// New validates cfg and returns a Provider; it makes no network call.
func New(cfg Config) (*Provider, error) {
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, errors.New("stripe: APIKey is required")
	}
	if cfg.WebhookSecret == "" {
		return nil, errors.New("stripe: WebhookSecret is required")
	}
	p := &Provider{webhookSecret: []byte(cfg.WebhookSecret), methodTypes: cfg.PaymentMethodTypes}
	bc := &stripeapi.BackendConfig{
		HTTPClient: cfg.HTTPClient,
		// Errors are returned to the caller, which logs them once.
		LeveledLogger: &stripeapi.LeveledLogger{Level: stripeapi.LevelNull},
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("stripe: BaseURL %q is not an absolute http(s) URL", cfg.BaseURL)
		}
		bc.URL = stripeapi.String(cfg.BaseURL)
	}
	if cfg.ReturnURLBase != "" {
		u, err := url.Parse(cfg.ReturnURLBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("stripe: ReturnURLBase %q is not an absolute http(s) URL", cfg.ReturnURLBase)
		}
		p.returnBase = u
	}
	api := stripeapi.GetBackendWithConfig(stripeapi.APIBackend, bc)
	p.client = stripeapi.NewClient(cfg.APIKey, stripeapi.WithBackends(&stripeapi.Backends{
		API: api, Connect: api, Uploads: api, MeterEvents: api,
	}))
	return p, nil
}

// Name returns "stripe".
func (p *Provider) Name() string { return ProviderName }

// metadataOfferID is the PaymentIntent metadata key that carries the offer.
const metadataOfferID = "offer_id"

// CreatePayment creates a manual-capture PaymentIntent for the offer. The
// same IdempotencyKey returns the same PaymentIntent for 24 hours; reusing it
// with another amount is ErrIdempotencyMismatch. Invalid requests are
// CodeInvalidField, Stripe outages CodeUnavailable.
func (p *Provider) CreatePayment(ctx context.Context, r lottery.PaymentRequest) (lottery.Payment, error) {
	switch {
	case r.OfferID == "":
		return lottery.Payment{}, lottery.Fieldf("offer_id", "an offer is required")
	case r.AmountMinor <= 0:
		return lottery.Payment{}, lottery.Fieldf("amount", "the amount must be positive")
	case len(r.Currency) != 3:
		return lottery.Payment{}, lottery.Fieldf("currency", "the currency must be an ISO 4217 code")
	}
	returnURL, err := p.resolveReturnURL(r.ReturnURL)
	if err != nil {
		return lottery.Payment{}, err
	}
	params := &stripeapi.PaymentIntentCreateParams{
		Amount:        stripeapi.Int64(r.AmountMinor),
		Currency:      stripeapi.String(strings.ToLower(r.Currency)),
		CaptureMethod: stripeapi.String(string(stripeapi.PaymentIntentCaptureMethodManual)),
		Metadata:      map[string]string{metadataOfferID: r.OfferID},
	}
	if r.Description != "" {
		params.Description = stripeapi.String(r.Description)
	}
	if len(p.methodTypes) > 0 {
		params.PaymentMethodTypes = stripeapi.StringSlice(p.methodTypes)
	} else {
		params.AutomaticPaymentMethods = &stripeapi.PaymentIntentCreateAutomaticPaymentMethodsParams{Enabled: stripeapi.Bool(true)}
	}
	if r.IdempotencyKey != "" {
		params.SetIdempotencyKey(r.IdempotencyKey)
	}
	pi, err := p.client.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		return lottery.Payment{}, translate("create payment for offer "+r.OfferID, err)
	}
	out := toPayment(pi)
	if out.OfferID == "" {
		out.OfferID = r.OfferID
	}
	out.CheckoutURL = checkoutURL(pi.ClientSecret, returnURL)
	return out, nil
}

// Capture captures an authorized PaymentIntent in full. Capturing one that
// is already captured returns it as captured; one that was never authorized
// or was cancelled is ErrInvalidTransition; an unknown id ErrNotFound.
func (p *Provider) Capture(ctx context.Context, paymentID, idempotencyKey string) (lottery.Payment, error) {
	params := &stripeapi.PaymentIntentCaptureParams{}
	if idempotencyKey != "" {
		params.SetIdempotencyKey(idempotencyKey)
	}
	pi, err := p.client.V1PaymentIntents.Capture(ctx, paymentID, params)
	if isCode(err, stripeapi.ErrorCodePaymentIntentUnexpectedState) {
		// A retry with a fresh key after a capture that went through.
		cur, rerr := p.retrieve(ctx, paymentID)
		if rerr == nil && cur.Status == stripeapi.PaymentIntentStatusSucceeded {
			return toPayment(cur), nil
		}
	}
	if err != nil {
		return lottery.Payment{}, translate("capture "+paymentID, err)
	}
	return toPayment(pi), nil
}

// Cancel releases a PaymentIntent that is not captured (cancelling it, so
// the runner can no longer pay), or refunds one that is. Cancelling one that
// is already cancelled or refunded returns it unchanged. The refund is sent
// with idempotencyKey + ":refund", so that a key first used for a cancel
// that lost a race with a capture is not reused for another request.
func (p *Provider) Cancel(ctx context.Context, paymentID, idempotencyKey string) (lottery.Payment, error) {
	pi, err := p.retrieve(ctx, paymentID)
	if err != nil {
		return lottery.Payment{}, translate("cancel "+paymentID, err)
	}
	switch pi.Status {
	case stripeapi.PaymentIntentStatusCanceled:
		return toPayment(pi), nil
	case stripeapi.PaymentIntentStatusSucceeded:
		return p.refund(ctx, pi, idempotencyKey)
	}
	params := &stripeapi.PaymentIntentCancelParams{
		CancellationReason: stripeapi.String(string(stripeapi.PaymentIntentCancellationReasonAbandoned)),
	}
	if idempotencyKey != "" {
		params.SetIdempotencyKey(idempotencyKey)
	}
	canceled, err := p.client.V1PaymentIntents.Cancel(ctx, paymentID, params)
	if isCode(err, stripeapi.ErrorCodePaymentIntentUnexpectedState) {
		// Captured between the retrieve and the cancel: refund instead.
		if cur, rerr := p.retrieve(ctx, paymentID); rerr == nil {
			switch cur.Status {
			case stripeapi.PaymentIntentStatusSucceeded:
				return p.refund(ctx, cur, idempotencyKey)
			case stripeapi.PaymentIntentStatusCanceled:
				return toPayment(cur), nil
			}
		}
	}
	if err != nil {
		return lottery.Payment{}, translate("cancel "+paymentID, err)
	}
	out := toPayment(canceled)
	if out.OfferID == "" {
		out.OfferID = pi.Metadata[metadataOfferID]
	}
	return out, nil
}

// Refund refunds amount (all or part) of a captured PaymentIntent with one
// Refund object; the idempotency key makes a retry refund once. A charge
// refunded already answers as refunded with nothing more returned.
func (p *Provider) Refund(ctx context.Context, paymentID string, amount int64, idempotencyKey string) (lottery.Payment, error) {
	if amount <= 0 {
		return lottery.Payment{}, lottery.Fieldf("amount", "a refund is above 0")
	}
	params := &stripeapi.RefundCreateParams{PaymentIntent: stripeapi.String(paymentID), Amount: stripeapi.Int64(amount),
		Reason: stripeapi.String(string(stripeapi.RefundReasonRequestedByCustomer))}
	if idempotencyKey != "" {
		params.SetIdempotencyKey(idempotencyKey)
	}
	re, err := p.client.V1Refunds.Create(ctx, params)
	if isCode(err, stripeapi.ErrorCodeChargeAlreadyRefunded) {
		return lottery.Payment{ID: paymentID, Status: lottery.PaymentRefunded}, nil
	}
	if err != nil {
		return lottery.Payment{}, translate("refund "+paymentID, err)
	}
	switch re.Status {
	case stripeapi.RefundStatusFailed, stripeapi.RefundStatusCanceled:
		return lottery.Payment{}, fmt.Errorf("refund %s: refund %s is %s: %w", paymentID, re.ID, re.Status,
			&lottery.Error{Code: lottery.CodeUnavailable, Message: "the refund did not go through"})
	}
	return lottery.Payment{ID: paymentID, Status: lottery.PaymentRefunded, RefundedMinor: re.Amount,
		Currency: string(re.Currency)}, nil
}

// refund refunds a captured PaymentIntent in full.
func (p *Provider) refund(ctx context.Context, pi *stripeapi.PaymentIntent, idempotencyKey string) (lottery.Payment, error) {
	out := toPayment(pi)
	if pi.LatestCharge != nil && pi.LatestCharge.Refunded {
		out.Status = lottery.PaymentRefunded
		return out, nil
	}
	params := &stripeapi.RefundCreateParams{PaymentIntent: stripeapi.String(pi.ID)}
	if out.OfferID != "" {
		params.Metadata = map[string]string{metadataOfferID: out.OfferID}
	}
	if idempotencyKey != "" {
		params.SetIdempotencyKey(idempotencyKey + ":refund")
	}
	re, err := p.client.V1Refunds.Create(ctx, params)
	if isCode(err, stripeapi.ErrorCodeChargeAlreadyRefunded) {
		out.Status = lottery.PaymentRefunded
		return out, nil
	}
	if err != nil {
		return lottery.Payment{}, translate("refund "+pi.ID, err)
	}
	switch re.Status {
	case stripeapi.RefundStatusFailed, stripeapi.RefundStatusCanceled:
		return lottery.Payment{}, fmt.Errorf("refund %s: refund %s is %s: %w", pi.ID, re.ID, re.Status,
			&lottery.Error{Code: lottery.CodeUnavailable, Message: "the refund did not go through"})
	}
	out.Status = lottery.PaymentRefunded
	return out, nil
}

// retrieve fetches a PaymentIntent with its latest charge, whose refunded
// flag tells a refunded payment from a captured one.
func (p *Provider) retrieve(ctx context.Context, id string) (*stripeapi.PaymentIntent, error) {
	params := &stripeapi.PaymentIntentRetrieveParams{}
	params.AddExpand("latest_charge")
	return p.client.V1PaymentIntents.Retrieve(ctx, id, params)
}

// MapStatus maps a PaymentIntent status to a payment state. A refund is not
// a PaymentIntent status: a refunded intent stays "succeeded".
func MapStatus(s string) lottery.PaymentStatus {
	switch stripeapi.PaymentIntentStatus(s) {
	case stripeapi.PaymentIntentStatusRequiresCapture:
		return lottery.PaymentAuthorized
	case stripeapi.PaymentIntentStatusSucceeded:
		return lottery.PaymentCaptured
	case stripeapi.PaymentIntentStatusCanceled:
		return lottery.PaymentCanceled
	default: // requires_payment_method, requires_confirmation, requires_action, processing
		return lottery.PaymentCreated
	}
}

func toPayment(pi *stripeapi.PaymentIntent) lottery.Payment {
	out := lottery.Payment{
		ID:          pi.ID,
		OfferID:     pi.Metadata[metadataOfferID],
		Status:      MapStatus(string(pi.Status)),
		AmountMinor: pi.Amount,
		Currency:    string(pi.Currency),
	}
	if out.Status == lottery.PaymentCaptured && pi.LatestCharge != nil && pi.LatestCharge.Refunded {
		out.Status = lottery.PaymentRefunded
	}
	return out
}

// resolveReturnURL makes a return URL absolute against ReturnURLBase.
func (p *Provider) resolveReturnURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", lottery.Fieldf("return_url", "the return URL does not parse")
	}
	if !u.IsAbs() && p.returnBase != nil {
		u = p.returnBase.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", lottery.Fieldf("return_url", "the return URL must be absolute (set ReturnURLBase)")
	}
	if p.returnBase != nil && (u.Scheme != p.returnBase.Scheme || !strings.EqualFold(u.Host, p.returnBase.Host)) {
		// Stripe redirects the runner there: no open redirect to other sites.
		return "", lottery.Fieldf("return_url", "the return URL must be on Startline's own site")
	}
	return u.String(), nil
}

// CheckoutScheme prefixes the CheckoutURL that CreatePayment returns.
const CheckoutScheme = "stripe:"

func checkoutURL(clientSecret, returnURL string) string {
	s := CheckoutScheme + clientSecret
	if returnURL != "" {
		s += "?" + url.Values{"return_url": {returnURL}}.Encode()
	}
	return s
}

// ParseCheckoutURL splits a CheckoutURL returned by CreatePayment into the
// PaymentIntent's client secret, which the checkout page passes to Stripe.js
// (stripe.elements({clientSecret}) and stripe.confirmPayment), and the
// absolute return URL Stripe sends the runner back to (empty when none was
// given). The client secret authorizes paying this one intent: render it
// only into the runner's own page; never log it or put it in a link.
func ParseCheckoutURL(s string) (clientSecret, returnURL string, err error) {
	rest, ok := strings.CutPrefix(s, CheckoutScheme)
	if !ok {
		return "", "", fmt.Errorf("stripe: %q is not a Stripe checkout", redactSecret(s))
	}
	secret, query, _ := strings.Cut(rest, "?")
	if !strings.Contains(secret, "_secret_") {
		return "", "", errors.New("stripe: checkout has no client secret")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", "", fmt.Errorf("stripe: checkout query: %w", err)
	}
	return secret, q.Get("return_url"), nil
}

func redactSecret(s string) string {
	if i := strings.Index(s, "_secret_"); i >= 0 {
		return s[:i] + "_secret_…"
	}
	return s
}

func isCode(err error, code stripeapi.ErrorCode) bool {
	var se *stripeapi.Error
	return errors.As(err, &se) && se.Code == code
}

// translate wraps a Stripe error with the lottery error code that the
// caller acts on, keeping Stripe's error in the chain for the log.
func translate(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stripe %s: %w", op, err)
	}
	var se *stripeapi.Error
	if !errors.As(err, &se) {
		// No answer from Stripe (network, TLS, a response that does not parse).
		return fmt.Errorf("stripe %s: %w: %w", op,
			&lottery.Error{Code: lottery.CodeUnavailable, Message: "the payment provider is unavailable"}, err)
	}
	var code *lottery.Error
	switch {
	case se.Type == stripeapi.ErrorTypeIdempotency:
		code = lottery.ErrIdempotencyMismatch
	case se.Code == stripeapi.ErrorCodeResourceMissing || se.HTTPStatusCode == http.StatusNotFound:
		code = &lottery.Error{Code: lottery.CodeNotFound, Message: "payment not found"}
	case se.Code == stripeapi.ErrorCodePaymentIntentUnexpectedState:
		code = &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "the payment's state does not allow this"}
	case se.HTTPStatusCode == http.StatusTooManyRequests || se.HTTPStatusCode >= 500 || se.HTTPStatusCode == http.StatusConflict:
		code = &lottery.Error{Code: lottery.CodeUnavailable, Message: "the payment provider is unavailable"}
	default: // bad key, bad request: a bug or misconfiguration, CodeInternal
		return fmt.Errorf("stripe %s: %w", op, err)
	}
	return fmt.Errorf("stripe %s: %w: %w", op, code, err)
}
