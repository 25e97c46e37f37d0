package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/drawstats"
	"github.com/startline/startline/lottery/odds"
)

var _ drawstats.Store = (*Store)(nil)

// counted are the entry statuses a sub-queue's numbers count: before a
// freeze, what it would draw (received; eligible once listed), and in an
// ordered sub-queue also the entries holding a slot. Entries in review,
// rejected, declined or expired are not counted.
var counted = []string{string(lottery.EntryReceived), string(lottery.EntryEligible), string(lottery.EntryOffered),
	string(lottery.EntryConfirmed)}

// oddsRow is a subqueue_odds row.
type oddsRow struct {
	SubqueueID int64
	EventID    int64
	Capacity   int
	Entries    int
	Tickets    int64
	Odds       []byte
	FieldKey   string
	ComputedAt time.Time
	Final      bool
}

func (oddsRow) TableName() string { return "subqueue_odds" }

func fromOddsRow(r oddsRow) (drawstats.Snapshot, error) {
	s := drawstats.Snapshot{SubQueueID: r.SubqueueID, EventID: r.EventID, Capacity: r.Capacity, Entries: r.Entries,
		Tickets: r.Tickets, FieldKey: r.FieldKey, ComputedAt: r.ComputedAt, Final: r.Final}
	if len(r.Odds) > 0 && string(r.Odds) != "null" {
		var t odds.Table
		if err := json.Unmarshal(r.Odds, &t); err != nil {
			return drawstats.Snapshot{}, fmt.Errorf("odds of sub-queue %d: %w", r.SubqueueID, err)
		}
		s.Odds = &t
	}
	return s, nil
}

// drawStatsRow is a draw_stats row.
type drawStatsRow struct {
	SubqueueID int64
	EventID    int64
	Applicants int
	Tickets    int64
	Selected   int
	Rates      []byte
	ComputedAt time.Time
}

func (drawStatsRow) TableName() string { return "draw_stats" }

// LiveOddsEvents lists the published events whose window has opened by now
// and the closed ones: their entries can still change until the freeze.
func (s *Store) LiveOddsEvents(ctx context.Context, now time.Time) ([]int64, error) {
	var ids []int64
	if err := s.db.WithContext(ctx).Raw(`SELECT id FROM events
		WHERE (status = 'published' AND opens_at <= ?) OR status = 'closed' ORDER BY id`, now).
		Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("live odds events: %w", err)
	}
	return ids, nil
}

// LivePools loads an event's sub-queues with their counted entries.
func (s *Store) LivePools(ctx context.Context, eventID int64) ([]drawstats.Pool, error) {
	db := s.db.WithContext(ctx)
	var subs []struct {
		ID       int64
		Capacity int
		Mode     string
	}
	if err := db.Raw(`SELECT id, capacity, mode FROM subqueues WHERE event_id = ? ORDER BY position`, eventID).
		Scan(&subs).Error; err != nil {
		return nil, fmt.Errorf("live pools: %w", err)
	}
	reserved, err := reservedSlots(db, eventID)
	if err != nil {
		return nil, err
	}
	pools := make([]drawstats.Pool, len(subs))
	at := make(map[int64]int, len(subs))
	for i, q := range subs {
		pools[i] = drawstats.Pool{SubQueueID: q.ID, Capacity: lottery.DrawCapacity(q.Capacity, reserved[q.ID]), Mode: lottery.Mode(q.Mode)}
		at[q.ID] = i
	}
	// A deferred runner's entry holds a reserved slot (taken off the
	// capacity above); it is not in the draw.
	err = poolEntries(db.Raw(`SELECT subqueue_id, tickets, group_code FROM entries
		WHERE event_id = ? AND status IN ? AND NOT EXISTS (SELECT 1 FROM deferrals d WHERE d.to_entry_id = entries.id)`,
		eventID, counted), pools, at)
	return pools, err
}

// FrozenPools loads an event's frozen draws: capacity and entry list as
// fixed at freeze (the group codes are the published pseudonyms).
func (s *Store) FrozenPools(ctx context.Context, eventID int64) ([]drawstats.Pool, error) {
	db := s.db.WithContext(ctx)
	var draws []struct {
		SubqueueID int64
		Capacity   int
	}
	if err := db.Raw(`SELECT d.subqueue_id, d.capacity FROM draws d JOIN subqueues q ON q.id = d.subqueue_id
		WHERE d.event_id = ? ORDER BY q.position`, eventID).Scan(&draws).Error; err != nil {
		return nil, fmt.Errorf("frozen pools: %w", err)
	}
	pools := make([]drawstats.Pool, len(draws))
	at := make(map[int64]int, len(draws))
	for i, d := range draws {
		pools[i] = drawstats.Pool{SubQueueID: d.SubqueueID, Capacity: d.Capacity, Mode: lottery.ModeLottery}
		at[d.SubqueueID] = i
	}
	err := poolEntries(db.Raw(`SELECT de.subqueue_id, de.tickets, de.group_code FROM draw_entries de
		JOIN draws d ON d.subqueue_id = de.subqueue_id WHERE d.event_id = ?`, eventID), pools, at)
	return pools, err
}

// poolEntries streams (subqueue_id, tickets, group_code) rows into pools.
func poolEntries(q *gorm.DB, pools []drawstats.Pool, at map[int64]int) error {
	rows, err := q.Rows()
	if err != nil {
		return fmt.Errorf("load pool entries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sq int64
		var e odds.Entry
		if err := rows.Scan(&sq, &e.Tickets, &e.Group); err != nil {
			return fmt.Errorf("scan pool entry: %w", unavailable(err))
		}
		if i, ok := at[sq]; ok {
			pools[i].Entries = append(pools[i].Entries, e)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load pool entries: %w", unavailable(err))
	}
	return nil
}

// EventsMissingFinalOdds lists events with a frozen draw lacking a final
// snapshot.
func (s *Store) EventsMissingFinalOdds(ctx context.Context) ([]int64, error) {
	var ids []int64
	if err := s.db.WithContext(ctx).Raw(`SELECT DISTINCT d.event_id FROM draws d
		WHERE NOT EXISTS (SELECT 1 FROM subqueue_odds o WHERE o.subqueue_id = d.subqueue_id AND o.final)
		ORDER BY d.event_id`).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("events missing final odds: %w", err)
	}
	return ids, nil
}

// SaveSnapshots upserts snapshots in one transaction; a final row is never
// replaced (the WHERE of the upsert skips it, and a trigger refuses any
// other UPDATE of it).
func (s *Store) SaveSnapshots(ctx context.Context, snaps []drawstats.Snapshot) error {
	if len(snaps) == 0 {
		return nil
	}
	return s.Transact(ctx, func(tx *gorm.DB) error {
		for _, sn := range snaps {
			var doc any // NULL for an ordered sub-queue
			if sn.Odds != nil {
				b, err := json.Marshal(sn.Odds)
				if err != nil {
					return fmt.Errorf("encode odds: %w", err)
				}
				doc = string(b)
			}
			if err := tx.Exec(`INSERT INTO subqueue_odds (subqueue_id, event_id, capacity, entries, tickets, odds, field_key,
					computed_at, final) VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?)
				ON CONFLICT (subqueue_id) DO UPDATE SET capacity = EXCLUDED.capacity, entries = EXCLUDED.entries,
					tickets = EXCLUDED.tickets, odds = EXCLUDED.odds, field_key = EXCLUDED.field_key,
					computed_at = EXCLUDED.computed_at, final = EXCLUDED.final
				WHERE NOT subqueue_odds.final`,
				sn.SubQueueID, sn.EventID, sn.Capacity, sn.Entries, sn.Tickets, doc, sn.FieldKey, sn.ComputedAt, sn.Final).Error; err != nil {
				return fmt.Errorf("save odds of sub-queue %d: %w", sn.SubQueueID, err)
			}
		}
		return nil
	})
}

// Snapshots returns an event's stored snapshots.
func (s *Store) Snapshots(ctx context.Context, eventID int64) ([]drawstats.Snapshot, error) {
	var rows []oddsRow
	if err := s.db.WithContext(ctx).Where("event_id = ?", eventID).Order("subqueue_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("odds snapshots: %w", err)
	}
	out := make([]drawstats.Snapshot, len(rows))
	for i, r := range rows {
		sn, err := fromOddsRow(r)
		if err != nil {
			return nil, err
		}
		out[i] = sn
	}
	return out, nil
}

// TallyDraw counts a drawn sub-queue's frozen entries (draw_entries) and,
// of those, the ones its order selected (draw_results), by ticket count:
// odds.Tally's rule over the stored artifact rows, in one grouped query.
func (s *Store) TallyDraw(ctx context.Context, subqueueID int64) (drawstats.Result, error) {
	db := s.db.WithContext(ctx)
	var ds []struct {
		EventID int64
		Status  string
	}
	if err := db.Raw(`SELECT event_id, status FROM draws WHERE subqueue_id = ?`, subqueueID).Scan(&ds).Error; err != nil {
		return drawstats.Result{}, fmt.Errorf("tally draw: %w", err)
	}
	if len(ds) == 0 || ds[0].Status != lottery.DrawDrawn {
		return drawstats.Result{}, lottery.ErrNotFound
	}
	d := ds[0]
	var rates []odds.Rate
	if err := db.Raw(`SELECT de.tickets, count(*) AS entries, count(*) FILTER (WHERE r.selected) AS selected
		FROM draw_entries de JOIN draw_results r ON r.entry_id = de.entry_id AND r.subqueue_id = de.subqueue_id
		WHERE de.subqueue_id = ? GROUP BY de.tickets ORDER BY de.tickets`, subqueueID).Scan(&rates).Error; err != nil {
		return drawstats.Result{}, fmt.Errorf("tally draw: %w", err)
	}
	r := drawstats.Result{SubQueueID: subqueueID, EventID: d.EventID, Rates: rates}
	for _, x := range rates {
		r.Applicants += x.Entries
		r.Tickets += int64(x.Tickets) * int64(x.Entries)
		r.Selected += x.Selected
	}
	return r, nil
}

// SaveResult stores a draw's result; the first one stored stands.
func (s *Store) SaveResult(ctx context.Context, r drawstats.Result) error {
	b, err := json.Marshal(r.Rates)
	if err != nil {
		return fmt.Errorf("encode draw result: %w", err)
	}
	if err := s.db.WithContext(ctx).Exec(`INSERT INTO draw_stats (subqueue_id, event_id, applicants, tickets, selected, rates,
			computed_at) VALUES (?, ?, ?, ?, ?, ?::jsonb, ?) ON CONFLICT (subqueue_id) DO NOTHING`,
		r.SubQueueID, r.EventID, r.Applicants, r.Tickets, r.Selected, string(b), r.ComputedAt).Error; err != nil {
		return fmt.Errorf("save draw result %d: %w", r.SubQueueID, err)
	}
	return nil
}

// Results returns an event's stored draw results.
func (s *Store) Results(ctx context.Context, eventID int64) ([]drawstats.Result, error) {
	var rows []drawStatsRow
	if err := s.db.WithContext(ctx).Where("event_id = ?", eventID).Order("subqueue_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("draw results: %w", err)
	}
	out := make([]drawstats.Result, len(rows))
	for i, r := range rows {
		out[i] = drawstats.Result{SubQueueID: r.SubqueueID, EventID: r.EventID, Applicants: r.Applicants, Tickets: r.Tickets,
			Selected: r.Selected, ComputedAt: r.ComputedAt}
		if err := json.Unmarshal(r.Rates, &out[i].Rates); err != nil {
			return nil, fmt.Errorf("draw result %d: %w", r.SubqueueID, err)
		}
	}
	return out, nil
}

// DrawsMissingResults lists drawn sub-queues with no stored result.
func (s *Store) DrawsMissingResults(ctx context.Context) ([]int64, error) {
	var ids []int64
	if err := s.db.WithContext(ctx).Raw(`SELECT d.subqueue_id FROM draws d WHERE d.status = 'drawn'
		AND NOT EXISTS (SELECT 1 FROM draw_stats s WHERE s.subqueue_id = d.subqueue_id) ORDER BY d.subqueue_id`).
		Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("draws missing results: %w", err)
	}
	return ids, nil
}
