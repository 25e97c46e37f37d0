package odds_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/startline/startline/lottery/odds"
)

// field40k is a 40,000-entry sub-queue under the doubling rule: half the
// entries hold 1 ticket, a quarter 2, an eighth 4, and so on up to 4,096;
// one entry in ten is in a group of 2 to 4.
func field40k() []odds.Entry {
	rng := rand.New(rand.NewPCG(40, 0))
	out := make([]odds.Entry, 0, 40_000)
	tickets := func() int {
		t := 1
		for t < 4096 && rng.IntN(2) == 0 {
			t *= 2
		}
		return t
	}
	for g := 0; len(out) < 40_000; g++ {
		if rng.IntN(30) == 0 {
			for range min(2+rng.IntN(3), 40_000-len(out)) {
				out = append(out, odds.Entry{Tickets: tickets(), Group: fmt.Sprintf("g%d", g)})
			}
			continue
		}
		out = append(out, odds.Entry{Tickets: tickets()})
	}
	return out
}

// BenchmarkOdds40k computes the odds of a 40,000-entry sub-queue (default
// 2,000 simulated draws) at a few capacities.
func BenchmarkOdds40k(b *testing.B) {
	entries := field40k()
	for _, capacity := range []int{1_000, 10_000, 30_000} {
		b.Run(fmt.Sprintf("capacity=%d", capacity), func(b *testing.B) {
			var t odds.Table
			for b.Loop() {
				t = odds.Compute(capacity, entries, odds.Options{Rand: rand.New(rand.NewPCG(1, 2))})
			}
			worst := 0.0
			for _, r := range t.Rows {
				worst = max(worst, r.Error)
			}
			b.ReportMetric(worst*100, "worst-error-pts")
		})
	}
}
