package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/startline/startline/lottery"
)

// Test cards the sandbox's setup page accepts, named like Stripe's test
// numbers so a developer recognises them. Each behaves the same way every
// time it is charged off-session.
const (
	CardOK                = "4242424242424242" // every charge succeeds
	CardInsufficientFunds = "4000000000009995" // declined insufficient_funds: retrying later may help
	CardDeclined          = "4000000000000002" // declined generic_decline: final
	CardAuthRequired      = "4000002500003155" // authentication_required: the runner must pay on the page
	CardProcessingError   = "4000000000000119" // processing_error: retrying later may help
)

// declines maps a test card to the decline every off-session charge of it
// gets (none for CardOK and any other valid number).
var declines = map[string]lottery.CardDecline{
	CardInsufficientFunds: {Code: "insufficient_funds", Retry: true},
	CardDeclined:          {Code: "generic_decline"},
	CardAuthRequired:      {Code: "authentication_required"},
	CardProcessingError:   {Code: "processing_error", Retry: true},
}

// cardState is the sandbox's memory of setups, saved cards and
// off-session charges (guarded by Provider.mu).
type cardState struct {
	setups  map[string]setup                 // setup id → setup
	methods map[string]string                // payment method → card number
	charges map[string]chargeAnswer          // idempotency key → the charge's answer
	busy    int                              // the next busy calls answer ErrProviderBusy
	failing map[string][]lottery.CardDecline // payment method → declines to give before its own behaviour
}

type setup struct {
	slug      string
	returnURL string
	number    string // set once confirmed
}

type chargeAnswer struct {
	pay     lottery.Payment
	decline lottery.CardDecline
}

func newCardState() cardState {
	return cardState{setups: map[string]setup{}, methods: map[string]string{}, charges: map[string]chargeAnswer{},
		failing: map[string][]lottery.CardDecline{}}
}

var _ lottery.CardProvider = (*Provider)(nil)

// id derives a stable sandbox id from a purpose and a key.
func (p *Provider) id(prefix, purpose, key string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(purpose + "|" + key))
	return prefix + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:15])
}

// StartCardSetup returns the same setup for the same idempotency key, with
// a link to the hosted test setup page (/sandbox/setup/{id}).
func (p *Provider) StartCardSetup(_ context.Context, r lottery.CardSetupRequest) (lottery.CardSetup, error) {
	if r.IdempotencyKey == "" {
		return lottery.CardSetup{}, lottery.Fieldf("idempotency_key", "a setup needs an idempotency key")
	}
	id := p.id("seti_sbx_", "setup", r.IdempotencyKey)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.cards.setups[id]; !ok {
		p.cards.setups[id] = setup{slug: r.EventSlug, returnURL: r.ReturnURL}
	}
	q := url.Values{"return": {r.ReturnURL}}
	return lottery.CardSetup{ID: id, ConfirmURL: "/sandbox/setup/" + id + "?" + q.Encode()}, nil
}

// SetupReturn is where the setup page sends the applicant back; false for
// an id StartCardSetup never issued.
func (p *Provider) SetupReturn(setupID string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.cards.setups[setupID]
	return s.returnURL, ok
}

// ConfirmSetup is the hosted setup page's submit: the applicant's test
// card number (spaces allowed). A number that is not 13–19 digits, or
// fails the Luhn check, is a field error; an unknown setup ErrNotFound.
func (p *Provider) ConfirmSetup(setupID, number string) error {
	number = strings.ReplaceAll(strings.ReplaceAll(number, " ", ""), "-", "")
	if !ValidCardNumber(number) {
		return lottery.Fieldf("card_number", "enter a card number of 13 to 19 digits")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.cards.setups[setupID]
	if !ok {
		return lottery.ErrNotFound
	}
	s.number = number
	p.cards.setups[setupID] = s
	p.cards.methods[p.id("pm_sbx_", "method", setupID)] = number
	return nil
}

// ValidCardNumber is the check a card form makes before sending a number
// anywhere: 13 to 19 digits passing the Luhn checksum.
func ValidCardNumber(n string) bool {
	if len(n) < 13 || len(n) > 19 {
		return false
	}
	sum := 0
	for i := range len(n) {
		c := n[len(n)-1-i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// CardSetupResult returns the saved card of a confirmed setup. The
// fingerprint is keyed on the card number, so the same card saved for two
// entries links them, as Stripe's card.fingerprint does.
func (p *Provider) CardSetupResult(_ context.Context, setupID string) (lottery.SavedCard, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.cards.setups[setupID]
	switch {
	case !ok:
		return lottery.SavedCard{}, lottery.ErrNotFound
	case s.number == "":
		return lottery.SavedCard{}, &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "the card is not confirmed yet"}
	}
	return lottery.SavedCard{Provider: p.Name(), SetupID: setupID, PaymentMethod: p.id("pm_sbx_", "method", setupID),
		Customer: p.id("cus_sbx_", "customer", setupID), Fingerprint: p.id("", "fingerprint", s.number)[:16],
		Brand: brand(s.number), Last4: s.number[len(s.number)-4:]}, nil
}

// brand names a test card's network by its first digit.
func brand(n string) string {
	switch n[0] {
	case '4':
		return "visa"
	case '5', '2':
		return "mastercard"
	case '3':
		return "amex"
	}
	return "card"
}

// ChargeCard charges a saved card: captured at once, or declined by the
// test card's behaviour. The same idempotency key answers the same way.
func (p *Provider) ChargeCard(_ context.Context, r lottery.CardCharge) (lottery.Payment, lottery.CardDecline, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.cards.charges[r.IdempotencyKey]; ok && r.IdempotencyKey != "" {
		return a.pay, a.decline, nil
	}
	if p.cards.busy > 0 {
		p.cards.busy--
		return lottery.Payment{}, lottery.CardDecline{}, lottery.ErrProviderBusy
	}
	number, ok := p.cards.methods[r.Card.PaymentMethod]
	if !ok {
		return lottery.Payment{}, lottery.CardDecline{}, lottery.ErrNotFound
	}
	pay := lottery.Payment{ID: p.id("sbx_", "charge", r.IdempotencyKey), OfferID: r.OfferID, Status: lottery.PaymentCaptured,
		AmountMinor: r.AmountMinor, Currency: r.Currency}
	decline, declined := declines[number]
	if queued := p.cards.failing[r.Card.PaymentMethod]; len(queued) > 0 {
		decline, declined = queued[0], true
		p.cards.failing[r.Card.PaymentMethod] = queued[1:]
	}
	if declined {
		pay.Status = lottery.PaymentFailed
	} else {
		p.payments[pay.ID] = pay
	}
	p.cards.charges[r.IdempotencyKey] = chargeAnswer{pay: pay, decline: decline}
	return pay, decline, nil
}

// Busy makes the next n provider calls of ChargeCard answer
// ErrProviderBusy, as a provider rate-limiting a burst would (tests).
func (p *Provider) Busy(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cards.busy = n
}

// DeclineNext makes the next charges of a payment method decline with the
// given declines, in order, before the card behaves as its number says
// (tests of retries: a card short of funds at first, then paid).
func (p *Provider) DeclineNext(paymentMethod string, d ...lottery.CardDecline) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cards.failing[paymentMethod] = append(p.cards.failing[paymentMethod], d...)
}
