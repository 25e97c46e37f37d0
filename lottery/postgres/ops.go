package postgres

import (
	"context"
	"fmt"
	"time"
)

// OpsCounts is what the metrics scrape reads: entries by status, offers by
// status, and the outbox's unsent mail still to be tried.
type OpsCounts struct {
	Entries      map[string]int64
	Offers       map[string]int64
	OutboxUnsent int64
	// Lines are the waiting-room lines now admitting (see WaitingLines).
	Lines []WaitingLine
}

// WaitingLine is one ordered sub-queue's line: who waits and how far
// admissions have gone.
type WaitingLine struct {
	EventSlug, SubQueueKey string
	Waiting                int64 // places issued and not yet admitted
	Admitted               int64 // the highest place admitted so far
}

// maxOpsLines caps the lines the scrape reads, so a busy season cannot
// make the series unbounded; the longest lines are kept.
const maxOpsLines = 50

// OpsCounts runs three aggregate queries (a rollup, or one pass over a
// small table) for the operators' gauges; the caller bounds it with a timeout.
func (s *Store) OpsCounts(ctx context.Context) (OpsCounts, error) {
	out := OpsCounts{Entries: map[string]int64{}, Offers: map[string]int64{}}
	type row struct {
		Status string
		N      int64
	}
	for _, q := range []struct {
		what, sql string
		into      map[string]int64
	}{
		// Entries from the dashboard's rollup (migration 00031) and the
		// deltas not yet folded into it: a few hundred rows per event, where
		// counting entries would read millions on every scrape.
		{"entries", `SELECT status, sum(n)::bigint AS n FROM (SELECT status, n FROM entry_tallies
			UNION ALL SELECT status, n FROM entry_tally_deltas) x GROUP BY status HAVING sum(n) <> 0`, out.Entries},
		{"offers", "SELECT status, count(*) AS n FROM offers GROUP BY status", out.Offers},
	} {
		var rows []row
		if err := s.db.WithContext(ctx).Raw(q.sql).Scan(&rows).Error; err != nil {
			return OpsCounts{}, fmt.Errorf("count %s: %w", q.what, err)
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
	lines, err := s.WaitingLines(ctx, time.Now())
	if err != nil {
		return OpsCounts{}, err
	}
	out.Lines = lines
	return out, nil
}

// WaitingLines reads, in one query, the lines of the events whose window
// is open at now and that are not sold out: places handed out come from the
// line's sequence (queue_place_<id>), so "waiting" is its last value less
// admitted_through, with no scan of the tickets (a rolled-back join leaves
// a gap, overstating the line by one). At most maxOpsLines, longest first.
func (s *Store) WaitingLines(ctx context.Context, now time.Time) ([]WaitingLine, error) {
	var rows []struct {
		Slug, Key         string
		Waiting, Admitted int64
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT ev.slug, q.key,
			greatest(coalesce(sq.last_value, 0) - l.admitted_through, 0) AS waiting, l.admitted_through AS admitted
		FROM queue_lines l JOIN events ev ON ev.id = l.event_id JOIN subqueues q ON q.id = l.subqueue_id
			LEFT JOIN pg_sequences sq ON sq.schemaname = current_schema() AND sq.sequencename = 'queue_place_' || l.subqueue_id
		WHERE ev.status = 'published' AND ev.opens_at <= ? AND ev.closes_at > ? AND NOT l.sold_out
		ORDER BY waiting DESC, ev.slug, q.key LIMIT ?`, now, now, maxOpsLines).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("count waiting lines: %w", err)
	}
	out := make([]WaitingLine, len(rows))
	for i, r := range rows {
		out[i] = WaitingLine{EventSlug: r.Slug, SubQueueKey: r.Key, Waiting: r.Waiting, Admitted: r.Admitted}
	}
	return out, nil
}
