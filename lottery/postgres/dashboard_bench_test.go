package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkDashboard1M reads the dashboard aggregates (DashboardCounts) of
// an event with 1,000,000 entries over two sub-queues, made over 30 days
// with risk scores 0–1000 and mixed statuses, 20,000 offers and 10,000
// payments; another event's 100,000 entries sit in the same tables. Each
// timed read follows 1,000 new applications, so it folds their deltas into
// the rollup (migration 00031) as a read on a busy event would.
// Run: go test -run '^$' -bench Dashboard1M -benchtime 20x -count 3 ./lottery/postgres/
func BenchmarkDashboard1M(b *testing.B) {
	store, ev, full, ten := dashboardEvent(b, "big", "other")
	db := store.DB()
	exec := func(q string, args ...any) {
		b.Helper()
		if err := db.Exec(q, args...).Error; err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	// As InsertSyntheticEntries makes big data: one INSERT … SELECT over
	// generate_series, no round trip per row.
	exec(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, status, risk_decision, risk_score, created_at)
		SELECT gen_random_uuid(), ?, CASE WHEN g % 4 = 0 THEN ?::bigint ELSE ?::bigint END, 'Bench ' || g, 'b' || g || '@example.com',
			'b' || g || '@example.com', '+8210' || lpad(g::text, 8, '0'), '1990-01-01',
			(ARRAY['received', 'received', 'received', 'in_review', 'rejected', 'offered', 'confirmed', 'withdrawn'])[1 + g % 8],
			(ARRAY['accept', 'accept', 'accept', 'review', 'reject', 'accept', 'accept', 'accept'])[1 + g % 8],
			(g::bigint * 7919 % 1001)::int, timestamptz '2027-03-01' + (g % 720) * interval '1 hour' + (g % 3600) * interval '1 second'
		FROM generate_series(1, 1000000) g`, ev.ID, ten, full)
	exec(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, status)
		SELECT gen_random_uuid(), e.id, q.id, 'Other ' || g, 'o' || g || '@example.com', 'o' || g || '@example.com',
			'+8211' || lpad(g::text, 8, '0'), '1990-01-01', 'received'
		FROM events e JOIN subqueues q ON q.event_id = e.id AND q.key = 'full:open', generate_series(1, 100000) g WHERE e.slug = 'other'`)
	// Offers for the first 20,000 offered/confirmed entries of full:open
	// (capacity raised so the live-offer trigger allows them).
	exec(`UPDATE subqueues SET capacity = 100000 WHERE id = ?`, full)
	exec(`INSERT INTO offers (id, event_id, subqueue_id, entry_id, unit_id, status, round, issued_at, expires_at)
		SELECT gen_random_uuid(), event_id, subqueue_id, id, id::text,
			(ARRAY['pending', 'accepted', 'paid', 'paid', 'declined', 'expired'])[1 + (row_number() OVER ()) % 6],
			((row_number() OVER ()) % 3)::int, now(), now() + interval '1 day'
		FROM entries WHERE event_id = ? AND subqueue_id = ? LIMIT 20000`, ev.ID, full)
	exec(`INSERT INTO payments (provider, id, offer_id, status, amount_minor, currency, refund_due_minor, refunded_minor)
		SELECT 'sandbox', 'p' || o.id, o.id, CASE WHEN row_number() OVER () % 10 = 0 THEN 'refunded' ELSE 'captured' END,
			50000, 'krw', 0, 0 FROM offers o WHERE o.event_id = ? AND o.status = 'paid'`, ev.ID)
	exec(`VACUUM ANALYZE entries`)
	exec(`VACUUM ANALYZE offers`)
	exec(`VACUUM ANALYZE payments`)

	ctx := context.Background()
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Between two reads, 1,000 more applications in one statement
		// (up to 1,000 delta rows to fold): a busy 20 seconds.
		b.StopTimer()
		exec(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, status, risk_score, created_at)
			SELECT gen_random_uuid(), ?, ?, 'More', 'm' || ?::int || '-' || g || '@example.com', 'm' || ?::int || '-' || g || '@example.com',
				'+8212' || lpad((?::int * 1000 + g)::text, 8, '0'), '1990-01-01', 'received', g, timestamptz '2027-03-01' + g * interval '1 hour'
			FROM generate_series(1, 1000) g`, ev.ID, full, i, i, i)
		b.StartTimer()
		start := time.Now()
		c, err := store.DashboardCounts(ctx, ev.ID)
		if err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
		if len(c.Hours) < 720 {
			b.Fatalf("%d hours, want at least 720", len(c.Hours))
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
}
