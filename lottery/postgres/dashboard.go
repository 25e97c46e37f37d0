package postgres

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/dashboard"
)

var _ dashboard.Storer = (*Store)(nil)

// DashboardCounts reads an event's dashboard aggregates (lottery/dashboard).
// Entry counts come from the rollup of migration 00031: in one transaction
// the event's pending deltas are folded into entry_tallies and entry_hours
// (foldTallies) and those few hundred rows are read. Offers are grouped
// over offers_event_idx, payments summed through the event's offers, and
// each ordered sub-queue's line read from its highest place (the unique
// index) and admitted_through. No statement reads a row per entry.
func (s *Store) DashboardCounts(ctx context.Context, eventID int64) (dashboard.Counts, error) {
	db := s.db.WithContext(ctx)
	var c dashboard.Counts
	var tallies []struct {
		SubqueueID           int64
		Status, RiskDecision string
		Bucket               int
		N                    int64
	}
	var hours []struct {
		Hour time.Time
		N    int64
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := foldTallies(tx, eventID); err != nil {
			return err
		}
		if err := tx.Raw(`SELECT subqueue_id, status, risk_decision, bucket, n FROM entry_tallies WHERE event_id = ? AND n <> 0`,
			eventID).Scan(&tallies).Error; err != nil {
			return err
		}
		return tx.Raw(`SELECT hour, n FROM entry_hours WHERE event_id = ? AND n <> 0`, eventID).Scan(&hours).Error
	})
	if err != nil {
		return c, fmt.Errorf("dashboard entries: %w", err)
	}
	byKey := map[dashboard.EntryCount]int64{}
	for _, t := range tallies {
		k := dashboard.EntryCount{SubQueueID: t.SubqueueID, Status: lottery.EntryStatus(t.Status), RiskDecision: t.RiskDecision}
		byKey[k] += t.N
		for len(c.Risk) <= t.Bucket {
			c.Risk = append(c.Risk, 0)
		}
		c.Risk[t.Bucket] += t.N
	}
	for k, n := range byKey {
		k.N = n
		c.Entries = append(c.Entries, k)
	}
	for _, h := range hours {
		c.Hours = append(c.Hours, dashboard.HourCount{Hour: h.Hour.Unix() / 3600, N: h.N})
	}
	var offers []struct {
		SubqueueID int64
		Status     string
		Reoffer    bool
		N          int64
	}
	if err := db.Raw(`SELECT subqueue_id, status, round > 0 AS reoffer, count(*) AS n FROM offers WHERE event_id = ?
		GROUP BY 1, 2, 3`, eventID).Scan(&offers).Error; err != nil {
		return c, fmt.Errorf("dashboard offers: %w", err)
	}
	for _, o := range offers {
		c.Offers = append(c.Offers, dashboard.OfferCount{SubQueueID: o.SubqueueID, Status: lottery.OfferStatus(o.Status), Reoffer: o.Reoffer, N: o.N})
	}
	if err := db.Raw(`SELECT count(*) AS payments, coalesce(sum(p.amount_minor), 0) AS taken,
			coalesce(sum(p.refunded_minor), 0) AS refunded, coalesce(sum(greatest(p.refund_due_minor - p.refunded_minor, 0)), 0) AS owed
		FROM offers o JOIN payments p ON p.offer_id = o.id
		WHERE o.event_id = ? AND p.status IN ('captured', 'refunded')`, eventID).Scan(&c.Money).Error; err != nil {
		return c, fmt.Errorf("dashboard payments: %w", err)
	}
	var lines []struct {
		SubqueueID       int64
		Issued, Admitted int64
		AdmitPerMinute   int
	}
	if err := db.Raw(`SELECT q.id AS subqueue_id, q.admit_per_minute, coalesce(l.admitted_through, 0) AS admitted,
			coalesce((SELECT max(t.place) FROM queue_tickets t WHERE t.subqueue_id = q.id), 0)
			+ (SELECT count(*) FROM queue_tickets t WHERE t.subqueue_id = q.id AND t.place IS NULL AND t.status = 'waiting') AS issued
		FROM subqueues q LEFT JOIN queue_lines l ON l.subqueue_id = q.id
		WHERE q.event_id = ? AND q.mode = ? ORDER BY q.position`, eventID, string(lottery.ModeOrdered)).Scan(&lines).Error; err != nil {
		return c, fmt.Errorf("dashboard lines: %w", err)
	}
	for _, l := range lines {
		c.Lines = append(c.Lines, dashboard.LineCount{SubQueueID: l.SubqueueID, Issued: l.Issued, Admitted: l.Admitted, AdmitPerMinute: l.AdmitPerMinute})
	}
	return c, nil
}

// foldTallies moves an event's pending entry_tally_deltas into the rollup
// (migration 00031) in one statement. Folds of one event take turns (a
// transaction advisory lock on the event), so two never lock the same
// deltas in different orders and no delta is counted twice; writers only
// ever insert deltas and are never blocked.
func foldTallies(tx *gorm.DB, eventID int64) error {
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended('entry_tallies:' || ?::bigint, 0))`, eventID).Error; err != nil {
		return err
	}
	return tx.Exec(`WITH d AS (DELETE FROM entry_tally_deltas WHERE event_id = ? RETURNING *),
		t AS (INSERT INTO entry_tallies (event_id, subqueue_id, status, risk_decision, bucket, n)
			SELECT event_id, subqueue_id, status, risk_decision, bucket, sum(n) FROM d GROUP BY 1, 2, 3, 4, 5
			ON CONFLICT (event_id, subqueue_id, status, risk_decision, bucket) DO UPDATE SET n = entry_tallies.n + excluded.n)
		INSERT INTO entry_hours (event_id, hour, n)
			SELECT event_id, hour, sum(n) FROM d WHERE hour IS NOT NULL GROUP BY 1, 2
		ON CONFLICT (event_id, hour) DO UPDATE SET n = entry_hours.n + excluded.n`, eventID).Error
}

// FoldTallies folds every event's pending deltas into the rollup, one
// event per transaction: the worker's periodic pass, so that deltas do not
// pile up for an event whose dashboard nobody opens. It returns how many
// events it folded.
func (s *Store) FoldTallies(ctx context.Context) (int, error) {
	var events []int64
	db := s.db.WithContext(ctx)
	if err := db.Raw(`SELECT DISTINCT event_id FROM entry_tally_deltas`).Scan(&events).Error; err != nil {
		return 0, fmt.Errorf("fold tallies: %w", err)
	}
	for i, id := range events {
		if err := db.Transaction(func(tx *gorm.DB) error { return foldTallies(tx, id) }); err != nil {
			return i, fmt.Errorf("fold tallies of event %d: %w", id, err)
		}
	}
	return len(events), nil
}
