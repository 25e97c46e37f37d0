package postgres

// Issue 14, the console's lifecycle: cancelling an event and pausing an
// ordered sub-queue's waiting room.

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/offers"
)

// CancelEvent moves an event to cancelled in one transaction (offers.Store):
// the conditional update on the event row first (two organizers racing
// cannot both cancel, and a draw or an offer change waits for it), then the
// live offers voided under their row locks, the captured payments of the
// paid ones owed in full, one event_log row per voided offer, the
// cancellation mails to every entry not erased, and the event and audit logs.
func (s *Store) CancelEvent(ctx context.Context, c offers.CancelTx) (offers.CancelResult, error) {
	var out offers.CancelResult
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		out = offers.CancelResult{}
		var ev struct{ ID int64 }
		res := tx.Raw(`UPDATE events SET status = 'cancelled', cancelled_at = ?, updated_at = now()
			WHERE slug = ? AND status = ? RETURNING id`, c.Now, c.Slug, string(c.From)).Scan(&ev)
		if res.Error != nil {
			return fmt.Errorf("cancel event: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return lottery.ErrInvalidTransition
		}
		// Live offers end; the old status is kept for the log.
		var ended []struct {
			ID, EntryID, Status string
		}
		if err := tx.Raw(`WITH live AS (
				SELECT id, status FROM offers WHERE event_id = ? AND status IN ('pending', 'accepted', 'paid') FOR UPDATE)
			UPDATE offers o SET status = 'void', decided_at = ? FROM live WHERE o.id = live.id
			RETURNING o.id::text AS id, o.entry_id::text AS entry_id, live.status`, ev.ID, c.Now).Scan(&ended).Error; err != nil {
			return fmt.Errorf("void offers: %w", err)
		}
		out.OffersEnded = len(ended)
		// Every captured payment of a voided offer is owed back in full
		// (the refund policy is for runners who give a place back; here the
		// organizer ends the race).
		var pays []refundRow
		if err := tx.Raw(`UPDATE payments p SET refund_due_minor = p.amount_minor, refund_percent = 100, updated_at = now()
			FROM offers o WHERE o.id = p.offer_id AND o.event_id = ? AND p.status = 'captured' AND p.amount_minor > 0
				AND p.refund_due_minor < p.amount_minor
			RETURNING p.provider, p.id, p.offer_id::text AS offer_id, p.amount_minor, p.currency, p.refund_due_minor,
				p.refunded_minor, p.refund_percent`, ev.ID).Scan(&pays).Error; err != nil {
			return fmt.Errorf("owe refunds: %w", err)
		}
		refundOf := map[string]int64{}
		for _, p := range pays {
			out.Refunds = append(out.Refunds, p.refund())
			refundOf[p.OfferID] = p.RefundDueMinor
		}
		var paidEntries []string
		var paidMinor []int64
		for _, o := range ended {
			details := map[string]any{"offer_id": o.ID, "reason": "event cancelled"}
			if n, ok := refundOf[o.ID]; ok {
				details["refund_minor"] = n
				paidEntries, paidMinor = append(paidEntries, o.EntryID), append(paidMinor, n)
			}
			if err := appendLog(tx, ev.ID, lottery.LogRecord{Kind: "offer.cancelled", EntryID: o.EntryID, FromStatus: o.Status,
				ToStatus: string(lottery.OfferVoid), Actor: c.Actor.Label, Details: details}); err != nil {
				return err
			}
		}
		// One mail per entry with a live address, in its language at render
		// time; a paid slot's refund amount rides in the intent's detail.
		rows, err := tx.Statement.ConnPool.QueryContext(ctx, `INSERT INTO outbox (to_addr, subject, body, kind, intent, event_id, entry_id, detail)
			SELECT e.email, '', '', 'entry', $1, e.event_id, e.id, coalesce(r.minor::text, '')
			FROM entries e LEFT JOIN unnest($3::uuid[], $4::bigint[]) AS r (entry_id, minor) ON r.entry_id = e.id
			WHERE e.event_id = $2 AND e.anonymized_at IS NULL ORDER BY e.id RETURNING id`,
			mails.EventCancelled, ev.ID, paidEntries, paidMinor)
		if err != nil {
			return fmt.Errorf("queue cancellation mail: %w", err)
		}
		if out.Mails, err = scanIDs(rows); err != nil {
			return err
		}
		details := map[string]any{"offers_ended": len(ended), "refunds": len(pays), "mails": len(out.Mails)}
		if err := appendLog(tx, ev.ID, lottery.LogRecord{Kind: "event.transition", FromStatus: string(c.From),
			ToStatus: string(lottery.EventCancelled), Actor: c.Actor.Label, Details: details}); err != nil {
			return err
		}
		return audit(tx, c.Actor.StaffID, "event.cancelled", c.Slug, details)
	})
	if err != nil {
		return offers.CancelResult{}, err
	}
	if out.Event, err = s.EventBySlug(ctx, c.Slug); err != nil {
		return offers.CancelResult{}, err
	}
	return out, nil
}

// SetLinePaused pauses (paused true, at now) or resumes an ordered
// sub-queue's waiting room, with its event-log and audit rows; resuming
// restarts the line's admission credit, so a pause saves no burst.
// ErrNotFound for no such ordered sub-queue; ErrConflict when the line is
// already in that state.
func (s *Store) SetLinePaused(ctx context.Context, slug, key string, paused bool, now time.Time, actor lottery.Actor) error {
	return s.Transact(ctx, func(tx *gorm.DB) error {
		var q struct{ ID, EventID int64 }
		cond := "q.paused_at IS NULL"
		var at any = now
		if !paused {
			cond, at = "q.paused_at IS NOT NULL", nil
		}
		res := tx.Raw(`UPDATE subqueues q SET paused_at = ? FROM events ev
			WHERE ev.id = q.event_id AND ev.slug = ? AND q.key = ? AND q.mode = 'ordered' AND `+cond+`
			RETURNING q.id, q.event_id`, at, slug, key).Scan(&q)
		if res.Error != nil {
			return fmt.Errorf("pause line: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			var n int64
			if err := tx.Raw(`SELECT count(*) FROM subqueues q JOIN events ev ON ev.id = q.event_id
				WHERE ev.slug = ? AND q.key = ? AND q.mode = 'ordered'`, slug, key).Row().Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return lottery.ErrNotFound
			}
			return &lottery.Error{Code: lottery.CodeConflict, Field: "subqueue", Message: "the waiting room is already " +
				map[bool]string{true: "paused", false: "admitting"}[paused]}
		}
		if !paused {
			if err := tx.Exec(`UPDATE queue_lines SET credit_at = ?, updated_at = now() WHERE subqueue_id = ?`, now, q.ID).Error; err != nil {
				return fmt.Errorf("resume line: %w", err)
			}
		}
		action := map[bool]string{true: "queue.paused", false: "queue.resumed"}[paused]
		details := map[string]any{"subqueue": key}
		if err := appendLog(tx, q.EventID, lottery.LogRecord{Kind: action, Actor: actor.Label, Details: details}); err != nil {
			return err
		}
		return audit(tx, actor.StaffID, action, slug+"/"+key, details)
	})
}

// SetAdmitRate changes an ordered sub-queue's admission rate (admissions per
// minute), audited with the old and new rate; ErrNotFound.
func (s *Store) SetAdmitRate(ctx context.Context, slug, key string, perMinute int, actor lottery.Actor) error {
	return s.Transact(ctx, func(tx *gorm.DB) error {
		var q struct {
			ID, EventID int64
			Old         int
		}
		res := tx.Raw(`UPDATE subqueues q SET admit_per_minute = ? FROM events ev, subqueues old
			WHERE ev.id = q.event_id AND old.id = q.id AND ev.slug = ? AND q.key = ? AND q.mode = 'ordered'
			RETURNING q.id, q.event_id, old.admit_per_minute AS old`, perMinute, slug, key).Scan(&q)
		if res.Error != nil {
			return fmt.Errorf("admission rate: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return lottery.ErrNotFound
		}
		details := map[string]any{"subqueue": key, "from": q.Old, "to": perMinute}
		if err := appendLog(tx, q.EventID, lottery.LogRecord{Kind: "queue.rate", Actor: actor.Label, Details: details}); err != nil {
			return err
		}
		return audit(tx, actor.StaffID, "queue.rate", slug+"/"+key, details)
	})
}
