package review

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

// BenchmarkComputeClusters100k is the whole pure part of the sweep's pass
// over an event of 100,000 entries: identity and device links, alike names,
// the device and geography rules, the farm groups, both clusterings and the
// farm verdicts. Households of four share a router, a card and an address;
// one entry in fifty is in a farm of 20 (a custom domain, a phone block,
// one building, one setup in minutes).
func BenchmarkComputeClusters100k(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	const n = 100_000
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	rows := make([]ClusterInput, n)
	in := FarmInputs{Cards: make(map[string]string, n), Addresses: make(map[string]string, n), EntriesPerCard: 1}
	domains := []string{"gmail.com", "naver.com", "daum.net", "kakao.com", "samsung.com"}
	for i := range rows {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		hh := i / 4
		r := ClusterInput{ID: id, EmailKey: fmt.Sprintf("p%d@%s", i, domains[rng.IntN(len(domains))]),
			Phone: fmt.Sprintf("+8210%08d", rng.IntN(100_000_000)), DeviceID: fmt.Sprintf("d%d", i),
			Fingerprint: fmt.Sprintf("fp%d", rng.IntN(400)), ClientIP: fmt.Sprintf("10.%d.%d.%d", hh>>16, hh>>8&255, hh&255),
			UserAgent: fmt.Sprintf("ua%d", rng.IntN(60)), PersonKey: fmt.Sprintf("name%d|%s", i, t0.AddDate(-18, 0, -rng.IntN(50*365)).Format(time.DateOnly)),
			Status: lottery.EntryReceived, Screen: fmt.Sprintf("s%d", rng.IntN(5)), Platform: "p", TimeZone: "Asia/Seoul",
			Languages: `["ko-KR"]`, CreatedAt: t0.Add(time.Duration(rng.IntN(72*3600)) * time.Second)}
		card, addr := fmt.Sprintf("card-h%d", hh), fmt.Sprintf("%d street %d apt %d", hh%5000, hh/5000, hh%40)
		if i%1000 < 20 {
			f := i / 1000
			r.EmailKey = fmt.Sprintf("f%d@farm%d.kr", i, f)
			r.Phone = fmt.Sprintf("+821077%06d", f*100+i%1000)
			r.UserAgent, r.Screen, r.CreatedAt = "farm-ua", "farm", t0.Add(time.Duration(f)*time.Hour+time.Duration(i%1000)*10*time.Second)
			card, addr = fmt.Sprintf("card-f%d", i), fmt.Sprintf("farm tower %d apt %d", f, i%1000)
		}
		rows[i] = r
		in.Cards[id], in.Addresses[id] = card, addr
	}
	b.Run("farm inputs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if u := ComputeClusters(1, rows, &in); len(u.Farm) < 1000 {
				b.Fatalf("flagged %d farm entries, want the 2,000", len(u.Farm))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/entry")
	})
	b.Run("none (as before issue 15)", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ComputeClusters(1, rows, nil)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/entry")
	})
}
