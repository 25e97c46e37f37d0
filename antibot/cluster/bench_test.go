package cluster

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkBuild100k clusters an event of 100,000 entries with 5 links each
// (e-mail, phone, fingerprint, device cookie, IP + user agent): what the
// worker does per event.
func BenchmarkBuild100k(b *testing.B) {
	entries := population(rand.New(rand.NewPCG(1, 1)), 100_000)
	b.ReportAllocs()
	for b.Loop() {
		Build(entries, Options{})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(entries)), "ns/entry")
}
