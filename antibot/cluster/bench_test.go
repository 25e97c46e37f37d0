package cluster

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
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

// BenchmarkFarmPass100k is the farm part of the worker's pass over an event
// of 100,000 entries: finding the phone runs, rare-domain crowds, address
// groups and setup bursts (with a few farms among them), adding their links
// to the five identity links and clustering the lot.
func BenchmarkFarmPass100k(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	entries := population(rng, 100_000)
	n := len(entries)
	phones, domains, addrs := make([]string, n), make([]string, n), make([]string, n)
	envs := make([]Env, n)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	common := []string{"gmail.com", "naver.com", "daum.net", "kakao.com"}
	for i := range entries {
		phones[i] = fmt.Sprintf("+8210%08d", rng.IntN(100_000_000))
		domains[i] = common[rng.IntN(len(common))]
		addrs[i] = NormalizeAddress(fmt.Sprintf("%d street %d apt %d", rng.IntN(5000), rng.IntN(300), rng.IntN(40)))
		envs[i] = Env{Key: fmt.Sprintf("ua%d|screen%d", rng.IntN(60), rng.IntN(5)), At: t0.Add(time.Duration(rng.IntN(72*3600)) * time.Second)}
		if i%1000 < 20 { // a farm of 20 in every thousand: one domain, one block, one building, one setup
			f := i / 1000
			domains[i] = fmt.Sprintf("farm%d.kr", f)
			phones[i] = fmt.Sprintf("+821077%06d", f*100+i%1000)
			addrs[i] = NormalizeAddress(fmt.Sprintf("farm tower %d apt %d", f, i%1000))
			envs[i] = Env{Key: "farm-setup", At: t0.Add(time.Duration(f)*time.Hour + time.Duration(i%1000)*10*time.Second)}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		links := make([][]Link, n)
		GroupLinks(links, KindPhoneRun, PhoneRun(phones, MinPhoneRun, PhoneRunGap))
		GroupLinks(links, KindRareDomain, RareDomainCrowd(domains, CommonMailDomains, MinDomainCrowd))
		same, units := AddressUnits(addrs, MinUnits)
		GroupLinks(links, KindAddress, same)
		GroupLinks(links, KindUnitSeries, units)
		GroupLinks(links, KindEnvBurst, EnvironmentBursts(envs, BurstWindow, MinBurst))
		all := make([]Entry, n)
		for i, e := range entries {
			all[i] = Entry{ID: e.ID, Links: append(e.Links[:len(e.Links):len(e.Links)], links[i]...)}
		}
		Analyze(all, FarmOptions(Options{}))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entry")
}
