package postgres

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/lottery/review"
)

// Issue 15 follow-ups: a transfer recipient held for review (the
// reviewer's decision continues or closes the transfer) and the sweep that
// expires open transfers past their end in bulk.

// reviewedTransfer returns the id of the transfer waiting in review for
// entryID's decision ("" when the entry is no such recipient).
func reviewedTransfer(tx *gorm.DB, entryID string) (string, error) {
	var ids []string
	if err := tx.Raw(`SELECT id::text FROM transfers WHERE to_entry = ? AND state = 'review'`, entryID).Scan(&ids).Error; err != nil {
		return "", fmt.Errorf("find reviewed transfer: %w", err)
	}
	if len(ids) == 0 {
		return "", nil
	}
	return ids[0], nil
}

// decideTransfer applies a reviewer's decision on a transfer recipient:
// approve makes the transfer verified and the recipient's entry offered
// (they pay by the link, mailed so); reject (or reject_cluster) closes the
// transfer as rejected, the recipient's entry rejected and hold void, the
// giver keeping the place (both mailed). It locks the giver's offer
// first, then the transfer, as every transfer change does. The event's
// draw being over does not matter: a transfer happens after it.
func decideTransfer(ctx context.Context, tx *gorm.DB, d review.Decision, transferID string, now time.Time) ([]string, error) {
	peek, err := findTransfer(tx, false, "t.id = ?", transferID)
	if err != nil {
		return nil, err
	}
	if _, _, err := lockGiverOffer(tx, peek.FromEntry); err != nil {
		return nil, err
	}
	r, err := findTransfer(tx, true, "t.id = ?", transferID)
	if err != nil {
		return nil, err
	}
	if r.State != offers.TransferReview || r.ToEntry == nil || r.ToOffer == nil {
		return nil, &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "this transfer is not in review (it is " + r.State + ")"}
	}
	if !now.Before(r.ExpiresAt) {
		return nil, &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "this transfer expired before the decision"}
	}
	to, state := lottery.EntryOffered, offers.TransferVerified
	if d.Decision != review.DecisionApprove {
		to, state = lottery.EntryRejected, offers.TransferRejected
	}
	res := tx.Exec(`UPDATE entries SET status = ?, updated_at = now() WHERE id = ? AND status = 'in_review'`, string(to), *r.ToEntry)
	if res.Error != nil {
		return nil, fmt.Errorf("decide transfer entry: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return nil, &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "this entry is not in review"}
	}
	decided := any(nil)
	if state == offers.TransferRejected {
		decided = now
		if err := tx.Exec(`UPDATE offers SET status = 'void', decided_at = ? WHERE id = ? AND status = 'transfer_hold'`,
			now, *r.ToOffer).Error; err != nil {
			return nil, fmt.Errorf("void transfer hold: %w", err)
		}
	}
	if err := tx.Exec(`UPDATE transfers SET state = ?, decided_at = ? WHERE id = ?`, state, decided, r.ID).Error; err != nil {
		return nil, fmt.Errorf("decide transfer: %w", err)
	}
	actor := d.Actor.Actor().Label
	if err := appendLog(tx, r.EventID, lottery.LogRecord{Kind: "entry.review", EntryID: *r.ToEntry,
		FromStatus: string(lottery.EntryInReview), ToStatus: string(to), Actor: actor,
		Details: map[string]any{"decision": d.Decision, "note": d.Note, "transfer_id": r.ID}}); err != nil {
		return nil, err
	}
	if err := appendLog(tx, r.EventID, lottery.LogRecord{Kind: "transfer." + state, EntryID: r.FromEntry,
		FromStatus: offers.TransferReview, ToStatus: state, Actor: actor,
		Details: map[string]any{"transfer_id": r.ID, "to_entry": *r.ToEntry}}); err != nil {
		return nil, err
	}
	if state == offers.TransferVerified {
		if _, err := queueEntryIntentIDs(ctx, tx, mails.TransferApproved, []string{*r.ToEntry}, *r.ToOffer, ""); err != nil {
			return nil, err
		}
	} else {
		if _, err := queueEntryIntentIDs(ctx, tx, mails.TransferEnded, []string{r.FromEntry}, "", "rejected:giver"); err != nil {
			return nil, err
		}
		if _, err := queueEntryIntentIDs(ctx, tx, mails.TransferEnded, []string{*r.ToEntry}, "", "rejected:recipient"); err != nil {
			return nil, err
		}
	}
	if err := audit(tx, d.Actor.ID, "review."+d.Decision, *r.ToEntry, map[string]any{"note": d.Note, "transfer_id": r.ID,
		"changed": []string{*r.ToEntry}}); err != nil {
		return nil, err
	}
	return []string{*r.ToEntry}, nil
}

// ExpireTransfers expires up to limit open transfers (pending, in review
// or verified) past their end, each in its own transaction under the
// giver's offer lock (closeTransfer: the recipient's hold ends), mailing
// the giver and the recipient: by their entry once they have one, else
// (never took the link up) the mail invitee renders in the giver's
// language (nil: none). It returns how many it expired; the worker calls
// it until it returns fewer than limit.
func (s *Store) ExpireTransfers(ctx context.Context, now time.Time, limit int,
	invitee func(t offers.Transfer, lang string) (lottery.Mail, error)) (int, error) {
	var due []struct{ ID, FromEntry string }
	if err := s.db.WithContext(ctx).Raw(`SELECT id::text AS id, from_entry::text AS from_entry FROM transfers
		WHERE state IN ('pending', 'review', 'verified') AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`, now, limit).
		Scan(&due).Error; err != nil {
		return 0, fmt.Errorf("find expired transfers: %w", err)
	}
	n := 0
	for _, t := range due {
		done := false
		err := s.Transact(ctx, func(tx *gorm.DB) error {
			done = false
			if _, _, err := lockGiverOffer(tx, t.FromEntry); err != nil {
				return err
			}
			r, err := findTransfer(tx, true, "t.id = ?", t.ID)
			if err != nil {
				return err
			}
			if !offers.OpenState(r.State) || now.Before(r.ExpiresAt) {
				return nil // closed or completed meanwhile
			}
			if err := closeTransfer(tx, r, offers.TransferExpired, "system:transfers", now); err != nil {
				return err
			}
			if err := mailExpired(tx, r); err != nil {
				return err
			}
			if r.ToEntry == nil && invitee != nil {
				var lang string
				if err := tx.Raw(`SELECT lang FROM entries WHERE id = ?`, r.FromEntry).Row().Scan(&lang); err != nil {
					return fmt.Errorf("giver's language: %w", err)
				}
				r.State = offers.TransferExpired
				m, err := invitee(r.transfer(), lang)
				if err != nil {
					return err
				}
				if _, err := insertMail(tx, m); err != nil {
					return err
				}
			}
			done = true
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("expire transfer %s: %w", t.ID, err)
		}
		if done {
			n++
		}
	}
	return n, nil
}
