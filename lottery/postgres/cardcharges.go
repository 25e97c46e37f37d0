package postgres

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/offers"
)

// Card on file (issue 15): the store side of off-session charges
// (offers.CardChargeStore). Every outcome is recorded under the offer's row
// lock, then the charge row's, the order every offer change locks in.

var _ offers.CardChargeStore = (*Store)(nil)

// queueCardCharges queues a charge for each of the new offers whose entry
// saved a card, in an event with card on file, at a price above zero (a
// free place is confirmed on accept, with no provider). issueOffers calls
// it for every offer it makes: the draw's and the waitlist cascade's.
func queueCardCharges(ctx context.Context, tx *gorm.DB, offerIDs []string) error {
	if _, err := tx.Statement.ConnPool.ExecContext(ctx, `INSERT INTO card_charges (offer_id, entry_id, event_id, next_at)
		SELECT o.id, o.entry_id, o.event_id, o.issued_at FROM offers o
			JOIN entry_cards c ON c.entry_id = o.entry_id AND c.payment_method <> ''
			JOIN event_card_settings s ON s.event_id = o.event_id
			JOIN subqueues q ON q.id = o.subqueue_id
		WHERE o.id = ANY($1::uuid[]) AND q.price_minor > 0
		ON CONFLICT (offer_id) DO NOTHING`, offerIDs); err != nil {
		return fmt.Errorf("queue card charges: %w", err)
	}
	return nil
}

// DueCardEvents lists events with charges due at now, oldest due first.
func (s *Store) DueCardEvents(ctx context.Context, now time.Time) ([]offers.CardEventDue, error) {
	var rows []struct {
		EventID         int64
		ChargePerMinute int
		MaxAttempts     int
		Due             int
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT cc.event_id, s.charge_per_minute, s.max_attempts, count(*) AS due
		FROM card_charges cc JOIN event_card_settings s ON s.event_id = cc.event_id
		WHERE cc.state IN ('queued', 'retry') AND cc.next_at <= ?
		GROUP BY cc.event_id, s.charge_per_minute, s.max_attempts ORDER BY min(cc.next_at)`, now).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("due card events: %w", err)
	}
	out := make([]offers.CardEventDue, len(rows))
	for i, r := range rows {
		out[i] = offers.CardEventDue{EventID: r.EventID, PerMinute: r.ChargePerMinute, MaxAttempts: r.MaxAttempts, Due: r.Due}
	}
	return out, nil
}

// refundOwed marks a charge row whose capture landed after its offer ended
// and whose refund the provider has not confirmed yet.
const refundOwed = "refund_owed"

type claimRow struct {
	OfferID       string
	EntryID       string
	Attempts      int
	LastError     string
	OfferStatus   string
	EntryStatus   string
	IssuedAt      time.Time
	ExpiresAt     time.Time
	Subqueue      string
	PriceMinor    int64
	Currency      string
	MaxAttempts   int
	Provider      string
	SetupID       string
	PaymentMethod string
	Customer      string
	Fingerprint   string
	Brand         string
	Last4         string
}

// ClaimCardCharges claims up to limit due charges of an event by
// offers.ClaimOf: the offers and charge rows are locked together, SKIP
// LOCKED (a row another pass holds, or an offer a runner is changing now,
// is left for later), so two passes never claim one charge; a claimed row
// is leased past the provider call, which runs outside this transaction.
func (s *Store) ClaimCardCharges(ctx context.Context, eventID int64, now time.Time, lease time.Duration, limit int) ([]offers.CardChargeJob, []int64, error) {
	var jobs []offers.CardChargeJob
	var outbox []int64
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		jobs, outbox = nil, nil
		var rows []claimRow
		if err := tx.Raw(`SELECT cc.offer_id::text AS offer_id, cc.entry_id::text AS entry_id, cc.attempts, cc.last_error,
				o.status AS offer_status, e.status AS entry_status, o.issued_at, o.expires_at, q.key AS subqueue, q.price_minor,
				ev.currency, s.max_attempts, coalesce(c.provider, '') AS provider, coalesce(c.setup_id, '') AS setup_id,
				coalesce(c.payment_method, '') AS payment_method, coalesce(c.customer, '') AS customer,
				coalesce(c.fingerprint, '') AS fingerprint, coalesce(c.brand, '') AS brand, coalesce(c.last4, '') AS last4
			FROM card_charges cc JOIN offers o ON o.id = cc.offer_id JOIN entries e ON e.id = cc.entry_id
				JOIN subqueues q ON q.id = o.subqueue_id JOIN events ev ON ev.id = cc.event_id
				JOIN event_card_settings s ON s.event_id = cc.event_id
				LEFT JOIN entry_cards c ON c.entry_id = cc.entry_id
			WHERE cc.event_id = ? AND cc.state IN ('queued', 'retry') AND cc.next_at <= ?
			ORDER BY cc.next_at, cc.offer_id LIMIT ? FOR UPDATE OF o, cc SKIP LOCKED`, eventID, now, limit).Scan(&rows).Error; err != nil {
			return fmt.Errorf("lock due card charges: %w", err)
		}
		for _, r := range rows {
			action := offers.ClaimOf(lottery.OfferStatus(r.OfferStatus), lottery.EntryStatus(r.EntryStatus), now,
				offers.ChargeCutoff(r.IssuedAt, r.ExpiresAt), r.LastError == refundOwed)
			if action == offers.ClaimCharge && r.PaymentMethod == "" {
				// The saved card was erased with the entry's data: nothing to charge.
				action, r.LastError = offers.ClaimFallback, "no_card"
			}
			switch action {
			case offers.ClaimMoot:
				// The runner paid on the page, declined, or the hold ended:
				// the charge is moot; the log keeps that it was queued.
				if err := tx.Exec(`DELETE FROM card_charges WHERE offer_id = ?`, r.OfferID).Error; err != nil {
					return err
				}
				if err := appendLog(tx, eventID, lottery.LogRecord{Kind: "card.charge_cancelled", EntryID: r.EntryID,
					Actor: "system:cards", Details: map[string]any{"offer_id": r.OfferID, "offer_status": r.OfferStatus}}); err != nil {
					return err
				}
			case offers.ClaimWait:
				if err := tx.Exec(`UPDATE card_charges SET next_at = ?, updated_at = now() WHERE offer_id = ?`,
					now.Add(time.Minute), r.OfferID).Error; err != nil {
					return err
				}
			case offers.ClaimFallback:
				code := r.LastError
				if code == "" {
					code = "hold_ending"
				}
				ids, err := fallBack(ctx, tx, eventID, r.OfferID, r.EntryID, r.Attempts, code)
				if err != nil {
					return err
				}
				outbox = append(outbox, ids...)
			default:
				if err := tx.Exec(`UPDATE card_charges SET next_at = ?, updated_at = now() WHERE offer_id = ?`,
					now.Add(lease), r.OfferID).Error; err != nil {
					return err
				}
				attempt := r.Attempts + 1
				if action == offers.ClaimReplay {
					attempt = r.Attempts // the captured attempt: the same key returns the same payment
				}
				jobs = append(jobs, offers.CardChargeJob{OfferID: r.OfferID, EntryID: r.EntryID, EventID: eventID, Attempt: attempt,
					MaxAttempts: r.MaxAttempts, SubQueue: r.Subqueue, Replay: action == offers.ClaimReplay,
					Price: lottery.Money{Amount: r.PriceMinor, Currency: r.Currency},
					Card: lottery.SavedCard{Provider: r.Provider, SetupID: r.SetupID, PaymentMethod: r.PaymentMethod,
						Customer: r.Customer, Fingerprint: r.Fingerprint, Brand: r.Brand, Last4: r.Last4}})
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("claim card charges of event %d: %w", eventID, err)
	}
	return jobs, outbox, nil
}

// fallBack gives up charging: the runner is mailed the pay link (the
// offer stays pending with its hold).
func fallBack(ctx context.Context, tx *gorm.DB, eventID int64, offerID, entryID string, attempts int, code string) ([]int64, error) {
	if err := tx.Exec(`UPDATE card_charges SET state = 'fallback', attempts = ?, last_error = ?, updated_at = now()
		WHERE offer_id = ?`, attempts, code, offerID).Error; err != nil {
		return nil, err
	}
	if err := appendLog(tx, eventID, lottery.LogRecord{Kind: "card.fallback", EntryID: entryID, Actor: "system:cards",
		Details: map[string]any{"offer_id": offerID, "attempts": attempts, "code": code}}); err != nil {
		return nil, err
	}
	return queueOfferMail(ctx, tx, mails.OfferCardFailed, []string{offerID})
}

// savePaymentTx is SavePayment in the caller's transaction.
func savePaymentTx(tx *gorm.DB, provider string, p lottery.Payment) error {
	if err := tx.Exec(`INSERT INTO payments (provider, id, offer_id, status, amount_minor, currency)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (provider, id) DO UPDATE SET
			status = CASE WHEN `+fmt.Sprintf(paymentRankSQL, "EXCLUDED.status")+` > `+fmt.Sprintf(paymentRankSQL, "payments.status")+`
				THEN EXCLUDED.status ELSE payments.status END,
			updated_at = now()`, provider, p.ID, p.OfferID, string(p.Status), p.AmountMinor, p.Currency).Error; err != nil {
		return fmt.Errorf("save payment %s: %w", p.ID, err)
	}
	return nil
}

// RecordCardCharge records one provider answer: see
// offers.CardChargeStore.
func (s *Store) RecordCardCharge(ctx context.Context, o offers.CardOutcome) (offers.CardRecorded, []int64, error) {
	var rec offers.CardRecorded
	var outbox []int64
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		rec, outbox = "", nil
		var r offerRow
		if err := offerQuery(tx).Where("o.id = ?", o.OfferID).Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "o"}}).
			Take(&r).Error; err != nil {
			return notFound(err)
		}
		var cc []struct {
			State     string
			Attempts  int
			LastError string
		}
		if err := tx.Raw(`SELECT state, attempts, last_error FROM card_charges WHERE offer_id = ? FOR UPDATE`, o.OfferID).
			Scan(&cc).Error; err != nil {
			return err
		}
		// Another pass recorded this attempt (its lease ended and it was
		// replayed), or the row is settled: nothing to do.
		switch {
		case len(cc) == 0, cc[0].State != string(offers.ChargeQueued) && cc[0].State != string(offers.ChargeRetry),
			!o.Replay && cc[0].Attempts != o.Attempt-1,
			o.Replay && (cc[0].Attempts != o.Attempt || cc[0].LastError != refundOwed):
			rec = offers.RecordedStale
			return nil
		}
		live := (r.Status == string(lottery.OfferPending) || r.Status == string(lottery.OfferAccepted)) && o.Now.Before(r.ExpiresAt)
		logCard := func(kind string, d map[string]any) error {
			d["offer_id"], d["attempt"] = r.ID, o.Attempt
			return appendLog(tx, r.EventID, lottery.LogRecord{Kind: kind, EntryID: r.EntryID, Actor: "system:cards", Details: d})
		}
		if o.Payment.Status == lottery.PaymentCaptured {
			p := o.Payment
			p.OfferID = r.ID
			if err := savePaymentTx(tx, o.Provider, p); err != nil {
				return err
			}
			var settledByThis bool
			if r.Status == string(lottery.OfferPaid) {
				// The provider's webhook may have settled this very payment first.
				_ = tx.Raw(`SELECT EXISTS (SELECT 1 FROM event_log WHERE kind = 'offer.paid' AND entry_id = ?
					AND details->>'payment_id' = ?)`, r.EntryID, p.ID).Row().Scan(&settledByThis)
			}
			switch {
			case live && !o.Replay:
				ids, err := markPaid(ctx, tx, &r, p.ID, o.Now)
				if err != nil {
					return err
				}
				outbox = ids
				fallthrough
			case settledByThis:
				if err := tx.Exec(`UPDATE card_charges SET state = 'charged', attempts = ?, payment_id = ?, last_error = '',
					updated_at = now() WHERE offer_id = ?`, o.Attempt, p.ID, r.ID).Error; err != nil {
					return err
				}
				rec = offers.RecordedCharged
				return logCard("card.charged", map[string]any{"payment_id": p.ID})
			}
			// Captured after the offer ended (declined, expired, paid on the
			// page): refunded at once by the caller; until the provider
			// confirms it, the row is replayed with the same key.
			if err := tx.Exec(`UPDATE card_charges SET attempts = ?, payment_id = ?, last_error = ?, next_at = ?,
				updated_at = now() WHERE offer_id = ?`, o.Attempt, p.ID, refundOwed, o.Now.Add(5*time.Minute), r.ID).Error; err != nil {
				return err
			}
			rec = offers.RecordedRefund
			return logCard("card.charge_late", map[string]any{"payment_id": p.ID, "offer_status": r.Status})
		}
		if o.Replay {
			rec = offers.RecordedStale // a replay always finds its capture; anything else waits for the next lease
			return nil
		}
		if !live {
			// Declined after the offer ended: nothing is owed and no one to mail.
			if err := tx.Exec(`DELETE FROM card_charges WHERE offer_id = ?`, r.ID).Error; err != nil {
				return err
			}
			rec = offers.RecordedStale
			return logCard("card.charge_cancelled", map[string]any{"offer_status": r.Status})
		}
		attempts, code := o.Attempt, o.Decline.Code
		if o.Busy {
			attempts, code = o.Attempt-1, "provider_busy" // a busy provider decided nothing
		}
		if err := logCard("card.charge_failed", map[string]any{"code": code, "retry": o.Decline.Retry, "busy": o.Busy}); err != nil {
			return err
		}
		next, again := offers.NextCharge(o.Now, offers.ChargeCutoff(r.IssuedAt, r.ExpiresAt), attempts, o.MaxAttempts, o.Decline, o.Busy)
		if !again {
			ids, err := fallBack(ctx, tx, r.EventID, r.ID, r.EntryID, attempts, code)
			outbox, rec = ids, offers.RecordedFallback
			return err
		}
		rec = offers.RecordedRetry
		if o.Busy {
			rec = offers.RecordedBusy
		}
		return tx.Exec(`UPDATE card_charges SET state = 'retry', attempts = ?, last_error = ?, next_at = ?, updated_at = now()
			WHERE offer_id = ?`, attempts, code, next, r.ID).Error
	})
	if err != nil {
		return "", nil, fmt.Errorf("record card charge of %s: %w", o.OfferID, err)
	}
	return rec, outbox, nil
}

// RecordCardRefund records the confirmed refund of a late capture.
func (s *Store) RecordCardRefund(ctx context.Context, offerID, provider string, p lottery.Payment) error {
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		var r offerRow
		if err := offerQuery(tx).Where("o.id = ?", offerID).Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "o"}}).
			Take(&r).Error; err != nil {
			return notFound(err)
		}
		res := tx.Exec(`UPDATE card_charges SET state = 'charged', last_error = 'refunded', updated_at = now()
			WHERE offer_id = ? AND last_error = ?`, offerID, refundOwed)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error // recorded already
		}
		p.OfferID = offerID
		if err := savePaymentTx(tx, provider, p); err != nil {
			return err
		}
		return appendLog(tx, r.EventID, lottery.LogRecord{Kind: "card.refunded", EntryID: r.EntryID, Actor: "system:cards",
			Details: map[string]any{"offer_id": offerID, "payment_id": p.ID, "offer_status": r.Status}})
	})
	if err != nil {
		return fmt.Errorf("record card refund of %s: %w", offerID, err)
	}
	return nil
}

// CardChargeOf returns an offer's charge with the saved card's brand and
// last four digits.
func (s *Store) CardChargeOf(ctx context.Context, offerID string) (offers.CardChargeView, error) {
	var rows []struct {
		State     string
		Attempts  int
		LastError string
		NextAt    time.Time
		Brand     string
		Last4     string
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT cc.state, cc.attempts, cc.last_error, cc.next_at,
			coalesce(c.brand, '') AS brand, coalesce(c.last4, '') AS last4
		FROM card_charges cc LEFT JOIN entry_cards c ON c.entry_id = cc.entry_id WHERE cc.offer_id = ?`, offerID).
		Scan(&rows).Error; err != nil {
		return offers.CardChargeView{}, fmt.Errorf("card charge of %s: %w", offerID, err)
	}
	if len(rows) == 0 {
		return offers.CardChargeView{}, lottery.ErrNotFound
	}
	r := rows[0]
	return offers.CardChargeView{State: offers.CardChargeState(r.State), Attempts: r.Attempts, LastError: r.LastError,
		NextAt: r.NextAt.UTC(), Brand: r.Brand, Last4: r.Last4}, nil
}

// CardChargeCounts counts an event's charges by state; a late capture that
// was refunded is not counted as charged.
func (s *Store) CardChargeCounts(ctx context.Context, eventID int64) (offers.CardChargeCounts, error) {
	var n offers.CardChargeCounts
	err := s.db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM event_card_settings WHERE event_id = ?) AS enabled,
			count(*) FILTER (WHERE state = 'queued') AS queued, count(*) FILTER (WHERE state = 'retry') AS retrying,
			count(*) FILTER (WHERE state = 'charged' AND last_error = '') AS charged,
			count(*) FILTER (WHERE state = 'fallback') AS fallback
		FROM card_charges WHERE event_id = ?`, eventID, eventID).Row().Scan(&n.Enabled, &n.Queued, &n.Retrying, &n.Charged, &n.Fallback)
	if err != nil {
		return n, fmt.Errorf("card charge counts: %w", err)
	}
	return n, nil
}
