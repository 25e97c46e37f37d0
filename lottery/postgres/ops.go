package postgres

import (
	"context"
	"fmt"
)

// OpsCounts is what the metrics scrape reads: entries by status, offers by
// status, and the outbox's unsent mail still to be tried.
type OpsCounts struct {
	Entries      map[string]int64
	Offers       map[string]int64
	OutboxUnsent int64
}

// OpsCounts runs three aggregate queries (indexed or one pass over a
// table) for the operators' gauges; the caller bounds it with a timeout.
func (s *Store) OpsCounts(ctx context.Context) (OpsCounts, error) {
	out := OpsCounts{Entries: map[string]int64{}, Offers: map[string]int64{}}
	type row struct {
		Status string
		N      int64
	}
	for _, q := range []struct {
		table string
		into  map[string]int64
	}{{"entries", out.Entries}, {"offers", out.Offers}} {
		var rows []row
		if err := s.db.WithContext(ctx).Raw("SELECT status, count(*) AS n FROM " + q.table + " GROUP BY status").
			Scan(&rows).Error; err != nil {
			return OpsCounts{}, fmt.Errorf("count %s: %w", q.table, err)
		}
		for _, r := range rows {
			q.into[r.Status] = r.N
		}
	}
	// Abandoned mail (attempts used up) is no longer backlog.
	if err := s.db.WithContext(ctx).Raw("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND attempts < ?", maxMailAttempts).
		Scan(&out.OutboxUnsent).Error; err != nil {
		return OpsCounts{}, fmt.Errorf("count outbox: %w", err)
	}
	return out, nil
}
