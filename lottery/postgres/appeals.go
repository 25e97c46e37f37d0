package postgres

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/review"
)

type appealRow struct {
	ID        int64
	EventID   int64
	EventSlug string
	EntryID   string
	SubQueue  string
	Message   string
	CreatedAt time.Time
	Outcome   *string
	Note      string
	DecidedAt *time.Time
	DecidedBy *string
}

func (r appealRow) toAppeal() lottery.Appeal {
	return lottery.Appeal{ID: r.ID, EventID: r.EventID, EventSlug: r.EventSlug, EntryID: r.EntryID, SubQueue: r.SubQueue,
		Message: r.Message, CreatedAt: r.CreatedAt.UTC(), Outcome: deref(r.Outcome), Note: r.Note, DecidedAt: r.DecidedAt,
		DecidedBy: deref(r.DecidedBy)}
}

const appealSelect = `SELECT a.id, a.event_id, ev.slug AS event_slug, a.entry_id::text AS entry_id, sq.key AS sub_queue,
	a.message, a.created_at, a.outcome, a.note, a.decided_at, st.email AS decided_by
	FROM appeals a
	JOIN events ev ON ev.id = a.event_id
	JOIN entries e ON e.id = a.entry_id
	JOIN subqueues sq ON sq.id = e.subqueue_id
	LEFT JOIN staff st ON st.id = a.decided_by `

// FileAppeal inserts a runner's appeal under the entry's lock after the
// rule (allow) has seen the event, the entry's status and whether it
// appealed before, with its log and audit records and mail intent
// (review.AppealStore).
func (s *Store) FileAppeal(ctx context.Context, a lottery.Appeal, allow func(lottery.Event, lottery.EntryStatus, bool) error) (lottery.Appeal, error) {
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		e, ev, err := lockEntry(tx, a.EntryID)
		if err != nil {
			return err
		}
		var filed int64
		if err := tx.Raw("SELECT count(*) FROM appeals WHERE entry_id = ?", a.EntryID).Scan(&filed).Error; err != nil {
			return fmt.Errorf("count appeals: %w", err)
		}
		if err := allow(ev, lottery.EntryStatus(e.Status), filed > 0); err != nil {
			return err
		}
		if err := tx.Raw(`INSERT INTO appeals (event_id, entry_id, message, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			e.EventID, a.EntryID, a.Message, a.CreatedAt.UTC()).Scan(&a.ID).Error; err != nil {
			return fmt.Errorf("insert appeal: %w", err)
		}
		a.EventID = e.EventID
		// The message stays in the appeals table: the logs carry ids only.
		details := map[string]any{"appeal_id": a.ID, "actor": "runner"}
		if err := appendLog(tx, e.EventID, lottery.LogRecord{Kind: "appeal_filed", EntryID: a.EntryID, Actor: "runner",
			Details: details}); err != nil {
			return err
		}
		if err := audit(tx, 0, "appeal.file", a.EntryID, details); err != nil {
			return err
		}
		return queueEntryIntents(tx.Statement.Context, tx, mails.EntryAppealed, []string{a.EntryID}, "")
	})
	if err != nil {
		return lottery.Appeal{}, err
	}
	return a, nil
}

// EntryAppeal returns an entry's appeal.
func (s *Store) EntryAppeal(ctx context.Context, entryID string) (lottery.Appeal, error) {
	var rows []appealRow
	if err := s.db.WithContext(ctx).Raw(appealSelect+"WHERE a.entry_id = ?", entryID).Scan(&rows).Error; err != nil {
		return lottery.Appeal{}, fmt.Errorf("entry appeal: %w", err)
	}
	if len(rows) == 0 {
		return lottery.Appeal{}, lottery.ErrNotFound
	}
	return rows[0].toAppeal(), nil
}

// EventAppeals lists an event's appeals, open ones first.
func (s *Store) EventAppeals(ctx context.Context, eventID int64, openOnly bool, limit int) ([]lottery.Appeal, error) {
	q := appealSelect + "WHERE a.event_id = ? "
	if openOnly {
		q += "AND a.outcome IS NULL "
	}
	var rows []appealRow
	if err := s.db.WithContext(ctx).Raw(q+"ORDER BY a.outcome IS NOT NULL, a.id LIMIT ?", eventID, limit).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("event appeals: %w", err)
	}
	out := make([]lottery.Appeal, len(rows))
	for i, r := range rows {
		out[i] = r.toAppeal()
	}
	return out, nil
}

// DecideAppeal decides an open appeal once (review.AppealStore); an appeal
// of another organization's event than the reviewer's is
// lottery.ErrNotFound (lottery.MayReview).
func (s *Store) DecideAppeal(ctx context.Context, d review.AppealDecision) (lottery.Appeal, error) {
	var out lottery.Appeal
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		var rows []appealRow
		if err := tx.Raw(appealSelect+"WHERE a.id = ? AND ev.org_id = ? FOR UPDATE OF a", d.AppealID, d.Actor.OrgID).Scan(&rows).Error; err != nil {
			return fmt.Errorf("load appeal: %w", err)
		}
		if len(rows) == 0 {
			return lottery.ErrNotFound
		}
		a := rows[0].toAppeal()
		if !a.Open() {
			return &lottery.Error{Code: lottery.CodeConflict, Message: "this appeal is decided already"}
		}
		e, ev, err := lockEntry(tx, a.EntryID)
		if err != nil {
			return err
		}
		if err := lottery.CheckAppealDecidable(ev, lottery.EntryStatus(e.Status)); err != nil {
			return err
		}
		now := d.Now.UTC()
		if err := tx.Exec(`UPDATE appeals SET outcome = ?, note = ?, decided_by = ?, decided_at = ? WHERE id = ?`,
			d.Outcome, d.Note, d.Actor.ID, now, a.ID).Error; err != nil {
			return fmt.Errorf("decide appeal: %w", err)
		}
		actor := d.Actor.Actor().Label
		details := map[string]any{"appeal_id": a.ID, "outcome": d.Outcome}
		kind, mail := "appeal_upheld", mails.AppealUpheld
		if d.Outcome == lottery.AppealReinstated {
			kind, mail = "entry.reinstated", mails.EntryReinstated
			// As a review approval: back to received, into the draw.
			if err := tx.Exec(`UPDATE entries SET status = 'received', updated_at = ? WHERE id = ?`, now, e.ID).Error; err != nil {
				return fmt.Errorf("reinstate: %w", err)
			}
			if _, err := settleReviewedOffers(tx, e.EventID, []string{e.ID}, actor); err != nil {
				return err
			}
		}
		rec := lottery.LogRecord{Kind: kind, EntryID: e.ID, Actor: actor, Details: details}
		if d.Outcome == lottery.AppealReinstated {
			rec.FromStatus, rec.ToStatus = e.Status, string(lottery.EntryReceived)
		}
		if err := appendLog(tx, e.EventID, rec); err != nil {
			return err
		}
		if err := audit(tx, d.Actor.ID, "appeal."+map[string]string{lottery.AppealReinstated: lottery.AppealReinstate,
			lottery.AppealUpheld: lottery.AppealUphold}[d.Outcome], e.ID, details); err != nil {
			return err
		}
		if err := queueEntryIntents(tx.Statement.Context, tx, mail, []string{e.ID}, ""); err != nil {
			return err
		}
		a.Outcome, a.Note, a.DecidedAt, a.DecidedBy = d.Outcome, d.Note, &now, d.Actor.Email
		out = a
		return nil
	})
	return out, err
}
