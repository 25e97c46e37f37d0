package postgres

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/startline/startline/lottery"
)

// draftColumns are the event columns a full edit of a draft replaces:
// everything an EventSpec carries (not the id, slug, organization, state
// or the draw's seed).
var draftColumns = []string{"Name", "TimeZone", "OpensAt", "ClosesAt", "OfferHoldSeconds", "DisputeWindowSeconds",
	"MaxGroupSize", "TicketRule", "UnreviewedPolicy", "RiskRules", "SeriesID", "EditionYear", "EditionLabel", "Form",
	"Currency", "RaceDate", "RaceStart", "Place", "Description", "DrawOn", "DrawAt", "RefundPolicy", "UpdatedAt"}

// errDraftInUse refuses to replace the courses of a draft that something
// already references (entries or queue tickets cannot exist before
// publish; this guards the store, not a path a user can take).
var errDraftInUse = &lottery.Error{Code: lottery.CodeConflict,
	Message: "this draft already has entries, queue tickets or draws; its courses cannot be replaced"}

// ReplaceDraft replaces a draft event's columns, courses and sub-queues
// (lines included) with e's, in one transaction holding the event row
// locked and re-checking that it is a draft. Bib ranges stay with the
// pace groups whose course and pace codes remain.
func (s *Store) ReplaceDraft(ctx context.Context, e lottery.Event, actor lottery.Actor) (lottery.Event, error) {
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		var cur eventRow
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", e.ID).Take(&cur).Error; err != nil {
			return notFound(err)
		}
		if cur.Status != string(lottery.EventDraft) {
			return lottery.ErrNotDraft
		}
		var used bool
		if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM entries WHERE event_id = @id)
			OR EXISTS (SELECT 1 FROM queue_tickets WHERE event_id = @id)
			OR EXISTS (SELECT 1 FROM offers WHERE event_id = @id)
			OR EXISTS (SELECT 1 FROM draws WHERE event_id = @id)
			OR EXISTS (SELECT 1 FROM prequeues WHERE event_id = @id)`, map[string]any{"id": e.ID}).Scan(&used).Error; err != nil {
			return fmt.Errorf("references of draft: %w", err)
		}
		if used {
			return errDraftInUse
		}
		type bibs struct {
			Key               string
			BibFirst, BibLast *int64
		}
		var kept []bibs
		if err := tx.Raw(`SELECT key, bib_first, bib_last FROM subqueues WHERE event_id = ? AND bib_first IS NOT NULL`, e.ID).
			Scan(&kept).Error; err != nil {
			return fmt.Errorf("bib ranges of draft: %w", err)
		}
		var lines []int64
		if err := tx.Raw(`SELECT subqueue_id FROM queue_lines WHERE event_id = ?`, e.ID).Scan(&lines).Error; err != nil {
			return fmt.Errorf("lines of draft: %w", err)
		}
		for _, id := range lines {
			if err := tx.Exec(fmt.Sprintf("DROP SEQUENCE IF EXISTS queue_place_%d", id)).Error; err != nil {
				return fmt.Errorf("drop place sequence: %w", err)
			}
		}
		// Sub-queues take their lines and odds with them (ON DELETE CASCADE).
		if err := tx.Exec(`DELETE FROM subqueues WHERE event_id = ?`, e.ID).Error; err != nil {
			return fmt.Errorf("delete sub-queues: %w", err)
		}
		if err := tx.Exec(`DELETE FROM courses WHERE event_id = ?`, e.ID).Error; err != nil {
			return fmt.Errorf("delete courses: %w", err)
		}
		var err error
		if e.SeriesID, err = seriesOfSpec(tx, e, actor); err != nil {
			return err
		}
		r := toEventRow(e)
		r.UpdatedAt = time.Now().UTC()
		if err := tx.Model(&eventRow{}).Where("id = ?", e.ID).Select(draftColumns).Updates(&r).Error; err != nil {
			return fmt.Errorf("update draft: %w", err)
		}
		pos, err := insertCourses(tx, e.ID, e.Courses)
		if err != nil {
			return err
		}
		for _, b := range kept {
			if err := tx.Exec(`UPDATE subqueues SET bib_first = ?, bib_last = ? WHERE event_id = ? AND key = ?`,
				b.BibFirst, b.BibLast, e.ID, b.Key).Error; err != nil {
				return fmt.Errorf("keep bib range: %w", err)
			}
		}
		details := map[string]any{"courses": len(e.Courses), "subqueues": pos}
		if err := appendLog(tx, e.ID, lottery.LogRecord{Kind: "event.draft_replaced", FromStatus: cur.Status,
			ToStatus: cur.Status, Actor: actor.Label, Details: details}); err != nil {
			return err
		}
		return audit(tx, actor.StaffID, "event.draft_replaced", cur.Slug, details)
	})
	if err != nil {
		return lottery.Event{}, fmt.Errorf("replace draft: %w", err)
	}
	return s.EventByID(ctx, e.ID)
}
