package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/offers"
)

// refundRow is a payment's refund columns (00023).
type refundRow struct {
	Provider       string
	ID             string
	OfferID        string
	AmountMinor    int64
	Currency       string
	RefundDueMinor int64
	RefundedMinor  int64
	RefundPercent  int
}

func (r refundRow) refund() offers.Refund {
	return offers.Refund{Provider: r.Provider, PaymentID: r.ID, OfferID: r.OfferID, Percent: r.RefundPercent,
		Amount: lottery.Money{Amount: r.RefundDueMinor, Currency: r.Currency}, Refunded: r.RefundedMinor}
}

// CapturedPayment returns an offer's captured payment (the oldest, should a
// retry have made two).
func (s *Store) CapturedPayment(ctx context.Context, offerID string) (lottery.Payment, error) {
	var rows []refundRow
	if err := s.db.WithContext(ctx).Raw(`SELECT provider, id, offer_id::text AS offer_id, amount_minor, currency
		FROM payments WHERE offer_id = ? AND status = 'captured' ORDER BY created_at, id LIMIT 1`, offerID).
		Scan(&rows).Error; err != nil {
		return lottery.Payment{}, fmt.Errorf("captured payment: %w", err)
	}
	if len(rows) == 0 {
		return lottery.Payment{}, lottery.ErrNotFound
	}
	r := rows[0]
	return lottery.Payment{ID: r.ID, OfferID: r.OfferID, Status: lottery.PaymentCaptured, AmountMinor: r.AmountMinor,
		Currency: r.Currency}, nil
}

// OfferRefund returns the refund owed or made for a given-back offer.
func (s *Store) OfferRefund(ctx context.Context, offerID string) (offers.Refund, error) {
	var rows []refundRow
	if err := s.db.WithContext(ctx).Raw(`SELECT provider, id, offer_id::text AS offer_id, amount_minor, currency,
			refund_due_minor, refunded_minor, refund_percent
		FROM payments WHERE offer_id = ? AND refund_due_minor > 0 ORDER BY created_at, id LIMIT 1`, offerID).
		Scan(&rows).Error; err != nil {
		return offers.Refund{}, fmt.Errorf("offer refund: %w", err)
	}
	if len(rows) == 0 {
		return offers.Refund{}, lottery.ErrNotFound
	}
	return rows[0].refund(), nil
}

// OwedRefunds lists refunds owed and not yet confirmed by the provider,
// oldest first.
func (s *Store) OwedRefunds(ctx context.Context, limit int) ([]offers.Refund, error) {
	var rows []refundRow
	if err := s.db.WithContext(ctx).Raw(`SELECT provider, id, offer_id::text AS offer_id, amount_minor, currency,
			refund_due_minor, refunded_minor, refund_percent
		FROM payments WHERE refund_due_minor > refunded_minor ORDER BY created_at, id LIMIT ?`, limit).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("owed refunds: %w", err)
	}
	out := make([]offers.Refund, len(rows))
	for i, r := range rows {
		out[i] = r.refund()
	}
	return out, nil
}

// GiveBack ends a held offer and re-offers its slot. The offer row is
// locked first and the sub-queue row by the cascade, the order every offer
// change takes; the capacity trigger re-checks the count.
func (s *Store) GiveBack(ctx context.Context, g offers.GiveBackTx) (offers.GiveBackResult, []lottery.OfferIssue, error) {
	var out offers.GiveBackResult
	var issued []lottery.OfferIssue
	err := s.bulkTx(ctx, func(tx *gorm.DB, copyRows copyFunc) error {
		out, issued = offers.GiveBackResult{}, nil
		var r offerRow
		if err := offerQuery(tx).Where("o.id = ?", g.OfferID).Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "o"}}).
			Take(&r).Error; err != nil {
			return notFound(err)
		}
		if r.EntryID != g.EntryID {
			return lottery.ErrNotFound
		}
		// The entry row next, as a transfer takes them: a transfer that
		// completed first left the offer void and the entry transferred; a
		// deferral (which locks the entry) left the offer paid and the
		// entry deferred.
		var entryStatus string
		var pickedUp bool
		if err := tx.Raw(`SELECT status, picked_up_at IS NOT NULL FROM entries WHERE id = ? FOR UPDATE`, r.EntryID).Row().
			Scan(&entryStatus, &pickedUp); err != nil {
			return notFound(err)
		}
		if err := offers.GiveBackEntry(lottery.EntryStatus(entryStatus), pickedUp); err != nil {
			return err
		}
		switch {
		case r.Status == string(lottery.OfferPaid):
		case r.Status == string(lottery.OfferAccepted) && g.Now.Before(r.ExpiresAt):
		case r.Status == string(lottery.OfferAccepted), r.Status == string(lottery.OfferExpired):
			return lottery.ErrOfferExpired
		default:
			return lottery.ErrNoSlotHeld
		}
		details := map[string]any{"offer_id": r.ID, "entry_status": lottery.EntryWithdrawn, "reason": "given back"}
		if r.Status == string(lottery.OfferPaid) {
			var pays []refundRow
			if err := tx.Raw(`SELECT provider, id, offer_id::text AS offer_id, amount_minor, currency, refund_due_minor, refunded_minor
				FROM payments WHERE offer_id = ? AND status = 'captured' ORDER BY created_at, id LIMIT 1 FOR UPDATE`, r.ID).
				Scan(&pays).Error; err != nil {
				return fmt.Errorf("load payment: %w", err)
			}
			if len(pays) == 1 {
				p := pays[0]
				due, pct := lottery.RefundDue(g.Policy, p.AmountMinor, g.Now)
				if due > 0 {
					if err := tx.Exec(`UPDATE payments SET refund_due_minor = ?, refund_percent = ?, updated_at = now()
						WHERE provider = ? AND id = ?`, due, pct, p.Provider, p.ID).Error; err != nil {
						return fmt.Errorf("record refund due: %w", err)
					}
				}
				p.RefundDueMinor, p.RefundPercent = due, pct
				out.Refund = p.refund()
				details["payment_id"], details["paid_minor"], details["refund_minor"], details["refund_percent"] =
					p.ID, p.AmountMinor, due, pct
			}
		}
		// A transfer still open ends with the place: the recipient's hold
		// expires, so their payment arriving later finds it closed.
		if err := cancelOpenTransfers(tx, r.EntryID, g.Now); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE offers SET status = 'void', decided_at = ? WHERE id = ?`, g.Now, r.ID).Error; err != nil {
			return fmt.Errorf("void offer: %w", err)
		}
		if err := tx.Exec(`UPDATE entries SET status = 'withdrawn', updated_at = now() WHERE id = ?`, r.EntryID).Error; err != nil {
			return fmt.Errorf("withdraw entry: %w", err)
		}
		if err := appendLog(tx, r.EventID, lottery.LogRecord{Kind: "offer.given_back", EntryID: r.EntryID, FromStatus: r.Status,
			ToStatus: string(lottery.OfferVoid), Actor: "runner", Details: details}); err != nil {
			return err
		}
		if err := queueEntryIntents(ctx, tx, mails.EntryWithdrawn, []string{r.EntryID}, r.ID); err != nil {
			return err
		}
		r.Status, r.DecidedAt = string(lottery.OfferVoid), &g.Now
		out.Offer = fromOfferRow(r)
		if out.Refund.Amount.Currency == "" {
			var cur string
			if err := tx.Raw(`SELECT currency FROM events WHERE id = ?`, r.EventID).Row().Scan(&cur); err != nil {
				return err
			}
			out.Refund.Amount.Currency = cur
		}
		offered, mailIDs, err := cascade(ctx, tx, copyRows, r.EventID, r.SubqueueID, g.OfferTx)
		issued = pair(offered, mailIDs)
		return err
	})
	if err != nil {
		return offers.GiveBackResult{}, nil, err
	}
	return out, issued, nil
}

// RecordRefund records a refund the provider made: the payment's refunded
// amount and status, a payment_events row (the provider's refund, by its
// idempotency key), the event log and the refund mail, once.
func (s *Store) RecordRefund(ctx context.Context, r offers.Refund, p lottery.Payment, now time.Time) (offers.Refund, error) {
	out := r
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		out = r
		var row refundRow
		res := tx.Raw(`UPDATE payments SET refunded_minor = refund_due_minor, status = 'refunded', updated_at = now()
			WHERE provider = ? AND id = ? AND refunded_minor < refund_due_minor
			RETURNING provider, id, offer_id::text AS offer_id, amount_minor, currency, refund_due_minor, refunded_minor,
				refund_percent`,
			r.Provider, r.PaymentID).Scan(&row)
		if res.Error != nil {
			return fmt.Errorf("record refund: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			out.Refunded = out.Amount.Amount // recorded before
			return nil
		}
		out = row.refund()
		if err := tx.Exec(`INSERT INTO payment_events (provider, event_id, payment_id, status, created)
			VALUES (?, ?, ?, 'refunded', ?) ON CONFLICT DO NOTHING`, r.Provider, "refund:"+r.OfferID, r.PaymentID, now).Error; err != nil {
			return fmt.Errorf("record refund event: %w", err)
		}
		var o struct {
			EventID int64
			EntryID string
		}
		if err := tx.Raw(`SELECT event_id, entry_id::text AS entry_id FROM offers WHERE id = ?`, r.OfferID).Scan(&o).Error; err != nil {
			return err
		}
		if err := appendLog(tx, o.EventID, lottery.LogRecord{Kind: "payment.refunded", EntryID: o.EntryID, Actor: "system:payments",
			Details: map[string]any{"offer_id": r.OfferID, "payment_id": r.PaymentID, "refund_minor": row.RefundedMinor,
				"provider_refund_minor": p.RefundedMinor}}); err != nil {
			return err
		}
		// The mail states the amount refunded (the policy's share), not the price.
		_, err := queueEntryIntentIDs(ctx, tx, mails.EntryRefunded, []string{o.EntryID}, r.OfferID,
			strconv.FormatInt(row.RefundedMinor, 10))
		return err
	})
	if err != nil {
		return r, err
	}
	return out, nil
}
