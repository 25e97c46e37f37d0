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

// cardState is what the tests switch on for off-session charges (guarded
// by Provider.mu, in this process); setups, saved cards and charges are in
// the Provider's State.
type cardState struct {
	busy    int                              // the next busy calls answer ErrProviderBusy
	failing map[string][]lottery.CardDecline // payment method → declines to give before its own behaviour
}

func newCardState() cardState {
	return cardState{failing: map[string][]lottery.CardDecline{}}
}

// setupOf returns a stored setup; false when StartCardSetup never made it.
func (p *Provider) setupOf(ctx context.Context, id string) (setupDoc, bool, error) {
	var s setupDoc
	ok, err := p.load(ctx, keySetup+id, &s)
	return s, ok, err
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
func (p *Provider) StartCardSetup(ctx context.Context, r lottery.CardSetupRequest) (lottery.CardSetup, error) {
	if r.IdempotencyKey == "" {
		return lottery.CardSetup{}, lottery.Fieldf("idempotency_key", "a setup needs an idempotency key")
	}
	id := p.id("seti_sbx_", "setup", r.IdempotencyKey)
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok, err := p.setupOf(ctx, id)
	if err != nil {
		return lottery.CardSetup{}, err
	}
	if !ok {
		if err := p.save(ctx, keySetup+id, setupDoc{Slug: r.EventSlug, ReturnURL: r.ReturnURL}); err != nil {
			return lottery.CardSetup{}, err
		}
	}
	q := url.Values{"return": {r.ReturnURL}}
	return lottery.CardSetup{ID: id, ConfirmURL: "/sandbox/setup/" + id + "?" + q.Encode()}, nil
}

// SetupReturn is where the setup page sends the applicant back; false for
// an id StartCardSetup never issued.
func (p *Provider) SetupReturn(setupID string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok, err := p.setupOf(context.Background(), setupID)
	return s.ReturnURL, ok && err == nil
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
	ctx := context.Background()
	s, ok, err := p.setupOf(ctx, setupID)
	if err != nil {
		return err
	}
	if !ok {
		return lottery.ErrNotFound
	}
	s.Number = number
	if err := p.save(ctx, keySetup+setupID, s); err != nil {
		return err
	}
	return p.save(ctx, keyMethod+p.id("pm_sbx_", "method", setupID), number)
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
func (p *Provider) CardSetupResult(ctx context.Context, setupID string) (lottery.SavedCard, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok, err := p.setupOf(ctx, setupID)
	switch {
	case err != nil:
		return lottery.SavedCard{}, err
	case !ok:
		return lottery.SavedCard{}, lottery.ErrNotFound
	case s.Number == "":
		return lottery.SavedCard{}, &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "the card is not confirmed yet"}
	}
	return lottery.SavedCard{Provider: p.Name(), SetupID: setupID, PaymentMethod: p.id("pm_sbx_", "method", setupID),
		Customer: p.id("cus_sbx_", "customer", setupID), Fingerprint: p.id("", "fingerprint", s.Number)[:16],
		Brand: brand(s.Number), Last4: s.Number[len(s.Number)-4:]}, nil
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
func (p *Provider) ChargeCard(ctx context.Context, r lottery.CardCharge) (lottery.Payment, lottery.CardDecline, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.IdempotencyKey != "" {
		var a chargeDoc
		if ok, err := p.load(ctx, keyCharge+r.IdempotencyKey, &a); err != nil || ok {
			return a.Pay, a.Decline, err
		}
	}
	if p.cards.busy > 0 {
		p.cards.busy--
		return lottery.Payment{}, lottery.CardDecline{}, lottery.ErrProviderBusy
	}
	var number string
	ok, err := p.load(ctx, keyMethod+r.Card.PaymentMethod, &number)
	if err != nil {
		return lottery.Payment{}, lottery.CardDecline{}, err
	}
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
	} else if err := p.save(ctx, keyPayment+pay.ID, pay); err != nil {
		return lottery.Payment{}, lottery.CardDecline{}, err
	}
	if err := p.save(ctx, keyCharge+r.IdempotencyKey, chargeDoc{Pay: pay, Decline: decline}); err != nil {
		return lottery.Payment{}, lottery.CardDecline{}, err
	}
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
