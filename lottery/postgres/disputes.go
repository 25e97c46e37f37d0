package postgres

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/review"
)

// disputeLineRow is a dispute joined with its entry's sub-queue, frozen
// line and answering reviewer.
type disputeLineRow struct {
	ID         int64
	EventID    int64
	EventSlug  string
	EntryID    string
	SubQueue   string
	Message    string
	CreatedAt  time.Time
	Outcome    *string
	Answer     *string
	AnsweredAt *time.Time
	AnsweredBy *string
	Tickets    *int
	GroupCode  *string
}

func (r disputeLineRow) toLine() review.DisputeLine {
	l := review.DisputeLine{Dispute: lottery.Dispute{ID: r.ID, EventID: r.EventID, EventSlug: r.EventSlug,
		EntryID: r.EntryID, SubQueue: r.SubQueue, Message: r.Message, CreatedAt: r.CreatedAt.UTC(),
		Outcome: deref(r.Outcome), Answer: deref(r.Answer), AnsweredAt: r.AnsweredAt, AnsweredBy: deref(r.AnsweredBy)}}
	if r.Tickets != nil {
		l.InList, l.Tickets, l.Group = true, *r.Tickets, deref(r.GroupCode)
	}
	return l
}

// disputeLines selects disputes with their lines; the frozen line is
// draw_entries' row (tickets, the published group pseudonym).
const disputeLines = `SELECT d.id, d.event_id, ev.slug AS event_slug, d.entry_id::text AS entry_id, sq.key AS sub_queue,
	d.message, d.created_at, d.outcome, d.answer, d.answered_at, st.email AS answered_by,
	de.tickets, de.group_code
	FROM disputes d
	JOIN events ev ON ev.id = d.event_id
	JOIN entries e ON e.id = d.entry_id
	JOIN subqueues sq ON sq.id = e.subqueue_id
	LEFT JOIN draw_entries de ON de.entry_id = d.entry_id
	LEFT JOIN staff st ON st.id = d.answered_by `

// FileDispute inserts a runner's dispute under a lock on the entry, after
// the rule (allow) has seen how many the entry filed, with its event-log
// and audit records (review.DisputeStore).
func (s *Store) FileDispute(ctx context.Context, d lottery.Dispute, allow func(filed int) error) (lottery.Dispute, error) {
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		var ids []string
		if err := tx.Raw("SELECT id::text FROM entries WHERE id = ? FOR UPDATE", d.EntryID).Scan(&ids).Error; err != nil {
			return fmt.Errorf("lock entry: %w", err)
		}
		if len(ids) == 0 {
			return lottery.ErrNotFound
		}
		var filed int64
		if err := tx.Raw("SELECT count(*) FROM disputes WHERE entry_id = ?", d.EntryID).Scan(&filed).Error; err != nil {
			return fmt.Errorf("count disputes: %w", err)
		}
		if err := allow(int(filed)); err != nil {
			return err
		}
		if err := tx.Raw(`INSERT INTO disputes (event_id, entry_id, message, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			d.EventID, d.EntryID, d.Message, d.CreatedAt).Scan(&d.ID).Error; err != nil {
			return fmt.Errorf("insert dispute: %w", err)
		}
		// The message stays in the disputes table: the logs carry ids only.
		details := map[string]any{"dispute_id": d.ID, "subqueue": d.SubQueue}
		if err := appendLog(tx, d.EventID, lottery.LogRecord{Kind: "dispute_filed", EntryID: d.EntryID,
			Actor: "runner", Details: details}); err != nil {
			return err
		}
		return audit(tx, 0, "dispute.file", d.EntryID, details)
	})
	if err != nil {
		return lottery.Dispute{}, err
	}
	return d, nil
}

// EntryDisputes lists an entry's disputes, oldest first.
func (s *Store) EntryDisputes(ctx context.Context, entryID string) ([]review.DisputeLine, error) {
	var rows []disputeLineRow
	if err := s.db.WithContext(ctx).Raw(disputeLines+"WHERE d.entry_id = ? ORDER BY d.id", entryID).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("entry disputes: %w", err)
	}
	return toLines(rows), nil
}

// EventDisputes lists an event's disputes, open ones first.
func (s *Store) EventDisputes(ctx context.Context, eventID int64, openOnly bool, limit int) ([]review.DisputeLine, error) {
	q := disputeLines + "WHERE d.event_id = ? "
	if openOnly {
		q += "AND d.outcome IS NULL "
	}
	var rows []disputeLineRow
	if err := s.db.WithContext(ctx).Raw(q+"ORDER BY d.outcome IS NOT NULL, d.id LIMIT ?", eventID, limit).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("event disputes: %w", err)
	}
	return toLines(rows), nil
}

func toLines(rows []disputeLineRow) []review.DisputeLine {
	out := make([]review.DisputeLine, len(rows))
	for i, r := range rows {
		out[i] = r.toLine()
	}
	return out
}

// AnswerDispute sets an open dispute's answer once, with its event-log and
// audit records. A dispute of another organization's event than the
// reviewer's is lottery.ErrNotFound (lottery.MayReview).
func (s *Store) AnswerDispute(ctx context.Context, a review.Answer) (lottery.Dispute, error) {
	var out lottery.Dispute
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		var rows []disputeLineRow
		if err := tx.Raw(disputeLines+"WHERE d.id = ? AND ev.org_id = ? FOR UPDATE OF d", a.DisputeID, a.Actor.OrgID).Scan(&rows).Error; err != nil {
			return fmt.Errorf("load dispute: %w", err)
		}
		if len(rows) == 0 {
			return lottery.ErrNotFound
		}
		d := rows[0].toLine().Dispute
		if !d.Open() {
			return &lottery.Error{Code: lottery.CodeConflict, Message: "this dispute is answered already"}
		}
		now := a.Now.UTC()
		if err := tx.Exec(`UPDATE disputes SET outcome = ?, answer = ?, answered_by = ?, answered_at = ? WHERE id = ?`,
			a.Outcome, a.Text, a.Actor.ID, now, d.ID).Error; err != nil {
			return fmt.Errorf("answer dispute: %w", err)
		}
		d.Outcome, d.Answer, d.AnsweredAt, d.AnsweredBy = a.Outcome, a.Text, &now, a.Actor.Email
		details := map[string]any{"dispute_id": d.ID, "outcome": a.Outcome}
		if err := appendLog(tx, d.EventID, lottery.LogRecord{Kind: "dispute_answered", EntryID: d.EntryID,
			Actor: a.Actor.Actor().Label, Details: details}); err != nil {
			return err
		}
		out = d
		return audit(tx, a.Actor.ID, "dispute.answer", d.EntryID, details)
	})
	return out, err
}
