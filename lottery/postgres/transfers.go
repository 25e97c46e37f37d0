package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/offers"
)

var _ offers.TransferStore = (*Store)(nil)

// transferRow is a transfer with its event's slug and currency and the
// giver's sub-queue and offer.
type transferRow struct {
	ID         string
	EventID    int64
	EventSlug  string
	Currency   string
	SubqueueID int64
	Subqueue   string
	FromEntry  string
	FromOffer  string
	ToEmail    string
	ToEmailKey string
	ToEntry    *string
	ToOffer    *string
	State      string
	PriceMinor int64
	FeeMinor   int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

func (r transferRow) transfer() offers.Transfer {
	t := offers.Transfer{ID: r.ID, EventID: r.EventID, EventSlug: r.EventSlug, SubQueue: r.Subqueue, FromEntry: r.FromEntry,
		FromOffer: r.FromOffer, ToEmail: r.ToEmail, ToEmailKey: r.ToEmailKey, State: r.State, PriceMinor: r.PriceMinor,
		FeeMinor: r.FeeMinor, Currency: r.Currency, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
	if r.ToEntry != nil {
		t.ToEntry = *r.ToEntry
	}
	if r.ToOffer != nil {
		t.ToOffer = *r.ToOffer
	}
	return t
}

const transferSelect = `SELECT t.id::text AS id, t.event_id, ev.slug AS event_slug, ev.currency, o.subqueue_id, q.key AS subqueue,
		t.from_entry::text AS from_entry, o.id::text AS from_offer, t.to_email, t.to_email_key, t.to_entry::text AS to_entry,
		t.to_offer::text AS to_offer, t.state, t.price_minor, t.fee_minor, t.created_at, t.expires_at
	FROM transfers t JOIN events ev ON ev.id = t.event_id JOIN offers o ON o.entry_id = t.from_entry
	JOIN subqueues q ON q.id = o.subqueue_id `

// findTransfer reads one transfer by a condition on t; lock adds FOR
// UPDATE OF t (the caller has locked the giver's offer first).
func findTransfer(tx *gorm.DB, lock bool, where string, args ...any) (transferRow, error) {
	q := transferSelect + "WHERE " + where
	if lock {
		q += " FOR UPDATE OF t"
	}
	var rows []transferRow
	if err := tx.Raw(q, args...).Scan(&rows).Error; err != nil {
		return transferRow{}, fmt.Errorf("load transfer: %w", err)
	}
	if len(rows) == 0 {
		return transferRow{}, lottery.ErrNotFound
	}
	return rows[0], nil
}

// lockGiverOffer locks the giver's offer row (the first lock every
// transfer change takes, as every offer change does) and returns its
// status and its entry's.
func lockGiverOffer(tx *gorm.DB, entryID string) (offerRow, lottery.EntryStatus, error) {
	var r offerRow
	if err := offerQuery(tx).Where("o.entry_id = ?", entryID).Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "o"}}).Take(&r).Error; err != nil {
		return offerRow{}, "", notFound(err)
	}
	var st string
	if err := tx.Raw(`SELECT status FROM entries WHERE id = ? FOR UPDATE`, entryID).Row().Scan(&st); err != nil {
		return offerRow{}, "", notFound(err)
	}
	return r, lottery.EntryStatus(st), nil
}

// pickedUp reports whether the entry's bib was picked up at check-in; the
// caller holds the entry's lock (lockGiverOffer), which a pickup takes too.
func pickedUp(tx *gorm.DB, entryID string) (bool, error) {
	var picked bool
	if err := tx.Raw(`SELECT picked_up_at IS NOT NULL FROM entries WHERE id = ?`, entryID).Row().Scan(&picked); err != nil {
		return false, fmt.Errorf("pickup of %s: %w", entryID, err)
	}
	return picked, nil
}

// closeTransfer ends an open transfer (cancelled or expired) and the
// recipient's hold, if they had verified: the hold offer ends (expired)
// and their entry with it.
func closeTransfer(tx *gorm.DB, r transferRow, state, actor string, now time.Time) error {
	if err := tx.Exec(`UPDATE transfers SET state = ?, decided_at = ? WHERE id = ?`, state, now, r.ID).Error; err != nil {
		return fmt.Errorf("close transfer: %w", err)
	}
	if r.ToOffer != nil {
		if err := tx.Exec(`UPDATE offers SET status = 'expired', decided_at = ? WHERE id = ? AND status = 'transfer_hold'`,
			now, *r.ToOffer).Error; err != nil {
			return fmt.Errorf("close transfer hold: %w", err)
		}
		// A recipient in review leaves it too (the reviewer's queue drops them).
		var from []string
		if err := tx.Raw(`WITH old AS (SELECT id, status FROM entries WHERE id = ? AND status IN ('offered', 'in_review') FOR UPDATE)
			UPDATE entries e SET status = 'expired', updated_at = now() FROM old WHERE e.id = old.id RETURNING old.status`,
			*r.ToEntry).Scan(&from).Error; err != nil {
			return fmt.Errorf("close transfer entry: %w", err)
		}
		fromStatus := string(lottery.EntryOffered)
		if len(from) == 1 {
			fromStatus = from[0]
		}
		if err := appendLog(tx, r.EventID, lottery.LogRecord{Kind: "transfer." + state, EntryID: *r.ToEntry,
			FromStatus: fromStatus, ToStatus: string(lottery.EntryExpired), Actor: actor,
			Details: map[string]any{"transfer_id": r.ID}}); err != nil {
			return err
		}
	}
	return appendLog(tx, r.EventID, lottery.LogRecord{Kind: "transfer." + state, EntryID: r.FromEntry, FromStatus: r.State,
		ToStatus: state, Actor: actor, Details: map[string]any{"transfer_id": r.ID}})
}

// cancelOpenTransfers cancels the entry's open transfers (its place is
// given back, or its bib picked up); the caller holds the giver's offer
// lock.
func cancelOpenTransfers(tx *gorm.DB, entryID string, now time.Time) error {
	return closeOpen(tx, entryID, offers.TransferCancelled, "runner", now, "")
}

// expireOpen expires the entry's open transfers past their end.
func expireOpen(tx *gorm.DB, entryID string, now time.Time) error {
	return closeOpen(tx, entryID, offers.TransferExpired, "system:transfers", now, " AND expires_at <= ?")
}

// closeOpen closes the entry's open transfers matching cond (an extra
// condition on expires_at, bound to now) in the given state.
func closeOpen(tx *gorm.DB, entryID, state, actor string, now time.Time, cond string) error {
	args := []any{entryID}
	if cond != "" {
		args = append(args, now)
	}
	var ids []string
	if err := tx.Raw(`SELECT id::text FROM transfers WHERE from_entry = ? AND state IN ('pending', 'review', 'verified')`+cond,
		args...).Scan(&ids).Error; err != nil {
		return fmt.Errorf("find open transfers: %w", err)
	}
	for _, id := range ids {
		r, err := findTransfer(tx, true, "t.id = ?", id)
		if err != nil {
			return err
		}
		if err := closeTransfer(tx, r, state, actor, now); err != nil {
			return err
		}
		switch state {
		case offers.TransferExpired:
			// Found expired on the way (before the sweep got to it): the
			// giver and a recipient with an entry are told as the sweep
			// tells them (ExpireTransfers).
			if err := mailExpired(tx, r); err != nil {
				return err
			}
		case offers.TransferCancelled:
			if err := mailWithdrawn(tx, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// mailWithdrawn tells a recipient who took the link up (has an entry)
// that the giver withdrew the transfer: cancelled it, gave the place
// back, or picked up the bib.
func mailWithdrawn(tx *gorm.DB, r transferRow) error {
	if r.ToEntry == nil {
		return nil
	}
	_, err := queueEntryIntentIDs(tx.Statement.Context, tx, mails.TransferEnded, []string{*r.ToEntry}, "", "cancelled:recipient")
	return err
}

// mailExpired queues the transfer.ended mails of an expired transfer to
// the giver and, once they have an entry, the recipient.
func mailExpired(tx *gorm.DB, r transferRow) error {
	ctx := tx.Statement.Context
	if _, err := queueEntryIntentIDs(ctx, tx, mails.TransferEnded, []string{r.FromEntry}, "", "expired:giver"); err != nil {
		return err
	}
	if r.ToEntry != nil {
		if _, err := queueEntryIntentIDs(ctx, tx, mails.TransferEnded, []string{*r.ToEntry}, "", "expired:recipient"); err != nil {
			return err
		}
	}
	return nil
}

// OfferTransfer records a giver's transfer under their offer's lock,
// serialised per event (an advisory lock) so the event's count holds.
func (s *Store) OfferTransfer(ctx context.Context, t offers.TransferTx) (offers.Transfer, int64, error) {
	var out offers.Transfer
	var mailID int64
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		o, entryStatus, err := lockGiverOffer(tx, t.EntryID)
		if err != nil {
			return err
		}
		if o.ID != t.OfferID {
			return lottery.ErrNotFound
		}
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended('startline:transfers:' || ?, 0))`, strconv.FormatInt(o.EventID, 10)).Error; err != nil {
			return fmt.Errorf("lock event transfers: %w", err)
		}
		if err := expireOpen(tx, t.EntryID, t.Now); err != nil {
			return err
		}
		var p struct {
			Deadline   *time.Time
			Max        int
			FeeMinor   int64
			PriceMinor int64
			FromKey    string
			Open       int
			Used       int
		}
		if err := tx.Raw(`SELECT ev.transfer_deadline AS deadline, ev.transfer_max AS max, ev.transfer_fee_minor AS fee_minor,
				q.price_minor, e.email_key AS from_key,
				(SELECT count(*) FROM transfers WHERE from_entry = e.id AND state IN ('pending', 'review', 'verified')) AS open,
				(SELECT count(*) FROM transfers WHERE event_id = ev.id AND (state = 'paid'
					OR (state IN ('pending', 'review', 'verified') AND expires_at > ?))) AS used
			FROM entries e JOIN events ev ON ev.id = e.event_id JOIN subqueues q ON q.id = e.subqueue_id WHERE e.id = ?`,
			t.Now, t.EntryID).Scan(&p).Error; err != nil {
			return fmt.Errorf("load transfer policy: %w", err)
		}
		if p.Open > 0 {
			return &lottery.Error{Code: lottery.CodeConflict, Message: "a transfer of this place is open; cancel it first"}
		}
		picked, err := pickedUp(tx, t.EntryID)
		if err != nil {
			return err
		}
		policy := offers.TransferPolicy{Deadline: p.Deadline, Max: p.Max, FeeMinor: p.FeeMinor}
		if err := offers.Transferable(policy, offers.TransferAsk{Offer: lottery.OfferStatus(o.Status), Entry: entryStatus,
			FromKey: p.FromKey, ToKey: t.ToKey, PriceMinor: p.PriceMinor, Used: p.Used, PickedUp: picked}, t.Now); err != nil {
			return err
		}
		expires := offers.TransferExpiry(policy, t.Now)
		if err := tx.Exec(`INSERT INTO transfers (id, event_id, from_entry, to_email, to_email_key, token_hash, state, price_minor,
				fee_minor, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`,
			t.ID, o.EventID, t.EntryID, t.ToEmail, t.ToKey, t.TokenHash, p.PriceMinor, p.FeeMinor, t.Now, expires).Error; err != nil {
			return fmt.Errorf("insert transfer: %w", err)
		}
		r, err := findTransfer(tx, false, "t.id = ?", t.ID)
		if err != nil {
			return err
		}
		out = r.transfer()
		if err := appendLog(tx, o.EventID, lottery.LogRecord{Kind: "transfer.offered", EntryID: t.EntryID,
			ToStatus: offers.TransferPending, Actor: "runner", Details: map[string]any{"transfer_id": t.ID,
				"price_minor": p.PriceMinor, "fee_minor": p.FeeMinor, "expires_at": expires}}); err != nil {
			return err
		}
		if t.Mail == nil {
			return nil
		}
		m, err := t.Mail(out)
		if err != nil {
			return err
		}
		mailID, err = insertMail(tx, m)
		return err
	})
	if err != nil {
		return offers.Transfer{}, 0, err
	}
	return out, mailID, nil
}

// CancelTransfer cancels the entry's open transfer (the giver's choice).
func (s *Store) CancelTransfer(ctx context.Context, entryID string, now time.Time) (offers.Transfer, error) {
	var out offers.Transfer
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		if _, _, err := lockGiverOffer(tx, entryID); err != nil {
			return err
		}
		if err := expireOpen(tx, entryID, now); err != nil {
			return err
		}
		r, err := findTransfer(tx, true, "t.from_entry = ? AND t.state IN ('pending', 'review', 'verified')", entryID)
		if err != nil {
			return err
		}
		if err := closeTransfer(tx, r, offers.TransferCancelled, "runner", now); err != nil {
			return err
		}
		if err := mailWithdrawn(tx, r); err != nil {
			return err
		}
		r.State = offers.TransferCancelled
		out = r.transfer()
		return nil
	})
	return out, err
}

// TransferByToken returns a transfer by its token's hash, expiring it
// first when it is open past its end.
func (s *Store) TransferByToken(ctx context.Context, hash string, now time.Time) (offers.Transfer, error) {
	r, err := findTransfer(s.db.WithContext(ctx), false, "t.token_hash = ?", hash)
	if err != nil {
		return offers.Transfer{}, err
	}
	if offers.OpenState(r.State) && !now.Before(r.ExpiresAt) {
		if err := s.Transact(ctx, func(tx *gorm.DB) error {
			if _, _, err := lockGiverOffer(tx, r.FromEntry); err != nil {
				return err
			}
			return expireOpen(tx, r.FromEntry, now)
		}); err != nil {
			return offers.Transfer{}, err
		}
		r.State = offers.TransferExpired
	}
	return r.transfer(), nil
}

// EntryTransfer returns the entry's open transfer.
func (s *Store) EntryTransfer(ctx context.Context, entryID string, now time.Time) (offers.Transfer, error) {
	r, err := findTransfer(s.db.WithContext(ctx), false,
		"t.from_entry = ? AND t.state IN ('pending', 'review', 'verified') AND t.expires_at > ?", entryID, now)
	if err != nil {
		return offers.Transfer{}, err
	}
	return r.transfer(), nil
}

// SetTransferPolicy sets an event's transfer policy, audited.
func (s *Store) SetTransferPolicy(ctx context.Context, slug string, p offers.TransferPolicy, staffID int64) error {
	return s.Transact(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE events SET transfer_deadline = ?, transfer_max = ?, transfer_fee_minor = ? WHERE slug = ?`,
			p.Deadline, p.Max, p.FeeMinor, slug)
		if res.Error != nil {
			return fmt.Errorf("set transfer policy: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return lottery.ErrNotFound
		}
		return audit(tx, staffID, "event.transfer_policy", slug, map[string]any{"deadline": p.Deadline, "max": p.Max,
			"fee_minor": p.FeeMinor})
	})
}

// TransferOfOffer returns the transfer whose recipient holds offerID.
func (s *Store) TransferOfOffer(ctx context.Context, offerID string) (offers.Transfer, error) {
	r, err := findTransfer(s.db.WithContext(ctx), false, "t.to_offer = ?", offerID)
	if err != nil {
		return offers.Transfer{}, err
	}
	return r.transfer(), nil
}

// AcceptTransfer checks the recipient's code and creates their entry and
// hold offer. A wrong code's attempt is committed (as at apply).
func (s *Store) AcceptTransfer(ctx context.Context, a offers.AcceptTx) (offers.Transfer, error) {
	var out offers.Transfer
	var committedErr error
	now := a.Now.UTC().Truncate(time.Microsecond)
	e := a.Entry
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		committedErr = nil
		peek, err := findTransfer(tx, false, "t.token_hash = ?", a.TokenHash)
		if err != nil {
			return err
		}
		giver, giverStatus, err := lockGiverOffer(tx, peek.FromEntry)
		if err != nil {
			return err
		}
		r, err := findTransfer(tx, true, "t.id = ?", peek.ID)
		if err != nil {
			return err
		}
		if r.State != offers.TransferPending || !now.Before(r.ExpiresAt) {
			return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "this transfer is no longer open"}
		}
		picked, err := pickedUp(tx, r.FromEntry)
		if err != nil {
			return err
		}
		if err := offers.TransferHeld(lottery.OfferStatus(giver.Status), giverStatus, picked); err != nil {
			return err
		}
		if e.EmailKey != r.ToEmailKey || e.EventID != r.EventID || e.SubQueueID != r.SubqueueID {
			return lottery.Fieldf("email", "use the address the transfer was sent to")
		}
		try, found, consumed, err := tryCode(tx, a.OTPHash, e, now, a.MaxOTPAttempts)
		if err != nil {
			return err
		}
		if !found {
			return lottery.ErrNoCode
		}
		if v := lottery.CheckCode(try, now, a.MaxOTPAttempts); !v.Consumed || !consumed {
			if v.Err == nil {
				v.Err = lottery.ErrCodeUsed
			}
			committedErr = v.Err
			return nil // commit the attempt
		}
		if err := insertTransferEntry(tx, e, now); err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO offers (id, event_id, subqueue_id, entry_id, unit_id, status, round, issued_at, expires_at)
			VALUES (?, ?, ?, ?, ?, 'transfer_hold', ?, ?, ?)`, a.OfferID, r.EventID, r.SubqueueID, e.ID, "transfer:"+r.ID,
			giver.Round, now, r.ExpiresAt).Error; err != nil {
			return fmt.Errorf("insert transfer hold: %w", err)
		}
		// A recipient scored for review waits there (00037): the reviewer's
		// approve makes the transfer verified (DecideTransfer).
		state := offers.TransferVerified
		if e.Status == lottery.EntryInReview {
			state = offers.TransferReview
		}
		if err := tx.Exec(`UPDATE transfers SET state = ?, to_entry = ?, to_offer = ? WHERE id = ?`,
			state, e.ID, a.OfferID, r.ID).Error; err != nil {
			return fmt.Errorf("verify transfer: %w", err)
		}
		if err := appendLog(tx, r.EventID, lottery.LogRecord{Kind: "entry.created", EntryID: e.ID, ToStatus: string(e.Status),
			Actor: "runner", Details: map[string]any{"subqueue": r.Subqueue, "transfer_id": r.ID, "offer_id": a.OfferID,
				"risk_score": e.Risk.Score, "decision": e.Risk.Decision}}); err != nil {
			return err
		}
		if err := appendLog(tx, r.EventID, lottery.LogRecord{Kind: "transfer." + state, EntryID: r.FromEntry,
			FromStatus: offers.TransferPending, ToStatus: state, Actor: "runner",
			Details: map[string]any{"transfer_id": r.ID, "to_entry": e.ID}}); err != nil {
			return err
		}
		r.State, r.ToEntry, r.ToOffer = state, &e.ID, &a.OfferID
		out = r.transfer()
		return nil
	})
	if err != nil {
		return offers.Transfer{}, err
	}
	if committedErr != nil {
		return offers.Transfer{}, committedErr
	}
	return out, nil
}

// insertTransferEntry inserts a recipient's entry; any identity key (e-mail,
// phone, person) already taken in the event is a duplicate
// (lottery.DuplicateEntry), as at apply, whatever the event's window.
func insertTransferEntry(tx *gorm.DB, e lottery.Entry, now time.Time) error {
	risk, _ := json.Marshal(riskDoc{Reasons: e.Risk.Reasons, RulesVersion: e.Risk.RulesVersion})
	record, _ := json.Marshal(e.TicketRecord)
	var ip any
	if net.ParseIP(e.ClientIP) != nil {
		ip = e.ClientIP
	}
	var ids []string
	if err := tx.Raw(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, tickets,
			previous_applications, group_code, status, risk_score, risk_decision, risk_reasons, created_at, updated_at,
			person_key, client_ip, user_agent, device_id, fingerprint, signals,
			recorded_applications, claim_status, ticket_record, lang, answers)
		VALUES (?::uuid, ?, ?, ?, ?, ?, ?, ?::date, ?, ?, '', ?, ?, ?, ?::jsonb, ?, ?, ?, ?::inet, ?, ?, '', '{}'::jsonb,
			?, ?, ?::jsonb, ?, ?::jsonb)
		ON CONFLICT DO NOTHING RETURNING id`,
		e.ID, e.EventID, e.SubQueueID, e.Name, e.Email, e.EmailKey, e.Phone, e.BirthDate.Format(time.DateOnly), e.Tickets,
		e.PreviousApplications, string(e.Status), e.Risk.Score, string(e.Risk.Decision), string(risk), now, now, e.PersonKey, ip,
		e.UserAgent, e.DeviceID, e.RecordedApplications, cmp.Or(e.ClaimStatus, lottery.ClaimNone), string(record),
		entryLang(e.Lang), answersDoc(e.Answers)).Scan(&ids).Error; err != nil {
		return fmt.Errorf("insert transfer entry: %w", err)
	}
	if len(ids) == 0 {
		return duplicateOf(tx, e)
	}
	return insertConsents(tx, e.ID, e.Consents)
}

// CompleteTransfer moves the slot for the recipient's captured payment.
// The giver's offer row is locked first; the void and the paid update are
// separate statements, so the capacity trigger sees the sub-queue's live
// count never exceed its capacity: a slot moves, none is added.
func (s *Store) CompleteTransfer(ctx context.Context, offerID, paymentID string, now time.Time) (offers.TransferDone, error) {
	var out offers.TransferDone
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		out = offers.TransferDone{}
		peek, err := findTransfer(tx, false, "t.to_offer = ?", offerID)
		if err != nil {
			return err
		}
		giver, giverStatus, err := lockGiverOffer(tx, peek.FromEntry)
		if err != nil {
			return err
		}
		r, err := findTransfer(tx, true, "t.id = ?", peek.ID)
		if err != nil {
			return err
		}
		out.Transfer = r.transfer()
		if r.State == offers.TransferPaid {
			return nil // completed before (a webhook delivered twice)
		}
		if r.State != offers.TransferVerified || !now.Before(r.ExpiresAt) {
			return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "this transfer is no longer open"}
		}
		// A pickup while the transfer was open keeps the place with the
		// giver: the recipient's payment is released.
		picked, err := pickedUp(tx, r.FromEntry)
		if err != nil {
			return err
		}
		if err := offers.TransferHeld(lottery.OfferStatus(giver.Status), giverStatus, picked); err != nil {
			return err
		}
		// The giver's captured payment: refunded the price less the fee.
		var pays []refundRow
		if err := tx.Raw(`SELECT provider, id, offer_id::text AS offer_id, amount_minor, currency, refund_due_minor, refunded_minor
			FROM payments WHERE offer_id = ? AND status = 'captured' ORDER BY created_at, id LIMIT 1 FOR UPDATE`, giver.ID).
			Scan(&pays).Error; err != nil {
			return fmt.Errorf("load payment: %w", err)
		}
		details := map[string]any{"transfer_id": r.ID, "to_entry": *r.ToEntry, "fee_minor": r.FeeMinor,
			"recipient_payment_id": paymentID}
		var due int64
		if len(pays) == 1 {
			p := pays[0]
			due = offers.TransferRefund(p.AmountMinor, r.FeeMinor)
			pct := 0
			if p.AmountMinor > 0 {
				pct = int(due * 100 / p.AmountMinor)
			}
			if due > 0 {
				if err := tx.Exec(`UPDATE payments SET refund_due_minor = ?, refund_percent = ?, updated_at = now()
					WHERE provider = ? AND id = ?`, due, pct, p.Provider, p.ID).Error; err != nil {
					return fmt.Errorf("record refund due: %w", err)
				}
			}
			p.RefundDueMinor, p.RefundPercent = due, pct
			out.Refund = p.refund()
			details["payment_id"], details["paid_minor"], details["refund_minor"] = p.ID, p.AmountMinor, due
		}
		stmts := []struct {
			sql  string
			args []any
		}{
			{`UPDATE offers SET status = 'void', decided_at = ? WHERE id = ?`, []any{now, giver.ID}},
			{`UPDATE offers SET status = 'paid', decided_at = ? WHERE id = ? AND status = 'transfer_hold'`, []any{now, offerID}},
			{`UPDATE entries SET status = 'transferred', updated_at = now() WHERE id = ?`, []any{r.FromEntry}},
			{`UPDATE entries SET status = 'confirmed', updated_at = now() WHERE id = ?`, []any{*r.ToEntry}},
			{`UPDATE transfers SET state = 'paid', decided_at = ? WHERE id = ?`, []any{now, r.ID}},
		}
		for _, st := range stmts {
			if err := tx.Exec(st.sql, st.args...).Error; err != nil {
				return fmt.Errorf("complete transfer: %w", err)
			}
		}
		if err := appendLog(tx, r.EventID, lottery.LogRecord{Kind: "transfer.completed", EntryID: r.FromEntry,
			FromStatus: string(lottery.EntryConfirmed), ToStatus: string(lottery.EntryTransferred), Actor: "system:payments",
			Details: details}); err != nil {
			return err
		}
		if err := appendLog(tx, r.EventID, lottery.LogRecord{Kind: "offer.paid", EntryID: *r.ToEntry,
			FromStatus: string(lottery.EntryOffered), ToStatus: string(lottery.EntryConfirmed), Actor: "system:payments",
			Details: map[string]any{"offer_id": offerID, "payment_id": paymentID, "transfer_id": r.ID}}); err != nil {
			return err
		}
		// The recipient's confirmation (offer.paid) and the giver's notice
		// with the refund, owed exactly when the slot moves.
		paid, err := queueOfferMail(ctx, tx, mails.OfferPaid, []string{offerID})
		if err != nil {
			return err
		}
		done, err := queueEntryIntentIDs(ctx, tx, mails.TransferCompleted, []string{r.FromEntry}, giver.ID, strconv.FormatInt(due, 10))
		if err != nil {
			return err
		}
		out.Mails = append(paid, done...)
		r.State = offers.TransferPaid
		out.Transfer = r.transfer()
		return nil
	})
	if err != nil {
		return offers.TransferDone{}, err
	}
	return out, nil
}
