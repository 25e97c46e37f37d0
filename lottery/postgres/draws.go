package postgres

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/fairdraw"
)

type drawRow struct {
	SubqueueID     int64 `gorm:"primaryKey"`
	EventID        int64
	Status         string
	Capacity       int
	EntriesCount   int
	EntriesRoot    string
	Selected       int
	Waitlisted     int
	ArtifactGz     []byte
	ArtifactSha256 *string
	StartedAt      *time.Time
	DrawnAt        *time.Time
	FrozenAt       time.Time
	SubqueueKey    string `gorm:"->;column:subqueue_key"`
}

func (drawRow) TableName() string { return "draws" }

func fromDrawRow(r drawRow) lottery.DrawInfo {
	d := lottery.DrawInfo{SubQueueID: r.SubqueueID, SubQueue: r.SubqueueKey, Status: r.Status, Capacity: r.Capacity,
		Entries: r.EntriesCount, EntriesRoot: r.EntriesRoot, Selected: r.Selected, Waitlisted: r.Waitlisted, DrawnAt: r.DrawnAt}
	if r.ArtifactSha256 != nil {
		d.ArtifactHash = *r.ArtifactSha256
	}
	return d
}

// copyFunc streams rows into a table with COPY inside a bulk transaction.
type copyFunc func(table string, columns []string, rows [][]any) error

// bulkTx runs fn in one transaction on a dedicated connection, where GORM
// statements and pgx COPY share the transaction: a million rows go in by
// COPY in a second or two instead of INSERTs.
func (s *Store) bulkTx(ctx context.Context, fn func(tx *gorm.DB, copyRows copyFunc) error) error {
	return unavailable(s.runBulkTx(ctx, fn))
}

func (s *Store) runBulkTx(ctx context.Context, fn func(tx *gorm.DB, copyRows copyFunc) error) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("bulk transaction: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("bulk transaction: %w", err)
	}
	tx := s.db.WithContext(ctx)
	tx.Statement.ConnPool = conn
	copyRows := func(table string, columns []string, rows [][]any) error {
		return conn.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
			if err != nil {
				return fmt.Errorf("copy into %s: %w", table, err)
			}
			return nil
		})
	}
	if err := fn(tx, copyRows); err != nil {
		if _, rerr := conn.ExecContext(context.Background(), "ROLLBACK"); rerr != nil {
			_ = conn.Raw(func(dc any) error { return dc.(*stdlib.Conn).Close() }) // never reuse a broken session
		}
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// lockEvent loads an event row FOR UPDATE so lifecycle actions serialise.
func lockEvent(tx *gorm.DB, slug string) (eventRow, error) {
	var ev eventRow
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("slug = ?", slug).Take(&ev).Error; err != nil {
		return eventRow{}, notFound(err)
	}
	return ev, nil
}

// moveEntries changes every entry of the event in state from to state to,
// logging each change, with two statements whatever the count.
func moveEntries(tx *gorm.DB, eventID int64, from, to lottery.EntryStatus, actor, reason string) (int64, error) {
	res := tx.Exec(`WITH moved AS (
			UPDATE entries SET status = ?, updated_at = now() WHERE event_id = ? AND status = ? RETURNING id)
		INSERT INTO event_log (event_id, entry_id, kind, from_status, to_status, actor, details)
		SELECT ?, id, 'entry.status', ?, ?, ?, jsonb_build_object('reason', ?::text) FROM moved`,
		string(to), eventID, string(from), eventID, string(from), string(to), actor, reason)
	if res.Error != nil {
		return 0, fmt.Errorf("move entries %s→%s: %w", from, to, res.Error)
	}
	return res.RowsAffected, nil
}

// FreezeEvent fixes each sub-queue's eligible entries and publishes their
// roots. An entry's move to eligible is its row in draw_entries (append-only)
// plus one event_log record per sub-queue.
func (s *Store) FreezeEvent(ctx context.Context, slug string, f lottery.FreezeTx, actor lottery.Actor) (lottery.Event, error) {
	err := s.bulkTx(ctx, func(tx *gorm.DB, copyRows copyFunc) error {
		ev, err := lockEvent(tx, slug)
		if err != nil {
			return err
		}
		if ev.Status != string(f.From) {
			return lottery.ErrInvalidTransition
		}
		// Wait for in-flight applications and hold new writes while the
		// lists are fixed; freeze is rare and short.
		if err := tx.Exec("LOCK TABLE entries IN SHARE ROW EXCLUSIVE MODE").Error; err != nil {
			return fmt.Errorf("lock entries: %w", err)
		}
		var inReview int64
		if err := tx.Raw("SELECT count(*) FROM entries WHERE event_id = ? AND status = 'in_review'", ev.ID).
			Scan(&inReview).Error; err != nil {
			return err
		}
		drawn := []string{string(lottery.EntryReceived)}
		switch {
		case inReview > 0 && f.Policy == lottery.PolicyBlock:
			return &lottery.Error{Code: lottery.CodeInvalidTransition, Field: "action",
				Message: fmt.Sprintf("%d entries still await review; resolve them or change the event's unreviewed_policy", inReview)}
		case inReview > 0 && f.Policy == lottery.PolicyInclude:
			if _, err := moveEntries(tx, ev.ID, lottery.EntryInReview, lottery.EntryReceived, actor.Label, "unreviewed_included_at_freeze"); err != nil {
				return err
			}
		case inReview > 0:
			if _, err := moveEntries(tx, ev.ID, lottery.EntryInReview, lottery.EntryRejected, actor.Label, "unreviewed_excluded_at_freeze"); err != nil {
				return err
			}
		}
		if inReview > 0 {
			// Ordered groups' entries flagged while holding an offer: the
			// admission pass cascades any slot this frees.
			if _, err := settleReviewedOffers(tx, ev.ID, nil, actor.Label); err != nil {
				return err
			}
		}

		var subs []subqueueRow
		if err := tx.Where("event_id = ?", ev.ID).Order("position").Find(&subs).Error; err != nil {
			return err
		}
		reserved, err := reservedSlots(tx, ev.ID)
		if err != nil {
			return err
		}
		for _, sq := range subs {
			if sq.Mode == string(lottery.ModeOrdered) {
				continue // first come: offered as runners applied, never drawn
			}
			list, err := eligibleEntries(tx, sq.ID, drawn, f.Alias)
			if err != nil {
				return err
			}
			root := fairdraw.EntriesRoot(list)
			if err := tx.Exec(`INSERT INTO draws (subqueue_id, event_id, capacity, entries_count, entries_root, frozen_at)
				VALUES (?, ?, ?, ?, ?, ?)`, sq.ID, ev.ID, lottery.DrawCapacity(sq.Capacity, reserved[sq.ID]), len(list), root, f.Now).Error; err != nil {
				return fmt.Errorf("create draw %s: %w", sq.Key, err)
			}
			rows := make([][]any, len(list))
			for i, e := range list {
				rows[i] = []any{e.EntryID, sq.ID, int32(e.Tickets), e.Group}
			}
			if err := copyRows("draw_entries", []string{"entry_id", "subqueue_id", "tickets", "group_code"}, rows); err != nil {
				return err
			}
			if err := appendLog(tx, ev.ID, lottery.LogRecord{Kind: "draw.frozen", FromStatus: string(lottery.EntryReceived),
				ToStatus: string(lottery.EntryEligible), Actor: actor.Label,
				Details: map[string]any{"subqueue": sq.Key, "entries": len(list), "entries_root": root,
					"note": "each entry's change is its row in draw_entries"}}); err != nil {
				return err
			}
		}
		if err := tx.Exec(`UPDATE events SET status = 'frozen', frozen_at = ?, beacon_round = ?, updated_at = now()
			WHERE id = ?`, f.Now, f.BeaconRound, ev.ID).Error; err != nil {
			return err
		}
		details := map[string]any{"beacon_round": f.BeaconRound, "subqueues": len(subs)}
		if err := appendLog(tx, ev.ID, lottery.LogRecord{Kind: "event.transition", FromStatus: ev.Status,
			ToStatus: string(lottery.EventFrozen), Actor: actor.Label, Details: details}); err != nil {
			return err
		}
		return audit(tx, actor.StaffID, "event.freeze", slug, details)
	})
	if err != nil {
		return lottery.Event{}, err
	}
	return s.EventBySlug(ctx, slug)
}

// eligibleEntries streams a sub-queue's drawable entries in id order.
func eligibleEntries(tx *gorm.DB, subqueueID int64, statuses []string, alias func(string) string) ([]fairdraw.Entry, error) {
	rows, err := tx.Raw(`SELECT id::text, tickets, group_code FROM entries
		WHERE subqueue_id = ? AND status IN ? ORDER BY id`, subqueueID, statuses).Rows()
	if err != nil {
		return nil, fmt.Errorf("load eligible entries: %w", err)
	}
	defer rows.Close()
	var list []fairdraw.Entry
	for rows.Next() {
		var e fairdraw.Entry
		var group string
		if err := rows.Scan(&e.EntryID, &e.Tickets, &group); err != nil {
			return nil, err
		}
		e.Group = alias(group)
		list = append(list, e)
	}
	return list, rows.Err()
}

// RevealSeed publishes the seed secret and beacon.
func (s *Store) RevealSeed(ctx context.Context, slug, secretHex, beacon string, actor lottery.Actor) (lottery.Event, error) {
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE events SET seed_secret_revealed = ?, beacon = ?, revealed_at = now(), updated_at = now()
			WHERE slug = ? AND status = 'frozen' AND revealed_at IS NULL`, secretHex, beacon, slug)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return lottery.ErrInvalidTransition
		}
		ev, err := lockEvent(tx, slug)
		if err != nil {
			return err
		}
		details := map[string]any{"seed_secret": secretHex, "beacon": beacon}
		if err := appendLog(tx, ev.ID, lottery.LogRecord{Kind: "event.reveal", FromStatus: ev.Status, ToStatus: ev.Status,
			Actor: actor.Label, Details: details}); err != nil {
			return err
		}
		return audit(tx, actor.StaffID, "event.reveal", slug, map[string]any{"beacon": beacon})
	})
	if err != nil {
		return lottery.Event{}, err
	}
	return s.EventBySlug(ctx, slug)
}

// RequestDraw records the draw request and lists the sub-queues to draw.
func (s *Store) RequestDraw(ctx context.Context, slug string, actor lottery.Actor) (lottery.Event, []int64, error) {
	var pending []int64
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		ev, err := lockEvent(tx, slug)
		if err != nil {
			return err
		}
		if ev.Status != string(lottery.EventFrozen) || ev.RevealedAt == nil {
			return lottery.ErrInvalidTransition
		}
		if err := tx.Exec("UPDATE events SET draw_requested_at = coalesce(draw_requested_at, now()) WHERE id = ?", ev.ID).Error; err != nil {
			return err
		}
		if err := tx.Raw(`SELECT d.subqueue_id FROM draws d JOIN subqueues q ON q.id = d.subqueue_id
			WHERE d.event_id = ? AND d.status <> 'drawn' ORDER BY q.position`, ev.ID).Scan(&pending).Error; err != nil {
			return err
		}
		if len(pending) == 0 {
			// Every sub-queue is drawn yet the event is frozen: a final
			// save was lost. Asking again repairs it.
			if _, err := settleDrawnEvent(tx, ev.ID, actor.Label); err != nil {
				return err
			}
		}
		if err := appendLog(tx, ev.ID, lottery.LogRecord{Kind: "event.draw_requested", FromStatus: ev.Status,
			ToStatus: ev.Status, Actor: actor.Label, Details: map[string]any{"subqueues": len(pending)}}); err != nil {
			return err
		}
		return audit(tx, actor.StaffID, "event.draw", slug, map[string]any{"subqueues": len(pending)})
	})
	if err != nil {
		return lottery.Event{}, nil, err
	}
	ev, err := s.EventBySlug(ctx, slug)
	return ev, pending, err
}

func drawQuery(tx *gorm.DB) *gorm.DB {
	return tx.Table("draws d").Select("d.*, q.key AS subqueue_key").Joins("JOIN subqueues q ON q.id = d.subqueue_id")
}

// Draws lists an event's draws in sub-queue order (without artifacts).
func (s *Store) Draws(ctx context.Context, eventID int64) ([]lottery.DrawInfo, error) {
	var rows []drawRow
	if err := s.db.WithContext(ctx).Table("draws d").
		Select("d.subqueue_id, d.event_id, d.status, d.capacity, d.entries_count, d.entries_root, d.selected, d.waitlisted, d.artifact_sha256, d.started_at, d.drawn_at, d.frozen_at, q.key AS subqueue_key").
		Joins("JOIN subqueues q ON q.id = d.subqueue_id").Where("d.event_id = ?", eventID).Order("q.position").
		Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list draws: %w", err)
	}
	out := make([]lottery.DrawInfo, len(rows))
	for i, r := range rows {
		out[i] = fromDrawRow(r)
	}
	return out, nil
}

// DrawJob loads a draw's inputs.
func (s *Store) DrawJob(ctx context.Context, subqueueID int64) (lottery.DrawJob, error) {
	db := s.db.WithContext(ctx)
	var d drawRow
	if err := drawQuery(db).Where("d.subqueue_id = ?", subqueueID).Take(&d).Error; err != nil {
		return lottery.DrawJob{}, notFound(err)
	}
	var ev eventRow
	if err := db.Where("id = ?", d.EventID).Take(&ev).Error; err != nil {
		return lottery.DrawJob{}, notFound(err)
	}
	job := lottery.DrawJob{Event: fromEventRow(ev, nil, nil), Info: fromDrawRow(d), ArtifactGzip: d.ArtifactGz}
	if d.Status == lottery.DrawDrawn {
		return job, nil
	}
	if ev.SeedSecretRevealed != nil {
		secret, err := hex.DecodeString(*ev.SeedSecretRevealed)
		if err != nil {
			return lottery.DrawJob{}, fmt.Errorf("revealed seed: %w", err)
		}
		job.Secret = secret
	}
	entries, err := s.DrawEntries(ctx, subqueueID)
	if err != nil {
		return lottery.DrawJob{}, err
	}
	job.Entries = entries
	return job, nil
}

// DrawEntries returns a frozen draw's published entry list, sorted by id.
func (s *Store) DrawEntries(ctx context.Context, subqueueID int64) ([]fairdraw.Entry, error) {
	rows, err := s.db.WithContext(ctx).Raw(`SELECT entry_id::text, tickets, group_code FROM draw_entries
		WHERE subqueue_id = ? ORDER BY entry_id`, subqueueID).Rows()
	if err != nil {
		return nil, fmt.Errorf("load draw entries: %w", err)
	}
	defer rows.Close()
	var out []fairdraw.Entry
	for rows.Next() {
		var e fairdraw.Entry
		if err := rows.Scan(&e.EntryID, &e.Tickets, &e.Group); err != nil {
			return nil, fmt.Errorf("scan draw entry: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// StartDraw marks a frozen draw as in progress.
func (s *Store) StartDraw(ctx context.Context, subqueueID int64) error {
	return s.db.WithContext(ctx).Exec(`UPDATE draws SET status = 'drawing', started_at = now()
		WHERE subqueue_id = ? AND status = 'frozen'`, subqueueID).Error
}

// SaveDraw stores a draw's result in one transaction: the order by COPY
// into draw_results (each row is that entry's move to selected or
// waitlisted), the compressed artifact, and one event_log record.
func (s *Store) SaveDraw(ctx context.Context, subqueueID int64, art lottery.StoredArtifact, a fairdraw.Artifact) error {
	rows := make([][]any, 0, len(a.Entries))
	nSel, nWait := 0, 0
	var waitPos int32
	for _, it := range a.Order {
		var wp any
		if !it.Selected {
			waitPos++
			wp = waitPos
		}
		for _, id := range it.EntryIDs {
			rows = append(rows, []any{id, subqueueID, int32(it.Position), it.UnitID, it.Selected, wp})
			if it.Selected {
				nSel++
			} else {
				nWait++
			}
		}
	}
	return s.bulkTx(ctx, func(tx *gorm.DB, copyRows copyFunc) error {
		var d drawRow
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("subqueue_id = ?", subqueueID).Take(&d).Error; err != nil {
			return notFound(err)
		}
		if d.Status == lottery.DrawDrawn {
			return nil // the first stored result stands
		}
		if len(rows) != d.EntriesCount {
			return fmt.Errorf("draw of sub-queue %d orders %d entries, %d are frozen", subqueueID, len(rows), d.EntriesCount)
		}
		if err := copyRows("draw_results", []string{"entry_id", "subqueue_id", "position", "unit_id", "selected",
			"waitlist_position"}, rows); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE draws SET status = 'drawn', artifact_gz = ?, artifact_sha256 = ?, artifact_bytes = ?,
			selected = ?, waitlisted = ?, drawn_at = now() WHERE subqueue_id = ?`,
			art.Gzip, art.SHA256, art.Size, nSel, nWait, subqueueID).Error; err != nil {
			return fmt.Errorf("store artifact: %w", err)
		}
		if err := appendLog(tx, d.EventID, lottery.LogRecord{Kind: "draw.drawn", FromStatus: string(lottery.EntryEligible),
			ToStatus: "selected|waitlisted", Actor: "system:draw",
			Details: map[string]any{"subqueue": a.SubQueue, "artifact_sha256": art.SHA256, "selected": nSel,
				"waitlisted": nWait, "note": "each entry's change is its row in draw_results"}}); err != nil {
			return err
		}
		// Lock the event before looking at the other draws: concurrent
		// saves of its sub-queues then check one after another, and each
		// check (a new read-committed snapshot) sees every save committed
		// before it, so the last one saved always moves the event. NO KEY
		// UPDATE: the strength the UPDATE below takes anyway, compatible
		// with the KEY SHARE locks that the foreign keys of the other
		// saves' log rows hold (FOR UPDATE would deadlock with them).
		if err := tx.Exec("SELECT 1 FROM events WHERE id = ? FOR NO KEY UPDATE", d.EventID).Error; err != nil {
			return fmt.Errorf("lock event: %w", err)
		}
		_, err := settleDrawnEvent(tx, d.EventID, "system:draw")
		return err
	})
}

// settleDrawnEvent moves a frozen event to drawn when every one of its
// draws is drawn (and it has at least one), logging the transition; it
// reports whether it moved the event. The caller holds the event's row lock.
func settleDrawnEvent(tx *gorm.DB, eventID int64, actor string) (bool, error) {
	res := tx.Exec(`UPDATE events SET status = 'drawn', updated_at = now() WHERE id = ? AND status = 'frozen'
		AND EXISTS (SELECT 1 FROM draws WHERE event_id = ?)
		AND NOT EXISTS (SELECT 1 FROM draws WHERE event_id = ? AND status <> 'drawn')`, eventID, eventID, eventID)
	if res.Error != nil {
		return false, fmt.Errorf("settle drawn event: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	return true, appendLog(tx, eventID, lottery.LogRecord{Kind: "event.transition", FromStatus: "frozen",
		ToStatus: "drawn", Actor: actor})
}

// SettleDrawnEvent moves the frozen event slug to drawn when all its draws
// are drawn: the repair of an event a lost or crashed final save left
// behind. It reports whether it moved the event.
func (s *Store) SettleDrawnEvent(ctx context.Context, slug, actor string) (bool, error) {
	var moved bool
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		ev, err := lockEvent(tx, slug)
		if err != nil {
			return err
		}
		moved, err = settleDrawnEvent(tx, ev.ID, actor)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("settle draw of %s: %w", slug, err)
	}
	return moved, nil
}

// DrawnFrozenEvents lists the slugs of frozen events whose every draw is
// drawn: events the reconciler must move to drawn.
func (s *Store) DrawnFrozenEvents(ctx context.Context) ([]string, error) {
	var slugs []string
	if err := s.db.WithContext(ctx).Raw(`SELECT e.slug FROM events e WHERE e.status = 'frozen'
		AND EXISTS (SELECT 1 FROM draws d WHERE d.event_id = e.id)
		AND NOT EXISTS (SELECT 1 FROM draws d WHERE d.event_id = e.id AND d.status <> 'drawn')
		ORDER BY e.id`).Scan(&slugs).Error; err != nil {
		return nil, fmt.Errorf("list drawn frozen events: %w", err)
	}
	return slugs, nil
}

// DrawArtifact returns a drawn sub-queue's gzipped artifact.
func (s *Store) DrawArtifact(ctx context.Context, eventID int64, subqueue string) ([]byte, error) {
	var b []byte
	err := s.db.WithContext(ctx).Raw(`SELECT d.artifact_gz FROM draws d JOIN subqueues q ON q.id = d.subqueue_id
		WHERE d.event_id = ? AND q.key = ? AND d.status = 'drawn'`, eventID, subqueue).Row().Scan(&b)
	if err != nil {
		return nil, notFound(err)
	}
	return b, nil
}

// EntryPlace returns an entry's place in its published draw.
func (s *Store) EntryPlace(ctx context.Context, entryID string) (lottery.DrawPlace, error) {
	var rows []struct {
		SubqueueID       int64
		Position         int
		Selected         bool
		WaitlistPosition *int
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT subqueue_id, position, selected, waitlist_position FROM draw_results
		WHERE entry_id = ?`, entryID).Scan(&rows).Error; err != nil {
		return lottery.DrawPlace{}, err
	}
	if len(rows) == 0 {
		return lottery.DrawPlace{}, lottery.ErrNotFound
	}
	r := rows[0]
	p := lottery.DrawPlace{SubQueueID: r.SubqueueID, Position: r.Position, Selected: r.Selected}
	if r.WaitlistPosition != nil {
		p.WaitlistPosition = *r.WaitlistPosition
	}
	return p, nil
}

// DrawEntry returns an entry's frozen line and its sub-queue.
func (s *Store) DrawEntry(ctx context.Context, entryID string) (int64, fairdraw.Entry, error) {
	var rows []struct {
		SubqueueID int64
		EntryID    string
		Tickets    int
		GroupCode  string
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT subqueue_id, entry_id::text AS entry_id, tickets, group_code
		FROM draw_entries WHERE entry_id = ? LIMIT 1`, entryID).Scan(&rows).Error; err != nil {
		return 0, fairdraw.Entry{}, fmt.Errorf("draw entry: %w", err)
	}
	if len(rows) == 0 {
		return 0, fairdraw.Entry{}, lottery.ErrNotFound
	}
	r := rows[0]
	return r.SubqueueID, fairdraw.Entry{EntryID: r.EntryID, Tickets: r.Tickets, Group: r.GroupCode}, nil
}

// EntryDrawSubQueue returns the frozen draw listing an entry.
func (s *Store) EntryDrawSubQueue(ctx context.Context, entryID string) (int64, error) {
	var ids []int64
	if err := s.db.WithContext(ctx).Raw("SELECT subqueue_id FROM draw_entries WHERE entry_id = ?", entryID).
		Scan(&ids).Error; err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, lottery.ErrNotFound
	}
	return ids[0], nil
}

// DrawOrder returns the first limit entries of a drawn sub-queue's order.
func (s *Store) DrawOrder(ctx context.Context, subqueueID int64, limit int) ([]lottery.DrawPlace, []string, error) {
	var rows []struct {
		EntryID          string
		Position         int
		Selected         bool
		WaitlistPosition *int
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT entry_id::text, position, selected, waitlist_position FROM draw_results
		WHERE subqueue_id = ? ORDER BY position, entry_id LIMIT ?`, subqueueID, limit).Scan(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("draw order: %w", err)
	}
	places, ids := make([]lottery.DrawPlace, len(rows)), make([]string, len(rows))
	for i, r := range rows {
		places[i] = lottery.DrawPlace{SubQueueID: subqueueID, Position: r.Position, Selected: r.Selected}
		if r.WaitlistPosition != nil {
			places[i].WaitlistPosition = *r.WaitlistPosition
		}
		ids[i] = r.EntryID
	}
	return places, ids, nil
}
