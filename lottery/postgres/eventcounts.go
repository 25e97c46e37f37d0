package postgres

import (
	"context"
	"fmt"

	"github.com/startline/startline/lottery"
)

// EventCounts is lottery.EventCounter: one statement for a page of events.
// Entries are counted through entries_event_phone_key (event_id leads it),
// offers through their sub-queues; each count stays inside one event.
func (s *Store) EventCounts(ctx context.Context, eventIDs []int64) (map[int64]lottery.EventCounts, error) {
	var rows []struct {
		ID                               int64
		Entries, Capacity, Offered, Paid int64
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT ev.id,
			(SELECT count(*) FROM entries e WHERE e.event_id = ev.id) AS entries,
			(SELECT coalesce(sum(q.capacity), 0) FROM subqueues q WHERE q.event_id = ev.id) AS capacity,
			(SELECT count(*) FROM offers o JOIN subqueues q ON q.id = o.subqueue_id
				WHERE q.event_id = ev.id AND o.status IN ('pending', 'accepted', 'paid')) AS offered,
			(SELECT count(*) FROM offers o JOIN subqueues q ON q.id = o.subqueue_id
				WHERE q.event_id = ev.id AND o.status = 'paid') AS paid
		FROM events ev WHERE ev.id IN ?`, eventIDs).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("event counts: %w", err)
	}
	out := make(map[int64]lottery.EventCounts, len(rows))
	for _, r := range rows {
		out[r.ID] = lottery.EventCounts{Entries: r.Entries, Capacity: r.Capacity, Offered: r.Offered, Paid: r.Paid}
	}
	return out, nil
}
