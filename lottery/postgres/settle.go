package postgres

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
)

// SettleEvent closes a drawn event's waitlist (lottery.ActionSettle). The
// event row is locked, then its sub-queues in id order with the lock a
// re-offer takes (cascade), so no slot is offered to a runner in the same
// moment they are told none is left: a cascade that ran first has made its
// offer (and that runner is not mailed here), one that waits sees settled
// and offers nothing.
func (s *Store) SettleEvent(ctx context.Context, slug string, actor lottery.Actor) (lottery.Event, error) {
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		var ev struct {
			ID        int64
			Status    string
			Published bool
		}
		if err := tx.Raw(`SELECT id, status, results_published_at IS NOT NULL AS published FROM events WHERE slug = ? FOR UPDATE`,
			slug).Scan(&ev).Error; err != nil {
			return fmt.Errorf("settle %s: %w", slug, err)
		}
		if ev.ID == 0 {
			return lottery.ErrNotFound
		}
		if ev.Status != string(lottery.EventDrawn) || !ev.Published {
			return lottery.ErrInvalidTransition
		}
		if err := tx.Exec(`SELECT 1 FROM subqueues WHERE event_id = ? ORDER BY id FOR NO KEY UPDATE`, ev.ID).Error; err != nil {
			return fmt.Errorf("lock sub-queues: %w", err)
		}
		if err := tx.Exec(`UPDATE events SET status = 'settled', updated_at = now() WHERE id = ?`, ev.ID).Error; err != nil {
			return fmt.Errorf("settle %s: %w", slug, err)
		}
		// Everyone still waiting: not selected, never offered, not erased
		// (the set the waitlist mail went to, less who moved up since).
		res, err := tx.Statement.ConnPool.ExecContext(ctx, `INSERT INTO outbox (to_addr, subject, body, kind, intent, event_id, entry_id)
			SELECT e.email, '', '', 'entry', $1, e.event_id, e.id FROM draw_results dr JOIN entries e ON e.id = dr.entry_id
			WHERE dr.subqueue_id IN (SELECT id FROM subqueues WHERE event_id = $2) AND NOT dr.selected AND e.status = 'received'
				AND e.anonymized_at IS NULL AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.entry_id = e.id)
			ORDER BY dr.subqueue_id, dr.position`, mails.EntryNotDrawn, ev.ID)
		if err != nil {
			return fmt.Errorf("queue not-drawn mail: %w", err)
		}
		told, _ := res.RowsAffected()
		details := map[string]any{"not_drawn_mails": told}
		if err := appendLog(tx, ev.ID, lottery.LogRecord{Kind: "event.settled", FromStatus: ev.Status,
			ToStatus: string(lottery.EventSettled), Actor: actor.Label, Details: details}); err != nil {
			return err
		}
		return audit(tx, actor.StaffID, "event.settle", slug, details)
	})
	if err != nil {
		return lottery.Event{}, err
	}
	return s.EventBySlug(ctx, slug)
}
