package offers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/startline/startline/lottery"
)

// DeferralFeeStore is what paying a deferral's fee asks of persistence
// (lottery/postgres, 00037).
type DeferralFeeStore interface {
	// DeferralFee returns an entry's deferral with its fee; ErrNotFound.
	DeferralFee(ctx context.Context, entryID string) (lottery.DeferralFee, error)
	// DeferralOfPayment returns the deferral a payment pays the fee of;
	// ErrNotFound when it is no deferral fee's payment.
	DeferralOfPayment(ctx context.Context, provider, paymentID string) (lottery.DeferralFee, error)
	// SetDeferralPayment names the payment of a pending deferral's fee;
	// invalid_transition when none is pending.
	SetDeferralPayment(ctx context.Context, entryID, provider, paymentID string) error
	// CompleteDeferral holds a pending deferral whose fee is captured (the
	// entry deferred, logged, mailed: the outbox ids); invalid_transition
	// when it can no longer be (the caller refunds).
	CompleteDeferral(ctx context.Context, entryID, paymentID string, now time.Time) ([]int64, error)
	// CancelUnpaidDeferrals cancels up to limit pending deferrals past
	// their pay-by time (logged, mailed); it returns how many.
	CancelUnpaidDeferrals(ctx context.Context, now time.Time, limit int) (int, error)
}

func (s *Service) deferralFees() (DeferralFeeStore, bool) {
	st, ok := s.store.(DeferralFeeStore)
	return st, ok
}

// PayDeferral starts the payment of a pending deferral's fee for the
// holder of the entry's receipt token, by the same provider flow as an
// offer (the payment hangs on the entry's paid offer). The deferral is
// held once the provider's webhook reports it captured. ErrNotFound for a
// bad id or token or no deferral; invalid_transition when none is pending
// or its time to pay has passed.
func (s *Service) PayDeferral(ctx context.Context, entryID, token, returnURL string) (lottery.Payment, error) {
	id, err := s.receiptEntry(entryID, token)
	if err != nil {
		return lottery.Payment{}, err
	}
	st, ok := s.deferralFees()
	if !ok || s.payments == nil {
		return lottery.Payment{}, &lottery.Error{Code: lottery.CodeUnavailable, Message: "payments are not configured"}
	}
	f, err := st.DeferralFee(ctx, id)
	if err != nil {
		return lottery.Payment{}, fmt.Errorf("pay deferral %s: %w", id, err)
	}
	if err := lottery.DeferralFeePayable(f.State, f.PayBy, s.clock.Now()); err != nil {
		return lottery.Payment{}, err
	}
	if f.OfferID == "" {
		return lottery.Payment{}, &lottery.Error{Code: lottery.CodeNoSlotHeld, Message: "the place is no longer held"}
	}
	// One checkout per deferral attempt: a second click reuses it.
	key := "deferral:" + id + ":" + strconv.FormatInt(f.CreatedAt.UnixMicro(), 10)
	p, err := s.payments.CreatePayment(ctx, lottery.PaymentRequest{OfferID: f.OfferID, AmountMinor: f.Fee.Amount,
		Currency: f.Fee.Currency, Description: "Startline deferral fee", ReturnURL: returnURL, IdempotencyKey: key})
	if err != nil {
		return lottery.Payment{}, fmt.Errorf("pay deferral %s: %w", id, err)
	}
	p.OfferID = f.OfferID
	stored, err := s.store.SavePayment(ctx, s.payments.Name(), p)
	if err != nil {
		return lottery.Payment{}, fmt.Errorf("pay deferral %s: %w", id, err)
	}
	if err := st.SetDeferralPayment(ctx, id, s.payments.Name(), p.ID); err != nil {
		return lottery.Payment{}, fmt.Errorf("pay deferral %s: %w", id, err)
	}
	stored.CheckoutURL = p.CheckoutURL
	s.log.InfoContext(ctx, "deferral fee checkout", "entry_id", id, "payment", p.ID)
	return stored, nil
}

// deferralOf returns the deferral whose fee payment p is; ok is false for
// any other payment (an offer's or a transfer's).
func (s *Service) deferralOf(ctx context.Context, provider string, p lottery.Payment) (lottery.DeferralFee, bool, error) {
	st, ok := s.deferralFees()
	if !ok {
		return lottery.DeferralFee{}, false, nil
	}
	f, err := st.DeferralOfPayment(ctx, provider, p.ID)
	if errors.Is(err, lottery.ErrNotFound) {
		return lottery.DeferralFee{}, false, nil
	}
	if err != nil {
		return lottery.DeferralFee{}, false, fmt.Errorf("payment %s: %w", p.ID, err)
	}
	return f, true, nil
}

// captureDeferral captures a deferral fee's authorization while the
// deferral is pending and before its pay-by time, and releases it
// otherwise (the runner keeps their place either way).
func (s *Service) captureDeferral(ctx context.Context, provider string, p lottery.Payment, f lottery.DeferralFee) error {
	if err := lottery.DeferralFeePayable(f.State, f.PayBy, s.clock.Now()); err != nil {
		if f.State == lottery.DeferralHeld || f.State == lottery.DeferralUsed {
			return nil // settled before
		}
		return s.release(ctx, provider, p, "the deferral ended before its fee was paid")
	}
	return s.captureThen(ctx, provider, p, func(ctx context.Context, provider string, p lottery.Payment) error {
		return s.settleDeferral(ctx, provider, p, f)
	})
}

// settleDeferral holds the deferral for its captured fee; a capture it can
// no longer take is refunded.
func (s *Service) settleDeferral(ctx context.Context, provider string, p lottery.Payment, f lottery.DeferralFee) error {
	st, _ := s.deferralFees()
	ids, err := st.CompleteDeferral(ctx, f.EntryID, p.ID, s.clock.Now())
	if err != nil {
		if lottery.CodeOf(err) != lottery.CodeInternal {
			return s.release(ctx, provider, p, "the deferral ended before its fee was paid")
		}
		return err
	}
	s.mailQueued(ctx, ids...)
	s.log.InfoContext(ctx, "deferral fee paid", "entry_id", f.EntryID, "payment", p.ID)
	return nil
}

// CheckCheckoutPayable is CheckPayable for a checkout session (the dev
// sandbox's page): a deferral fee's payment is payable while its deferral
// is pending (DeferralFeePayable), any other by its offer.
func (s *Service) CheckCheckoutPayable(ctx context.Context, paymentID, offerID string) error {
	if s.payments != nil {
		f, ok, err := s.deferralOf(ctx, s.payments.Name(), lottery.Payment{ID: paymentID})
		if err != nil {
			return err
		}
		if ok {
			return lottery.DeferralFeePayable(f.State, f.PayBy, s.clock.Now())
		}
	}
	return s.CheckPayable(ctx, offerID)
}

// CancelUnpaidDeferrals cancels every pending deferral past its time to
// pay, at most max (0: no bound) in one pass; the runners keep their
// places and are mailed.
func (s *Service) CancelUnpaidDeferrals(ctx context.Context, max int) (int, error) {
	st, ok := s.deferralFees()
	if !ok {
		return 0, nil
	}
	total := 0
	for max <= 0 || total < max {
		batch := sweepBatch
		if max > 0 {
			batch = min(batch, max-total)
		}
		n, err := st.CancelUnpaidDeferrals(ctx, s.clock.Now(), batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("cancel unpaid deferrals: %w", err)
		}
		if n < batch {
			break
		}
	}
	return total, nil
}
