package offers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/startline/startline/lottery"
)

// Pay starts the payment of an accepted (or pending, accepted now) offer
// at its sub-queue's price and returns where to send the runner; a free
// place (price 0) is confirmed at once, with no CheckoutURL.
func (s *Service) Pay(ctx context.Context, offerID, token, returnURL string) (lottery.Payment, error) {
	if s.payments == nil {
		return lottery.Payment{}, &lottery.Error{Code: lottery.CodeUnavailable, Message: "payments are not configured"}
	}
	o, err := s.OfferAction(ctx, offerID, token, lottery.OfferActionAccept)
	if err != nil {
		return lottery.Payment{}, err
	}
	// The sub-queue's price in the event's currency, read from PostgreSQL
	// (not a cached event): what is charged is exactly what is stored.
	price, err := s.store.OfferPrice(ctx, o.ID)
	if err != nil {
		return lottery.Payment{}, fmt.Errorf("pay %s: %w", offerID, err)
	}
	if price.Amount == 0 {
		// A free place has nothing to pay: accepting it confirms it, with
		// no provider (which would refuse a zero amount) and no checkout.
		if _, err := s.store.MarkOfferPaid(ctx, o.ID, "free", s.offerTx(lottery.Event{}, o.ID, "")); err != nil {
			return lottery.Payment{}, fmt.Errorf("pay %s: %w", offerID, err)
		}
		return lottery.Payment{OfferID: o.ID, Status: lottery.PaymentCaptured, Currency: price.Currency}, nil
	}
	p, err := s.payments.CreatePayment(ctx, lottery.PaymentRequest{OfferID: o.ID, AmountMinor: price.Amount, Currency: price.Currency,
		Description: "Startline slot " + o.SubQueue, ReturnURL: returnURL, IdempotencyKey: "pay:" + o.ID})
	if err != nil {
		return lottery.Payment{}, fmt.Errorf("pay %s: %w", offerID, err)
	}
	p.OfferID = o.ID
	stored, err := s.store.SavePayment(ctx, s.payments.Name(), p)
	if err != nil {
		return lottery.Payment{}, fmt.Errorf("pay %s: %w", offerID, err)
	}
	stored.CheckoutURL = p.CheckoutURL
	return stored, nil
}

// Payable is the rule a checkout applies before it authorizes a payment:
// the offer still holds its slot (pending or accepted, its hold not over) and
// its entry is not waiting for a reviewer. These are the checks Pay makes
// through accept; a checkout that comes later makes them again, since the
// hold may have ended or the entry been flagged in between.
// lottery.ErrOfferExpired, or lottery.CodeInvalidTransition.
func Payable(o lottery.Offer, entry lottery.EntryStatus, now time.Time) error {
	live := o.Status == lottery.OfferPending || o.Status == lottery.OfferAccepted
	switch {
	case o.Status == lottery.OfferExpired || (live && !now.Before(o.ExpiresAt)):
		return lottery.ErrOfferExpired
	case !live:
		return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "this offer is " + string(o.Status)}
	case entry == lottery.EntryInReview:
		return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "your entry is being reviewed; " +
			"the slot stays held for you, and you can pay once a reviewer has cleared it"}
	}
	return nil
}

// CheckPayable applies Payable to a stored offer and its entry (the dev
// sandbox's checkout calls it before authorizing). A non-UUID id is
// lottery.ErrNotFound.
func (s *Service) CheckPayable(ctx context.Context, offerID string) error {
	if _, err := uuid.Parse(offerID); err != nil {
		return lottery.ErrNotFound
	}
	o, err := s.store.Offer(ctx, strings.ToLower(offerID))
	if err != nil {
		return fmt.Errorf("check payable %s: %w", offerID, err)
	}
	if o.Status == lottery.OfferTransferHold {
		return s.transferPayable(ctx, o.ID)
	}
	e, err := s.store.Entry(ctx, o.EntryID)
	if err != nil {
		return fmt.Errorf("check payable %s: %w", offerID, err)
	}
	return Payable(o, e.Status, s.clock.Now())
}

// HandlePaymentWebhook verifies and applies one webhook delivery. The same
// delivery twice changes nothing; deliveries may arrive in any order. An
// authorization is captured only while the offer still holds its slot; a
// payment for an offer that expired or was declined is cancelled (the hold
// released, or the capture refunded).
func (s *Service) HandlePaymentWebhook(ctx context.Context, provider string, payload []byte, header map[string][]string) error {
	if s.payments == nil || provider != s.payments.Name() {
		return lottery.ErrNotFound
	}
	ev, err := s.payments.ParseWebhook(payload, header, s.clock.Now())
	if errors.Is(err, lottery.ErrInvalidSignature) {
		return lottery.ErrInvalidSignature
	}
	if errors.Is(err, lottery.ErrIgnoredWebhook) {
		return nil
	}
	if err != nil {
		return &lottery.Error{Code: lottery.CodeInvalidJSON, Message: "webhook: " + err.Error()}
	}
	fresh, err := s.store.RecordPaymentEvent(ctx, provider, ev)
	if err != nil || !fresh {
		return err
	}
	p, err := s.store.FindPayment(ctx, provider, ev.PaymentID)
	if errors.Is(err, lottery.ErrNotFound) {
		p = lottery.Payment{ID: ev.PaymentID, OfferID: ev.OfferID, Status: lottery.PaymentCreated}
	} else if err != nil {
		return fmt.Errorf("webhook %s: %w", ev.ID, err)
	}
	if p.OfferID == "" {
		p.OfferID = ev.OfferID
	}
	if !p.Status.Later(ev.Status) {
		return nil // an older state arriving late
	}
	p.Status = ev.Status
	if p, err = s.store.SavePayment(ctx, provider, p); err != nil {
		return fmt.Errorf("webhook %s: %w", ev.ID, err)
	}
	switch p.Status {
	case lottery.PaymentAuthorized:
		return s.captureOrRelease(ctx, provider, p)
	case lottery.PaymentCaptured:
		return s.settle(ctx, provider, p)
	}
	return nil
}

// captureOrRelease captures an authorization while the offer is live, and
// releases it otherwise.
func (s *Service) captureOrRelease(ctx context.Context, provider string, p lottery.Payment) error {
	if f, ok, err := s.deferralOf(ctx, provider, p); err != nil || ok {
		if err != nil {
			return err
		}
		return s.captureDeferral(ctx, provider, p, f) // a deferral's fee (deferralfee.go)
	}
	o, err := s.store.Offer(ctx, p.OfferID)
	if err != nil {
		return fmt.Errorf("payment %s: %w", p.ID, err)
	}
	if o.Status == lottery.OfferTransferHold {
		return s.captureTransfer(ctx, provider, p)
	}
	if !o.Status.Live() || !s.clock.Now().Before(o.ExpiresAt) {
		return s.release(ctx, provider, p, "the offer ended before payment")
	}
	if o.Status == lottery.OfferPaid {
		// Paid meanwhile by another payment (a saved card charged while the
		// runner was at a checkout): this authorization is never captured.
		return s.release(ctx, provider, p, "the offer was paid by another payment")
	}
	return s.captureThen(ctx, provider, p, s.settle)
}

// captureThen captures an authorization, records it and, once captured,
// settles it (an offer's, or a transfer's).
func (s *Service) captureThen(ctx context.Context, provider string, p lottery.Payment,
	settle func(context.Context, string, lottery.Payment) error) error {
	captured, err := s.payments.Capture(ctx, p.ID, "capture:"+p.ID)
	if err != nil {
		return fmt.Errorf("capture %s: %w", p.ID, err)
	}
	captured.OfferID = p.OfferID
	if _, err := s.store.SavePayment(ctx, provider, captured); err != nil {
		return err
	}
	if captured.Status == lottery.PaymentCaptured {
		return settle(ctx, provider, captured)
	}
	return nil
}

// settle marks the offer paid; a capture that lost the race with expiry is
// refunded (a late payment is voided).
func (s *Service) settle(ctx context.Context, provider string, p lottery.Payment) error {
	if f, ok, err := s.deferralOf(ctx, provider, p); err != nil || ok {
		if err != nil {
			return err
		}
		return s.settleDeferral(ctx, provider, p, f)
	}
	o, err := s.store.Offer(ctx, p.OfferID)
	if err != nil {
		return fmt.Errorf("payment %s: %w", p.ID, err)
	}
	if o.Status == lottery.OfferPaid {
		return nil
	}
	if o.Status == lottery.OfferTransferHold {
		return s.settleTransfer(ctx, provider, p)
	}
	ev, err := s.events.CachedEvent(ctx, o.EventSlug())
	if err != nil {
		return err
	}
	_, err = s.store.MarkOfferPaid(ctx, o.ID, p.ID, s.offerTx(ev, o.ID, ""))
	if isCode(err, lottery.CodeOfferExpired) {
		return s.release(ctx, provider, p, "payment arrived after the offer ended")
	}
	return err
}

func (s *Service) release(ctx context.Context, provider string, p lottery.Payment, why string) error {
	out, err := s.payments.Cancel(ctx, p.ID, "cancel:"+p.ID)
	if err != nil {
		return fmt.Errorf("release %s: %w", p.ID, err)
	}
	out.OfferID = p.OfferID
	if _, err := s.store.SavePayment(ctx, provider, out); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "payment released", "payment", p.ID, "offer_id", p.OfferID, "why", why,
		"status", strings.ToLower(string(out.Status)))
	return nil
}
