package postgres

import (
	"context"
	"fmt"

	"github.com/startline/startline/lottery"
)

// LatestPayment returns the payment of an offer that changed last (the
// runner's latest checkout; a deferral fee's payment, which hangs on the
// offer too, is not it); ErrNotFound when the offer has none.
func (s *Store) LatestPayment(ctx context.Context, offerID string) (lottery.Payment, error) {
	var rows []struct {
		ID          string
		Status      string
		AmountMinor int64
		Currency    string
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT id, status, amount_minor, currency FROM payments
		WHERE offer_id = ? AND NOT EXISTS (SELECT 1 FROM deferrals d WHERE d.fee_provider = payments.provider AND d.fee_payment_id = payments.id)
		ORDER BY updated_at DESC, created_at DESC LIMIT 1`, offerID).Scan(&rows).Error; err != nil {
		return lottery.Payment{}, fmt.Errorf("latest payment of %s: %w", offerID, err)
	}
	if len(rows) == 0 {
		return lottery.Payment{}, lottery.ErrNotFound
	}
	r := rows[0]
	return lottery.Payment{ID: r.ID, OfferID: offerID, Status: lottery.PaymentStatus(r.Status), AmountMinor: r.AmountMinor,
		Currency: r.Currency}, nil
}
