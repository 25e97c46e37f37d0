package stripe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/startline/startline/lottery"
)

// SignatureHeader is the header that carries a webhook's signature.
const SignatureHeader = "Stripe-Signature"

// Tolerance is how far a webhook's signed timestamp may be from now, either
// way, before the delivery is refused as a replay (Stripe's default).
const Tolerance = 5 * time.Minute

// Event types ParseWebhook decodes; subscribe the webhook endpoint to these.
const (
	EventAmountCapturableUpdated = "payment_intent.amount_capturable_updated" // authorized
	EventPaymentIntentSucceeded  = "payment_intent.succeeded"                 // captured
	EventPaymentFailed           = "payment_intent.payment_failed"            // failed
	EventPaymentIntentCanceled   = "payment_intent.canceled"                  // canceled
	EventChargeRefunded          = "charge.refunded"                          // refunded
)

// Events lists the event types to enable on the Stripe webhook endpoint.
var Events = []string{EventAmountCapturableUpdated, EventPaymentIntentSucceeded, EventPaymentFailed,
	EventPaymentIntentCanceled, EventChargeRefunded}

var eventStatus = map[string]lottery.PaymentStatus{
	EventAmountCapturableUpdated: lottery.PaymentAuthorized,
	EventPaymentIntentSucceeded:  lottery.PaymentCaptured,
	EventPaymentFailed:           lottery.PaymentFailed,
	EventPaymentIntentCanceled:   lottery.PaymentCanceled,
	EventChargeRefunded:          lottery.PaymentRefunded,
}

// ErrIgnoredEvent is a verified delivery that Startline has no use for: an
// event type it does not handle, or a PaymentIntent it did not create. The
// webhook handler answers it 200 so Stripe stops resending it.
var ErrIgnoredEvent error = lottery.ErrIgnoredWebhook

// SignWebhook returns a Stripe-Signature header value for payload signed
// with secret at t, as Stripe signs deliveries: "t=<unix>,v1=<hex
// HMAC-SHA256 of "<unix>.<payload>">". Tests use it to make deliveries.
func SignWebhook(secret string, payload []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(signature([]byte(secret), ts, payload))
}

func signature(secret []byte, ts string, payload []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(payload)
	return mac.Sum(nil)
}

// verify checks a Stripe-Signature header against payload: some v1
// signature must match (Stripe sends several while a secret is rolled) and
// the timestamp must be within Tolerance of now. Other schemes (v0) are
// ignored.
func verify(secret, payload []byte, header string, now time.Time) error {
	if header == "" {
		return invalid("no " + SignatureHeader + " header")
	}
	var ts string
	var sigs [][]byte
	for item := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil && len(sig) == sha256.Size {
				sigs = append(sigs, sig)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return invalid("no timestamp")
	}
	if len(sigs) == 0 {
		return invalid("no v1 signature")
	}
	want := signature(secret, ts, payload)
	match := false
	for _, sig := range sigs {
		// Every candidate is compared, in constant time.
		if hmac.Equal(sig, want) {
			match = true
		}
	}
	if !match {
		return invalid("no signature matches")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > Tolerance || d < -Tolerance {
		return invalid("timestamp outside the tolerance")
	}
	return nil
}

func invalid(why string) error {
	return fmt.Errorf("stripe webhook: %s: %w", why, lottery.ErrInvalidSignature)
}

// event is the part of a Stripe event that Startline reads; it holds for
// every API version.
type event struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Type    string `json:"type"`
	Created int64  `json:"created"`
	Data    struct {
		Object *eventObject `json:"object"`
	} `json:"data"`
}

type eventObject struct {
	ID            string            `json:"id"`
	Object        string            `json:"object"`
	Metadata      map[string]string `json:"metadata"`
	PaymentIntent json.RawMessage   `json:"payment_intent"` // charges: an id, or the expanded intent
}

// ParseWebhook verifies the Stripe-Signature header (ErrInvalidSignature
// when it is missing, does not match, or is older or newer than Tolerance)
// and decodes the event. Event types outside Events, and PaymentIntents
// without Startline's offer_id metadata, are ErrIgnoredEvent; a verified
// body that is not a Stripe event is CodeInvalidJSON. For charge.refunded,
// PaymentID is the charge's PaymentIntent and OfferID is empty unless the
// charge carries the offer_id metadata: look the payment up by its id.
func (p *Provider) ParseWebhook(payload []byte, header http.Header, now time.Time) (lottery.PaymentEvent, error) {
	if err := verify(p.webhookSecret, payload, signatureHeader(header), now); err != nil {
		return lottery.PaymentEvent{}, err
	}
	var ev event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return lottery.PaymentEvent{}, badEvent("the body is not JSON")
	}
	if ev.Object != "event" || ev.ID == "" || ev.Type == "" || ev.Created <= 0 || ev.Data.Object == nil {
		return lottery.PaymentEvent{}, badEvent("the body is not a Stripe event")
	}
	status, ok := eventStatus[ev.Type]
	if !ok {
		return lottery.PaymentEvent{}, fmt.Errorf("%w: type %s (event %s)", ErrIgnoredEvent, ev.Type, ev.ID)
	}
	obj := ev.Data.Object
	out := lottery.PaymentEvent{
		ID:      ev.ID,
		OfferID: obj.Metadata[metadataOfferID],
		Status:  status,
		Created: time.Unix(ev.Created, 0).UTC(),
	}
	switch obj.Object {
	case "payment_intent":
		if ev.Type == EventChargeRefunded || obj.ID == "" {
			return lottery.PaymentEvent{}, badEvent("a " + ev.Type + " event without its charge")
		}
		if out.OfferID == "" {
			return lottery.PaymentEvent{}, fmt.Errorf("%w: payment intent %s has no offer (event %s)", ErrIgnoredEvent, obj.ID, ev.ID)
		}
		// An off-session card charge is recorded by the charge pass from
		// Stripe's answer (replayed with its idempotency key after a
		// crash); a webhook recording it too would race the pass (a
		// capture seen as "paid by another payment" and refunded) or save
		// a decline the pass already turned into the pay link.
		if obj.Metadata[metadataCardCharge] != "" {
			return lottery.PaymentEvent{}, fmt.Errorf("%w: payment intent %s is an off-session card charge (event %s)", ErrIgnoredEvent, obj.ID, ev.ID)
		}
		out.PaymentID = obj.ID
	case "charge":
		if ev.Type != EventChargeRefunded {
			return lottery.PaymentEvent{}, badEvent("a " + ev.Type + " event without its payment intent")
		}
		out.PaymentID = intentID(obj.PaymentIntent)
		if out.PaymentID == "" {
			return lottery.PaymentEvent{}, fmt.Errorf("%w: charge %s has no payment intent (event %s)", ErrIgnoredEvent, obj.ID, ev.ID)
		}
	default:
		return lottery.PaymentEvent{}, badEvent("a " + ev.Type + " event for a " + obj.Object)
	}
	return out, nil
}

// signatureHeader reads the Stripe-Signature header, also from a header
// map whose keys were not canonicalized.
func signatureHeader(h http.Header) string {
	if v := h.Get(SignatureHeader); v != "" {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, SignatureHeader) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// intentID reads a charge's payment_intent, an id or an expanded object.
func intentID(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	return ""
}

func badEvent(why string) error {
	return fmt.Errorf("stripe webhook: %w", &lottery.Error{Code: lottery.CodeInvalidJSON, Message: why})
}
