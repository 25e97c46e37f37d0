package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/review"
)

// CreateSession stores a staff session.
func (s *Store) CreateSession(ctx context.Context, staffID int64, hash []byte, expires time.Time) error {
	if err := s.db.WithContext(ctx).Exec(`INSERT INTO staff_sessions (staff_id, token_hash, expires_at) VALUES (?, ?, ?)`,
		staffID, hash, expires).Error; err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// StaffBySession returns the account of a live session.
func (s *Store) StaffBySession(ctx context.Context, hash []byte, now time.Time) (lottery.StaffAccount, error) {
	var r staffRow
	err := s.db.WithContext(ctx).Table("staff s").Select("s.*").Joins("JOIN staff_sessions t ON t.staff_id = s.id").
		Where("t.token_hash = ? AND t.revoked_at IS NULL AND t.expires_at > ? AND s.disabled_at IS NULL", hash, now).
		Take(&r).Error
	if err != nil {
		return lottery.StaffAccount{}, notFound(err)
	}
	return fromStaffRow(r), nil
}

// RevokeSession ends a session.
func (s *Store) RevokeSession(ctx context.Context, hash []byte) error {
	return s.db.WithContext(ctx).Exec(`UPDATE staff_sessions SET revoked_at = now() WHERE token_hash = ? AND revoked_at IS NULL`,
		hash).Error
}

// UseTOTPStep records a TOTP step unless it or a later one was used.
func (s *Store) UseTOTPStep(ctx context.Context, staffID int64, step int64) (bool, error) {
	res := s.db.WithContext(ctx).Exec(`UPDATE staff SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, staffID, step)
	if res.Error != nil {
		return false, fmt.Errorf("use totp step: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// entrySelect reads entries with their sub-queue key, event slug and
// derived status (see effectiveStatus).
func entrySelect(tx *gorm.DB) *gorm.DB {
	return tx.Table("entries e").
		Select(`e.*, q.key AS subqueue_key, ev.slug AS event_slug, ` + effectiveStatus + ` AS effective_status`).
		Joins("JOIN subqueues q ON q.id = e.subqueue_id").Joins("JOIN events ev ON ev.id = e.event_id").
		Joins("LEFT JOIN draw_entries de ON de.entry_id = e.id").Joins("LEFT JOIN draw_results dr ON dr.entry_id = e.id")
}

func fromEntryRows(rows []entryRow) []lottery.Entry {
	out := make([]lottery.Entry, len(rows))
	for i, r := range rows {
		out[i] = fromEntryRow(r)
	}
	return out
}

// ReviewQueue lists flagged entries, riskiest first.
func (s *Store) ReviewQueue(ctx context.Context, eventID int64, f review.Filter) ([]lottery.Entry, error) {
	q := entrySelect(s.db.WithContext(ctx)).Where("e.event_id = ? AND e.status = 'in_review'", eventID)
	if f.Reason != "" {
		doc, _ := json.Marshal(map[string]any{"reasons": []map[string]string{{"code": f.Reason}}})
		q = q.Where("e.risk_reasons @> ?::jsonb", string(doc))
	}
	if f.ClusterID != "" {
		q = q.Where("e.cluster_id = ?::uuid", f.ClusterID)
	}
	var rows []entryRow
	if err := q.Order("e.risk_score DESC, e.created_at").Limit(f.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	return fromEntryRows(rows), nil
}

// LinkedEntries lists entries sharing a key or the cluster with e.
func (s *Store) LinkedEntries(ctx context.Context, e lottery.Entry, limit int) ([]lottery.Entry, error) {
	var rows []entryRow
	q := entrySelect(s.db.WithContext(ctx)).Where("e.event_id = ? AND e.id <> ?", e.EventID, e.ID).
		Where(s.db.Where("e.email_key = ?", e.EmailKey).Or("e.phone = ?", e.Phone).
			Or("e.device_id <> '' AND e.device_id = ?", e.DeviceID).
			Or("e.fingerprint <> '' AND e.fingerprint = ?", e.Fingerprint).
			Or("e.client_ip IS NOT NULL AND host(e.client_ip) = host(?::inet) AND e.user_agent = ?", nullIP(e.ClientIP), e.UserAgent).
			Or("e.cluster_id IS NOT NULL AND e.cluster_id::text = ?", e.ClusterID))
	if err := q.Order("e.created_at").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("linked entries: %w", err)
	}
	return fromEntryRows(rows), nil
}

func nullIP(ip string) any {
	if ip == "" {
		return nil
	}
	return ip
}

// Decide applies a review decision while the event is not yet frozen. In
// an ordered sub-queue a decided entry may hold a pending offer: approval
// gives it back, rejection voids it and cascades the slot.
func (s *Store) Decide(ctx context.Context, d review.Decision, o lottery.OfferTx) ([]string, []lottery.OfferIssue, error) {
	var changed []string
	var issued []lottery.OfferIssue
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		changed, issued = nil, nil
		// A transfer recipient held for review: the decision continues or
		// closes the transfer (transferreview.go).
		if tid, err := reviewedTransfer(tx, d.EntryID); err != nil || tid != "" {
			if err == nil {
				changed, err = decideTransfer(ctx, tx, d, tid, o.Now)
			}
			return err
		}
		// Offers before entries, the order offer changes lock in.
		if err := tx.Exec(`SELECT 1 FROM offers o JOIN entries e ON e.id = o.entry_id
			WHERE e.id = ? OR e.cluster_id = (SELECT cluster_id FROM entries WHERE id = ?) FOR UPDATE OF o`,
			d.EntryID, d.EntryID).Error; err != nil {
			return fmt.Errorf("lock offers: %w", err)
		}
		var target entryRow
		if err := tx.Raw(`SELECT e.* FROM entries e JOIN events ev ON ev.id = e.event_id
			WHERE e.id = ? AND ev.status IN ('published', 'closed') FOR UPDATE OF e FOR SHARE OF ev`, d.EntryID).Scan(&target).Error; err != nil {
			return err
		}
		if target.ID == "" {
			var n int64
			tx.Raw("SELECT count(*) FROM entries WHERE id = ?", d.EntryID).Scan(&n)
			if n == 0 {
				return lottery.ErrNotFound
			}
			return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "entries are frozen; decisions are closed"}
		}
		to, from := lottery.EntryRejected, []string{string(lottery.EntryInReview)}
		var ids []string
		switch d.Decision {
		case review.DecisionApprove:
			to, ids = lottery.EntryReceived, []string{target.ID}
		case review.DecisionReject:
			ids = []string{target.ID}
		case review.DecisionRejectCluster:
			from = append(from, string(lottery.EntryReceived))
			if target.ClusterID == nil {
				ids = []string{target.ID}
			} else if err := tx.Raw(`SELECT id FROM entries WHERE cluster_id = ? AND event_id = ? ORDER BY id FOR UPDATE`,
				*target.ClusterID, target.EventID).Scan(&ids).Error; err != nil {
				return err
			}
		}
		if target.Status != string(lottery.EntryInReview) && d.Decision != review.DecisionRejectCluster {
			return &lottery.Error{Code: lottery.CodeInvalidTransition, Message: "this entry is not in review (it is " + target.Status + ")"}
		}
		var moved []struct {
			ID     string
			Status string
		}
		if err := tx.Raw(`WITH old AS (SELECT id, status FROM entries WHERE id IN ? AND status IN ?)
			UPDATE entries e SET status = ?, updated_at = now() FROM old WHERE e.id = old.id
			RETURNING e.id, old.status`, ids, from, string(to)).Scan(&moved).Error; err != nil {
			return fmt.Errorf("apply decision: %w", err)
		}
		actor := d.Actor.Actor()
		for _, m := range moved {
			changed = append(changed, m.ID)
			if err := appendLog(tx, target.EventID, lottery.LogRecord{Kind: "entry.review", EntryID: m.ID, FromStatus: m.Status,
				ToStatus: string(to), Actor: actor.Label, Details: map[string]any{"decision": d.Decision, "note": d.Note,
					"decided_on": target.ID}}); err != nil {
				return err
			}
		}
		// The runner hears the decision: back in (reinstated) or rejected,
		// with the reason category and the appeal link.
		// A whole cluster rejected is told so, whatever each entry's own
		// reasons were (Mail.Detail carries the category).
		kind, detail := mails.EntryRejected, ""
		if to == lottery.EntryReceived {
			kind = mails.EntryReinstated
		}
		if d.Decision == review.DecisionRejectCluster {
			detail = lottery.RejectLinked
		}
		if _, err := queueEntryIntentIDs(ctx, tx, kind, changed, "", detail); err != nil {
			return err
		}
		if len(changed) > 0 {
			freed, err := settleReviewedOffers(tx, target.EventID, changed, actor.Label)
			if err != nil {
				return err
			}
			for _, sq := range freed {
				offers, mails, err := cascade(ctx, tx, insertRows(ctx, tx), target.EventID, sq, o)
				if err != nil {
					return err
				}
				issued = append(issued, pair(offers, mails)...)
			}
		}
		return audit(tx, d.Actor.ID, "review."+d.Decision, target.ID, map[string]any{"note": d.Note, "changed": changed})
	})
	if err != nil {
		return nil, nil, err
	}
	return changed, issued, nil
}

// settleReviewedOffers squares offers with review outcomes in an ordered
// sub-queue, where an entry can be flagged while it holds a pending offer
// (the offer keeps its slot during review, but cannot be accepted): an
// approved entry (back to received) holding one is offered again, and a
// rejected entry's offer is void, freeing its slot. It returns the
// sub-queues whose slots were freed, for the caller to cascade. ids limits
// it to those entries; nil means the whole event.
func settleReviewedOffers(tx *gorm.DB, eventID int64, ids []string, actor string) ([]int64, error) {
	scope, args := "", []any{eventID}
	if ids != nil {
		scope, args = " AND e.id IN ?", append(args, ids)
	}
	var kept []string
	if err := tx.Raw(`UPDATE entries e SET status = 'offered', updated_at = now() WHERE e.event_id = ? AND e.status = 'received'`+
		scope+` AND EXISTS (SELECT 1 FROM offers o WHERE o.entry_id = e.id AND o.status = 'pending') RETURNING e.id`, args...).
		Scan(&kept).Error; err != nil {
		return nil, fmt.Errorf("restore reviewed offers: %w", err)
	}
	for _, id := range kept {
		if err := appendLog(tx, eventID, lottery.LogRecord{Kind: "entry.status", EntryID: id, FromStatus: "received",
			ToStatus: "offered", Actor: actor, Details: map[string]any{"reason": "approved_with_pending_offer"}}); err != nil {
			return nil, err
		}
	}
	var voided []struct {
		ID, EntryID string
		SubqueueID  int64
	}
	if err := tx.Raw(`UPDATE offers o SET status = 'void', decided_at = now() FROM entries e
		WHERE e.id = o.entry_id AND o.event_id = ? AND o.status = 'pending' AND e.status = 'rejected'`+scope+`
		RETURNING o.id::text, o.entry_id::text, o.subqueue_id`, args...).Scan(&voided).Error; err != nil {
		return nil, fmt.Errorf("void rejected entries' offers: %w", err)
	}
	var freed []int64
	for _, v := range voided {
		if err := appendLog(tx, eventID, lottery.LogRecord{Kind: "offer.void", EntryID: v.EntryID, FromStatus: "pending",
			ToStatus: "void", Actor: actor, Details: map[string]any{"offer_id": v.ID, "reason": "entry_rejected"}}); err != nil {
			return nil, err
		}
		if !slices.Contains(freed, v.SubqueueID) {
			freed = append(freed, v.SubqueueID)
		}
	}
	return freed, nil
}

// The store keeps every concept's persistence.
var _ review.Store = (*Store)(nil)
