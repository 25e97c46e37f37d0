package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/checkin"
)

// checkinSelect reads an entry as check-in sees it (00030 bib, 00033 pickup).
const checkinSelect = `SELECT e.id::text, e.event_id, ev.slug, ev.org_id, q.key, ev.status, e.status, e.email_key, e.name,
		e.birth_date, COALESCE(e.bib, 0), e.picked_up_at, COALESCE(e.picked_up_by, 0)
	FROM entries e JOIN events ev ON ev.id = e.event_id JOIN subqueues q ON q.id = e.subqueue_id
	WHERE e.id = ?`

func scanCheckin(row *sql.Row) (checkin.Entry, error) {
	var e checkin.Entry
	var evStatus, status, emailKey string
	var org sql.NullInt64
	var at sql.NullTime
	if err := row.Scan(&e.ID, &e.EventID, &e.EventSlug, &org, &e.SubQueue, &evStatus, &status, &emailKey, &e.Name,
		&e.BirthDate, &e.Bib, &at, &e.PickedUpBy); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return checkin.Entry{}, lottery.ErrNotFound
		}
		return checkin.Entry{}, fmt.Errorf("check-in entry: %w", err)
	}
	e.OrgID = org.Int64
	e.Status, e.EventState = lottery.EntryStatus(status), lottery.EventStatus(evStatus)
	e.Erased = strings.HasPrefix(emailKey, "erased:")
	if at.Valid {
		t := at.Time
		e.PickedUpAt = &t
	}
	return e, nil
}

// CheckinEntry returns an entry as check-in reads it; ErrNotFound.
func (s *Store) CheckinEntry(ctx context.Context, entryID string) (checkin.Entry, error) {
	return scanCheckin(s.db.WithContext(ctx).Raw(checkinSelect, entryID).Row())
}

// RecordPickup locks the entry, applies check and records the pickup with
// its event-log and audit rows (checkin.Store).
func (s *Store) RecordPickup(ctx context.Context, entryID string, now time.Time, actor lottery.Actor,
	check func(checkin.Entry) error) (checkin.Entry, error) {
	var out checkin.Entry
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		// The entry's offer first, as every offer and transfer change takes
		// it: a transfer still open ends with the pickup below.
		if err := tx.Exec(`SELECT 1 FROM offers WHERE entry_id = ? FOR UPDATE`, entryID).Error; err != nil {
			return fmt.Errorf("lock offer: %w", err)
		}
		e, err := scanCheckin(tx.Raw(checkinSelect+` FOR UPDATE OF e`, entryID).Row())
		if err != nil {
			return err
		}
		out = e
		if err := check(e); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE entries SET picked_up_at = ?, picked_up_by = ?, updated_at = now() WHERE id = ?`,
			now, actor.StaffID, entryID).Error; err != nil {
			return fmt.Errorf("record pickup: %w", err)
		}
		// The bib is with this runner now: a transfer of the place can no
		// longer complete (offers.TransferHeld), so it closes and its
		// recipient is told.
		if err := cancelOpenTransfers(tx, entryID, now); err != nil {
			return err
		}
		at := now
		out.PickedUpAt, out.PickedUpBy = &at, actor.StaffID
		details := map[string]any{"bib": e.Bib}
		if err := appendLog(tx, e.EventID, lottery.LogRecord{Kind: "entry.picked_up", EntryID: entryID,
			FromStatus: string(e.Status), ToStatus: string(e.Status), Actor: actor.Label, Details: details}); err != nil {
			return err
		}
		return audit(tx, actor.StaffID, "entry.picked_up", e.EventSlug, map[string]any{"entry": entryID, "bib": e.Bib})
	})
	return out, err
}
