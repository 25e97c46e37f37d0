package postgres

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/offers"
)

// Deferral fees (issue 15, 00037): a deferral with a fee is pending until
// its payment is captured (then held, as a free one is at once) and
// cancelled when unpaid by its pay-by time; the runner keeps their place
// meanwhile. The fee's payment hangs on the entry's paid offer (payments
// need one) and is named on the deferral row, which is how a webhook's
// payment is told from the offer's own.

var _ offers.DeferralFeeStore = (*Store)(nil)

// pendingDeferral reports whether the entry has a deferral awaiting its fee.
func pendingDeferral(tx *gorm.DB, entryID string) (bool, error) {
	var n int64
	if err := tx.Raw(`SELECT count(*) FROM deferrals WHERE entry_id = ? AND state = 'pending'`, entryID).Row().Scan(&n); err != nil {
		return false, fmt.Errorf("pending deferral: %w", err)
	}
	return n > 0, nil
}

type deferralFeeRow struct {
	EntryID   string
	OfferID   *string
	EventID   int64
	State     string
	FeeMinor  int64
	Currency  string
	PayBy     *time.Time
	CreatedAt time.Time
}

func (r deferralFeeRow) fee() lottery.DeferralFee {
	f := lottery.DeferralFee{EntryID: r.EntryID, State: lottery.DeferralState(r.State),
		Fee: lottery.Money{Amount: r.FeeMinor, Currency: r.Currency}, CreatedAt: r.CreatedAt}
	if r.OfferID != nil {
		f.OfferID = *r.OfferID
	}
	if r.PayBy != nil {
		f.PayBy = *r.PayBy
	}
	return f
}

func loadDeferralFee(tx *gorm.DB, lock bool, where string, args ...any) (deferralFeeRow, error) {
	q := `SELECT d.entry_id::text AS entry_id, o.id::text AS offer_id, d.from_event_id AS event_id, d.state, d.fee_minor,
		d.currency, d.pay_by, d.created_at FROM deferrals d LEFT JOIN offers o ON o.entry_id = d.entry_id WHERE ` + where
	if lock {
		q += " FOR UPDATE OF d"
	}
	var rows []deferralFeeRow
	if err := tx.Raw(q, args...).Scan(&rows).Error; err != nil {
		return deferralFeeRow{}, fmt.Errorf("load deferral fee: %w", err)
	}
	if len(rows) == 0 {
		return deferralFeeRow{}, lottery.ErrNotFound
	}
	return rows[0], nil
}

// DeferralFee returns an entry's deferral with its fee; ErrNotFound.
func (s *Store) DeferralFee(ctx context.Context, entryID string) (lottery.DeferralFee, error) {
	r, err := loadDeferralFee(s.db.WithContext(ctx), false, "d.entry_id = ?", entryID)
	if err != nil {
		return lottery.DeferralFee{}, err
	}
	return r.fee(), nil
}

// DeferralOfPayment returns the deferral whose fee a payment pays;
// ErrNotFound when the payment is no deferral fee's.
func (s *Store) DeferralOfPayment(ctx context.Context, provider, paymentID string) (lottery.DeferralFee, error) {
	r, err := loadDeferralFee(s.db.WithContext(ctx), false, "d.fee_provider = ? AND d.fee_payment_id = ?", provider, paymentID)
	if err != nil {
		return lottery.DeferralFee{}, err
	}
	return r.fee(), nil
}

// SetDeferralPayment names the payment of a pending deferral's fee (the
// latest checkout: a runner who starts again replaces it).
func (s *Store) SetDeferralPayment(ctx context.Context, entryID, provider, paymentID string) error {
	res := s.db.WithContext(ctx).Exec(`UPDATE deferrals SET fee_provider = ?, fee_payment_id = ? WHERE entry_id = ? AND state = 'pending'`,
		provider, paymentID, entryID)
	if res.Error != nil {
		return fmt.Errorf("deferral payment: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "this deferral has no fee to pay"}
	}
	return nil
}

// CompleteDeferral holds a pending deferral once its fee's payment is
// captured: under the entry's offer lock (first, as every offer change)
// and the deferral's, the deferral becomes held and the entry deferred,
// logged and mailed, and used at once where the next edition is published
// (as Defer does for a free one). Done before: nothing. No longer payable
// (cancelled, past pay-by, the place gone meanwhile): invalid_transition,
// for the caller to refund.
func (s *Store) CompleteDeferral(ctx context.Context, entryID, paymentID string, now time.Time) ([]int64, error) {
	var mailIDs []int64
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		mailIDs = nil
		if err := tx.Exec(`SELECT 1 FROM offers WHERE entry_id = ? FOR UPDATE`, entryID).Error; err != nil {
			return fmt.Errorf("lock offer: %w", err)
		}
		e, err := loadDeferralEntry(tx, entryID, true)
		if err != nil {
			return err
		}
		d, err := loadDeferralFee(tx, true, "d.entry_id = ?", entryID)
		if err != nil {
			return err
		}
		if d.State == string(lottery.DeferralHeld) || d.State == string(lottery.DeferralUsed) {
			return nil // a webhook delivered twice
		}
		if err := lottery.DeferralFeePayable(lottery.DeferralState(d.State), derefTime(d.PayBy), now); err != nil {
			return err
		}
		if e.Status != string(lottery.EntryConfirmed) || e.SeriesID == nil {
			return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "the place is no longer held"}
		}
		if err := tx.Exec(`UPDATE deferrals SET state = 'held' WHERE entry_id = ?`, entryID).Error; err != nil {
			return fmt.Errorf("hold deferral: %w", err)
		}
		if err := tx.Exec(`UPDATE entries SET status = 'deferred', updated_at = now() WHERE id = ?`, entryID).Error; err != nil {
			return fmt.Errorf("defer entry: %w", err)
		}
		if err := appendLog(tx, e.EventID, lottery.LogRecord{Kind: "entry.deferred", EntryID: e.ID, FromStatus: e.Status,
			ToStatus: string(lottery.EntryDeferred), Actor: "system:payments", Details: map[string]any{"subqueue": e.SubqueueKey,
				"fee_minor": d.FeeMinor, "payment_id": paymentID}}); err != nil {
			return err
		}
		if mailIDs, err = queueEntryIntentIDs(ctx, tx, mails.EntryDeferred, []string{e.ID}, "", fmt.Sprint(d.FeeMinor)); err != nil {
			return err
		}
		next, err := nextEditions(tx, *e.SeriesID, e.EventID)
		if err != nil {
			return err
		}
		for _, id := range next {
			if _, err := useDeferrals(tx, id, "system:payments"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("complete deferral %s: %w", entryID, err)
	}
	return mailIDs, nil
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// CancelUnpaidDeferrals cancels up to limit pending deferrals past their
// pay-by time, each in its own transaction (the entry's offer lock first):
// the runner keeps their place, which is logged and mailed. A payment
// arriving later finds the deferral cancelled and is released.
func (s *Store) CancelUnpaidDeferrals(ctx context.Context, now time.Time, limit int) (int, error) {
	var due []string
	if err := s.db.WithContext(ctx).Raw(`SELECT entry_id::text FROM deferrals WHERE state = 'pending' AND pay_by <= ?
		ORDER BY pay_by, id LIMIT ?`, now, limit).Scan(&due).Error; err != nil {
		return 0, fmt.Errorf("find unpaid deferrals: %w", err)
	}
	n := 0
	for _, entryID := range due {
		done := false
		err := s.Transact(ctx, func(tx *gorm.DB) error {
			done = false
			if err := tx.Exec(`SELECT 1 FROM offers WHERE entry_id = ? FOR UPDATE`, entryID).Error; err != nil {
				return fmt.Errorf("lock offer: %w", err)
			}
			d, err := loadDeferralFee(tx, true, "d.entry_id = ?", entryID)
			if err != nil {
				return err
			}
			if d.State != string(lottery.DeferralPending) || d.PayBy == nil || now.Before(*d.PayBy) {
				return nil // paid or cancelled meanwhile
			}
			if err := tx.Exec(`UPDATE deferrals SET state = 'cancelled' WHERE entry_id = ?`, entryID).Error; err != nil {
				return fmt.Errorf("cancel deferral: %w", err)
			}
			if err := appendLog(tx, d.EventID, lottery.LogRecord{Kind: "deferral.cancelled", EntryID: entryID,
				Actor: "system:deferrals", Details: map[string]any{"reason": "fee_unpaid", "fee_minor": d.FeeMinor,
					"pay_by": d.PayBy}}); err != nil {
				return err
			}
			if _, err := queueEntryIntentIDs(ctx, tx, mails.DeferralCancelled, []string{entryID}, "", fmt.Sprint(d.FeeMinor)); err != nil {
				return err
			}
			done = true
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("cancel deferral of %s: %w", entryID, err)
		}
		if done {
			n++
		}
	}
	return n, nil
}
