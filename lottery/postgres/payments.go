package postgres

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
)

// paymentRankSQL orders payment states as lottery.PaymentStatus.Later does.
const paymentRankSQL = `CASE %s WHEN 'created' THEN 0 WHEN 'failed' THEN 1 WHEN 'authorized' THEN 2
	WHEN 'captured' THEN 3 WHEN 'canceled' THEN 4 WHEN 'refunded' THEN 5 END`

// SavePayment upserts a payment, never moving its status backwards.
func (s *Store) SavePayment(ctx context.Context, provider string, p lottery.Payment) (lottery.Payment, error) {
	var out struct {
		Status      string
		AmountMinor int64
		Currency    string
		OfferID     string
	}
	err := s.db.WithContext(ctx).Raw(`INSERT INTO payments (provider, id, offer_id, status, amount_minor, currency)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (provider, id) DO UPDATE SET
			status = CASE WHEN `+fmt.Sprintf(paymentRankSQL, "EXCLUDED.status")+` > `+fmt.Sprintf(paymentRankSQL, "payments.status")+`
				THEN EXCLUDED.status ELSE payments.status END,
			updated_at = now()
		RETURNING status, amount_minor, currency, offer_id::text`,
		provider, p.ID, p.OfferID, string(p.Status), p.AmountMinor, p.Currency).Scan(&out).Error
	if err != nil {
		return lottery.Payment{}, fmt.Errorf("save payment %s: %w", p.ID, err)
	}
	return lottery.Payment{ID: p.ID, OfferID: out.OfferID, Status: lottery.PaymentStatus(out.Status), AmountMinor: out.AmountMinor,
		Currency: out.Currency}, nil
}

// FindPayment returns a stored payment.
func (s *Store) FindPayment(ctx context.Context, provider, id string) (lottery.Payment, error) {
	var rows []struct {
		Status      string
		AmountMinor int64
		Currency    string
		OfferID     string
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT status, amount_minor, currency, offer_id::text FROM payments
		WHERE provider = ? AND id = ?`, provider, id).Scan(&rows).Error; err != nil {
		return lottery.Payment{}, err
	}
	if len(rows) == 0 {
		return lottery.Payment{}, lottery.ErrNotFound
	}
	r := rows[0]
	return lottery.Payment{ID: id, OfferID: r.OfferID, Status: lottery.PaymentStatus(r.Status), AmountMinor: r.AmountMinor,
		Currency: r.Currency}, nil
}

// RecordPaymentEvent stores a delivery once.
func (s *Store) RecordPaymentEvent(ctx context.Context, provider string, e lottery.PaymentEvent) (bool, error) {
	res := s.db.WithContext(ctx).Exec(`INSERT INTO payment_events (provider, event_id, payment_id, status, created)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, provider, e.ID, e.PaymentID, string(e.Status), e.Created)
	if res.Error != nil {
		return false, fmt.Errorf("record payment event: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// MarkOfferPaid settles a live offer.
func (s *Store) MarkOfferPaid(ctx context.Context, offerID, paymentID string, o lottery.OfferTx) (lottery.Offer, error) {
	var out lottery.Offer
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		var r offerRow
		if err := offerQuery(tx).Where("o.id = ?", offerID).Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "o"}}).
			Take(&r).Error; err != nil {
			return notFound(err)
		}
		live := r.Status == string(lottery.OfferPending) || r.Status == string(lottery.OfferAccepted)
		if !live || !o.Now.Before(r.ExpiresAt) {
			return lottery.ErrOfferExpired
		}
		if _, err := markPaid(ctx, tx, &r, paymentID, o.Now); err != nil {
			return err
		}
		out = fromOfferRow(r)
		return nil
	})
	return out, err
}

// markPaid moves a live offer, locked by the caller, to paid and its entry
// to confirmed, logs it and queues the paid mail (its outbox ids returned).
func markPaid(ctx context.Context, tx *gorm.DB, r *offerRow, paymentID string, now time.Time) ([]int64, error) {
	if err := tx.Exec(`UPDATE offers SET status = 'paid', decided_at = ? WHERE id = ?`, now, r.ID).Error; err != nil {
		return nil, err
	}
	if err := tx.Exec(`UPDATE entries SET status = 'confirmed', updated_at = now() WHERE id = ?`, r.EntryID).Error; err != nil {
		return nil, err
	}
	if err := appendLog(tx, r.EventID, lottery.LogRecord{Kind: "offer.paid", EntryID: r.EntryID, FromStatus: r.Status,
		ToStatus: "paid", Actor: "system:payments", Details: map[string]any{"offer_id": r.ID, "payment_id": paymentID,
			"entry_status": "confirmed"}}); err != nil {
		return nil, err
	}
	ids, err := queueOfferMail(ctx, tx, mails.OfferPaid, []string{r.ID})
	if err != nil {
		return nil, err
	}
	r.Status, r.DecidedAt = "paid", &now
	return ids, nil
}

// OfferPrice is an offer's sub-queue price in its event's currency.
func (s *Store) OfferPrice(ctx context.Context, offerID string) (lottery.Money, error) {
	var m lottery.Money
	if err := s.db.WithContext(ctx).Raw(`SELECT q.price_minor, ev.currency FROM offers o
		JOIN subqueues q ON q.id = o.subqueue_id JOIN events ev ON ev.id = o.event_id WHERE o.id = ?`, offerID).Row().
		Scan(&m.Amount, &m.Currency); err != nil {
		return lottery.Money{}, notFound(err)
	}
	return m, nil
}
