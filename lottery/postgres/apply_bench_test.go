package postgres_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

// BenchmarkApply: parallel applications to one open event, each the whole
// apply transaction (idempotency lookup, e-mail code check and use, the
// entry insert under the identity keys, the log and idempotency records).
// Codes are stored before the timer starts, as requesting them would.
// Run: go test -run '^$' -bench 'Apply$' -cpu 16 -benchmem -count 3 ./lottery/postgres/
func BenchmarkApply(b *testing.B) {
	f := newApplyFixture(b, lottery.PaceGroupSpec{Code: "a", Label: "A", Capacity: 1000})
	if err := f.store.DB().Exec(`INSERT INTO otp_codes (event_id, email_key, code_hash, attempts, expires_at)
		SELECT ?, 'runner' || n || '@example.com', convert_to('code-of-runner' || n || '@example.com', 'UTF8'), 0, ?
		FROM generate_series(1, ?) AS n`, f.ev.ID, f.clk.T.Add(2*time.Hour), b.N).Error; err != nil {
		b.Fatal(err)
	}
	entries := make([]lottery.Entry, b.N)
	for i := range entries {
		entries[i] = f.entry(b, i+1, "a")
	}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e := entries[next.Add(1)-1]
			if _, err := f.apply(e, []byte("code-of-"+e.EmailKey)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
