// Package sandbox is the built-in test payment provider: a hosted test
// checkout (dev mode) where the runner chooses pay, fail or cancel, and
// webhooks signed exactly like Stripe's (t=…,v1=HMAC-SHA256), so the whole
// authorization-hold flow runs locally without an account anywhere.
package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/startline/startline/lottery"
)

// SignatureHeader carries the webhook signature.
const SignatureHeader = "Sandbox-Signature"

// Provider is the sandbox payment provider: for development and tests,
// never for money. Payment states live in its State (state.go).
type Provider struct {
	key   []byte
	state State
	// mu makes each operation's read and write one step within this
	// process; across processes sharing a State the last write wins,
	// which is enough for a test provider.
	mu    sync.Mutex
	cards cardState // card on file: the tests' decline and busy switches (cards.go)
}

// New returns a sandbox provider signing with key, its state in memory
// (one process: tests, `startline all`).
func New(key []byte) *Provider { return NewShared(key, NewMemoryState()) }

// NewShared returns a sandbox provider signing with key whose state is
// shared through state by every process of a deployment.
func NewShared(key []byte, state State) *Provider {
	return &Provider{key: key, state: state, cards: newCardState()}
}

// Name is "sandbox".
func (p *Provider) Name() string { return "sandbox" }

// CreatePayment returns the same payment for the same offer (idempotent)
// with a link to the hosted test checkout.
func (p *Provider) CreatePayment(ctx context.Context, r lottery.PaymentRequest) (lottery.Payment, error) {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("payment|" + r.IdempotencyKey))
	id := "sbx_" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:15])
	p.mu.Lock()
	defer p.mu.Unlock()
	pay, ok, err := p.payment(ctx, id)
	if err != nil {
		return lottery.Payment{}, err
	}
	if !ok {
		pay = lottery.Payment{ID: id, OfferID: r.OfferID, Status: lottery.PaymentCreated, AmountMinor: r.AmountMinor,
			Currency: r.Currency}
		if err := p.save(ctx, keyPayment+id, pay); err != nil {
			return lottery.Payment{}, err
		}
	}
	q := url.Values{"offer": {r.OfferID}, "amount": {strconv.FormatInt(r.AmountMinor, 10)}, "currency": {r.Currency},
		"return": {r.ReturnURL}}
	pay.CheckoutURL = "/sandbox/checkout/" + id + "?" + q.Encode()
	return pay, nil
}

// Session returns the payment a checkout session id was created for by
// CreatePayment (which only the pay flow calls, after checking the receipt
// token); false for an id the sandbox never issued. The session, not the
// checkout form, says which offer is being paid. A state that cannot be
// read is no session.
func (p *Provider) Session(id string) (lottery.Payment, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pay, ok, err := p.payment(context.Background(), id)
	return pay, ok && err == nil
}

func (p *Provider) set(ctx context.Context, id string, st lottery.PaymentStatus) (lottery.Payment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pay, _, err := p.payment(ctx, id)
	if err != nil {
		return lottery.Payment{}, err
	}
	pay.ID, pay.Status = id, st
	return pay, p.save(ctx, keyPayment+id, pay)
}

// Capture collects an authorized payment.
func (p *Provider) Capture(ctx context.Context, id, _ string) (lottery.Payment, error) {
	return p.set(ctx, id, lottery.PaymentCaptured)
}

// Cancel releases an authorization or refunds a capture.
func (p *Provider) Cancel(ctx context.Context, id, _ string) (lottery.Payment, error) {
	p.mu.Lock()
	pay, _, err := p.payment(ctx, id)
	p.mu.Unlock()
	if err != nil {
		return lottery.Payment{}, err
	}
	if pay.Status == lottery.PaymentCaptured {
		return p.set(ctx, id, lottery.PaymentRefunded)
	}
	return p.set(ctx, id, lottery.PaymentCanceled)
}

// Refund returns amount of a captured payment (all of it or part); the
// same idempotency key refunds once. A payment that was never captured, or
// an amount above what is left, is refused.
func (p *Provider) Refund(ctx context.Context, id string, amount int64, key string) (lottery.Payment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if key != "" {
		var done lottery.Payment
		if ok, err := p.load(ctx, keyRefund+key, &done); err != nil || ok {
			return done, err
		}
	}
	pay, ok, err := p.payment(ctx, id)
	if err != nil {
		return lottery.Payment{}, err
	}
	refunded, err := p.refundedOf(ctx, id)
	if err != nil {
		return lottery.Payment{}, err
	}
	switch {
	case !ok:
		return lottery.Payment{}, lottery.ErrNotFound
	case pay.Status != lottery.PaymentCaptured && pay.Status != lottery.PaymentRefunded:
		return lottery.Payment{}, &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "the payment was not captured"}
	case amount <= 0 || amount > pay.AmountMinor-refunded:
		return lottery.Payment{}, lottery.Fieldf("amount", "a refund is above 0 and at most what is left of the payment")
	}
	if err := p.save(ctx, keyRefunded+id, refunded+amount); err != nil {
		return lottery.Payment{}, err
	}
	pay.Status = lottery.PaymentRefunded
	if err := p.save(ctx, keyPayment+id, pay); err != nil {
		return lottery.Payment{}, err
	}
	out := pay
	out.RefundedMinor = amount
	if key != "" {
		if err := p.save(ctx, keyRefund+key, out); err != nil {
			return lottery.Payment{}, err
		}
	}
	return out, nil
}

// Refunded is the total refunded of a payment (for tests and the dev pages).
func (p *Provider) Refunded(id string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, _ := p.refundedOf(context.Background(), id)
	return n
}

// webhook is the sandbox's event document.
type webhook struct {
	ID        string `json:"id"`
	Type      string `json:"type"` // authorized | captured | failed | canceled
	PaymentID string `json:"payment_id"`
	OfferID   string `json:"offer_id"`
	Created   int64  `json:"created"`
}

// Event builds and signs the webhook the sandbox sends when the runner
// finishes the test checkout (outcome pay, fail or cancel; capture is the
// provider's own follow-up). Like a real provider's checkout it is bound to
// its session: an id CreatePayment never issued, or an offer other than the
// session's, is ErrNotFound and signs nothing; an empty offer is a field
// error.
func (p *Provider) Event(paymentID, offerID, outcome string, now time.Time) ([]byte, http.Header, error) {
	typ := map[string]string{"pay": "authorized", "fail": "failed", "cancel": "canceled", "capture": "captured"}[outcome]
	if typ == "" {
		return nil, nil, lottery.Fieldf("outcome", "unknown outcome")
	}
	sess, ok := p.Session(paymentID)
	switch {
	case !ok:
		return nil, nil, lottery.ErrNotFound
	case offerID == "":
		return nil, nil, lottery.Fieldf("offer", "the checkout names no offer")
	case offerID != sess.OfferID:
		return nil, nil, lottery.ErrNotFound
	}
	if typ == "authorized" {
		if _, err := p.set(context.Background(), paymentID, lottery.PaymentAuthorized); err != nil {
			return nil, nil, err
		}
	}
	b, err := json.Marshal(webhook{ID: fmt.Sprintf("evt_%s_%s_%d", paymentID, typ, now.UnixNano()), Type: typ,
		PaymentID: paymentID, OfferID: offerID, Created: now.Unix()})
	if err != nil {
		return nil, nil, err
	}
	h := http.Header{}
	h.Set(SignatureHeader, Sign(p.key, b, now))
	return b, h, nil
}

// Sign returns a signature header value for payload at time t.
func Sign(key, payload []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts + "."))
	m.Write(payload)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Tolerance is how old a signed webhook may be.
const Tolerance = 5 * time.Minute

// ParseWebhook verifies the signature and decodes the event.
func (p *Provider) ParseWebhook(payload []byte, header http.Header, now time.Time) (lottery.PaymentEvent, error) {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header.Get(SignatureHeader), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return lottery.PaymentEvent{}, lottery.ErrInvalidSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return lottery.PaymentEvent{}, lottery.ErrInvalidSignature
	}
	want := Sign(p.key, payload, time.Unix(sec, 0))
	_, wantSig, _ := strings.Cut(want, ",v1=")
	ok := false
	for _, s := range sigs {
		ok = ok || hmac.Equal([]byte(s), []byte(wantSig))
	}
	if !ok {
		return lottery.PaymentEvent{}, lottery.ErrInvalidSignature
	}
	var w webhook
	if err := json.Unmarshal(payload, &w); err != nil {
		return lottery.PaymentEvent{}, fmt.Errorf("sandbox webhook: %w", err)
	}
	st := map[string]lottery.PaymentStatus{"authorized": lottery.PaymentAuthorized, "captured": lottery.PaymentCaptured,
		"failed": lottery.PaymentFailed, "canceled": lottery.PaymentCanceled}[w.Type]
	if st == "" || w.ID == "" || w.PaymentID == "" {
		return lottery.PaymentEvent{}, errors.New("sandbox webhook: unknown event")
	}
	return lottery.PaymentEvent{ID: w.ID, PaymentID: w.PaymentID, OfferID: w.OfferID, Status: st,
		Created: time.Unix(w.Created, 0)}, nil
}

var _ lottery.PaymentProvider = (*Provider)(nil)
