package exports_test

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/startline/startline/lottery/exports"
)

// bulk adds n entries with answers and consents to the fixture's event in
// one statement (as a million-entry event would hold them).
func (f *fixture) bulk(n int) {
	f.t.Helper()
	db := f.store.DB()
	if err := db.Exec(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, status, answers, created_at)
		SELECT gen_random_uuid(), ?, ?, 'Bulk Runner ' || g, 'bulk' || g || '@example.com', 'bulk' || g || '@example.com',
			'+8210' || lpad(g::text, 8, '0'), date '1980-01-01' + (g % 9000), 'received',
			jsonb_build_object('club', 'Club ' || (g % 500), 'size', 'm', 'photo', g % 2 = 0,
				'sos', jsonb_build_object('name', 'Contact ' || g, 'phone', '+8211' || lpad(g::text, 8, '0'))),
			now() - (g || ' seconds')::interval
		FROM generate_series(1, ?) g`, f.ev.ID, f.ev.Courses[0].PaceGroups[1].ID, n).Error; err != nil {
		f.t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO entry_consents (entry_id, document, version, accepted_at)
		SELECT id, d, 'default-2', created_at FROM entries, unnest(ARRAY['privacy', 'waiver']) d WHERE event_id = ?`, f.ev.ID).Error; err != nil {
		f.t.Fatal(err)
	}
}

// meter is the download's far end: it counts bytes and samples the heap
// every 64 writes (the CSV writer writes 4 KiB at a time).
type meter struct {
	bytes  int64
	writes int
	peak   uint64
	sample bool
}

func (m *meter) Write(p []byte) (int, error) {
	m.bytes += int64(len(p))
	if m.writes++; m.sample && m.writes%64 == 0 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m.peak = max(m.peak, ms.HeapAlloc)
	}
	return len(p), nil
}

// TestEntriesExportStreams exports 100,000 entries (about 28 MB of CSV)
// and checks the live heap stays far below the file's size: rows are
// written as they are read, never collected. The collector runs often
// (GOGC=10) so the sampled heap is close to what is live.
func TestEntriesExportStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 entries")
	}
	const n = 100_000
	f := newFixture(t)
	f.bulk(n)
	ctx := context.Background()
	x, err := f.ex.Open(ctx, f.org, "spring", exports.FileEntries)
	if err != nil {
		t.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	m := &meter{sample: true}
	rows, err := f.ex.Write(ctx, x, m, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows, %.1f MB of CSV, heap peak %.1f MB", rows, float64(m.bytes)/1e6, float64(m.peak)/1e6)
	if rows != n {
		t.Errorf("rows = %d, want %d", rows, n)
	}
	if m.bytes < 20e6 {
		t.Errorf("only %d bytes written", m.bytes)
	}
	if m.peak > 16<<20 {
		t.Errorf("the heap reached %d bytes while writing %d: the export is held in memory", m.peak, m.bytes)
	}
}

// BenchmarkEntriesExport writes the entries export of 20,000 entries.
func BenchmarkEntriesExport(b *testing.B) {
	const n = 20_000
	f := newFixture(b)
	f.bulk(n)
	ctx := context.Background()
	x, err := f.ex.Open(ctx, f.org, "spring", exports.FileEntries)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m := &meter{}
		if rows, err := f.ex.Write(ctx, x, m, true); err != nil || rows != n {
			b.Fatalf("rows %d: %v", rows, err)
		}
		b.SetBytes(m.bytes)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
