package offers

import (
	"context"
	"errors"
	"fmt"

	"github.com/startline/startline/lottery"
)

// PayState is what the status page tells about an offer's payment.
type PayState string

// Payment states the runner is told about. PayNone says nothing: no
// checkout yet, or one still in progress.
const (
	PayNone PayState = ""
	// PayDeclined: the last checkout's card was declined (the sandbox's
	// "card declined", Stripe's card_declined and other payment failures)
	// and no later authorization came; another card may be tried while
	// the offer holds the slot.
	PayDeclined PayState = "declined"
)

// PayStateOf says how an offer's payment stands from its latest payment.
// It is a rule of its own so the page's message follows the payment's
// stored state, whichever provider reported it.
func PayStateOf(o lottery.Offer, p lottery.Payment, found bool) PayState {
	live := o.Status == lottery.OfferPending || o.Status == lottery.OfferAccepted
	if found && live && p.Status == lottery.PaymentFailed {
		return PayDeclined
	}
	return PayNone
}

// PaymentState reads an offer's latest payment and applies PayStateOf.
func (s *Service) PaymentState(ctx context.Context, o lottery.Offer) (PayState, error) {
	p, err := s.store.LatestPayment(ctx, o.ID)
	if errors.Is(err, lottery.ErrNotFound) {
		return PayStateOf(o, p, false), nil
	}
	if err != nil {
		return PayNone, fmt.Errorf("payment state of %s: %w", o.ID, err)
	}
	return PayStateOf(o, p, true), nil
}
