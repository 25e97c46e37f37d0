package postgres_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/registration"
)

// BenchmarkApplyClients: 256 concurrent callers of Store.Apply, each apply
// with its code stored beforehand, written one transaction per apply (tx)
// or by group commit (batch). Reports applies/s, p50/p99 latency and, for
// batch, the mean applies per statement.
// Run: go test -run '^$' -bench 'ApplyClients' -benchtime 20000x ./lottery/postgres/
func BenchmarkApplyClients(b *testing.B) {
	for _, mode := range []struct {
		name string
		cfg  postgres.ApplyBatching
	}{{"tx", postgres.ApplyBatching{Off: true}}, {"batch", postgres.ApplyBatching{}},
		{"batch-flushers=4-max=128", postgres.ApplyBatching{Flushers: 4, Max: 128}},
		{"batch-flushers=16-max=16", postgres.ApplyBatching{Flushers: 16, Max: 16}}} {
		b.Run(mode.name, func(b *testing.B) { benchApplyClients(b, mode.cfg, 256) })
	}
}

func benchApplyClients(b *testing.B, cfg postgres.ApplyBatching, clients int) {
	f := newApplyFixture(b, lottery.PaceGroupSpec{Code: "a", Label: "A", Capacity: 1000})
	f.store.SetApplyBatching(cfg)
	// The first warm applies run before the timer: a serving process has
	// its connections open and its statements prepared.
	const warm = 512
	if err := f.store.DB().Exec(`INSERT INTO otp_codes (event_id, email_key, code_hash, attempts, expires_at)
		SELECT ?, 'runner' || n || '@example.com', convert_to('code-of-runner' || n || '@example.com', 'UTF8'), 0, ?
		FROM generate_series(1, ?) AS n`, f.ev.ID, f.clk.T.Add(2*time.Hour), b.N+warm).Error; err != nil {
		b.Fatal(err)
	}
	txs := make([]registration.ApplyTx, b.N+warm)
	for i := range txs {
		e := f.entry(b, i+1, "a")
		txs[i] = registration.ApplyTx{Entry: e, OTPHash: []byte("code-of-" + e.EmailKey),
			MaxOTPAttempts: lottery.OTPMaxAttempts, Now: f.now, IdempotencyKey: "k-" + e.ID, RequestHash: []byte(e.ID)}
	}
	var warming sync.WaitGroup
	for i := range warm {
		warming.Add(1)
		go func() {
			defer warming.Done()
			if _, err := f.store.Apply(context.Background(), txs[b.N+i]); err != nil {
				b.Error(err)
			}
		}()
	}
	warming.Wait()
	lat := make([]time.Duration, b.N)
	batches0, members0 := f.store.ApplyBatchStats()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				t0 := time.Now()
				if _, err := f.store.Apply(context.Background(), txs[i]); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/el.Seconds(), "applies/s")
	b.ReportMetric(float64(lat[b.N/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[b.N*99/100].Microseconds())/1000, "p99-ms")
	if batches, members := f.store.ApplyBatchStats(); batches > batches0 {
		b.ReportMetric(float64(members-members0)/float64(batches-batches0), "per-batch")
	}
	var n int
	if err := f.store.DB().Raw(`SELECT count(*) FROM entries`).Row().Scan(&n); err != nil || n != b.N+warm {
		b.Fatalf("%d entries stored (%v), want %d", n, err, b.N+warm)
	}
}
