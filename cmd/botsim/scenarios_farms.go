package main

import (
	"context"
	"fmt"
	"strings"
)

// Farm scenarios (issue 15) against the server: farms that vary every
// per-entry signal. They are reported apart from the other attacks
// (isFarm). The server sees what the API carries: mailboxes, phone
// numbers, the browser's headers and signals and when each entry came; a
// card and a pickup address cannot be sent through it yet, so -offline
// measures those (farms.go).

// farmScenarios are appended to scenarios (their order in the run).
var farmScenarios = []scenario{
	{"farm_varied_signals", "a farm varying every per-entry signal: its own mailboxes on 3 custom domains, numbers from a bought block, residential IPs, a fresh cookie jar each, one real browser's headers and signals copied exactly, all within minutes", 40, runFarmVaried},
	{"farm_shared_card", "a farm varying everything but paying with 4 cards (needs the card at apply; see -offline)", 40, runFarmSharedCard},
	{"farm_cautious", "a farm on Gmail/Naver with random numbers, residential IPs and a fresh cookie jar each, one copied browser", 40, runFarmCautious},
}

func init() { scenarios = append(scenarios, farmScenarios...) }

// isFarm says whether a scenario is a farm scenario, reported apart.
func isFarm(name string) bool { return strings.HasPrefix(name, "farm_") }

// splitFarms separates the farm rows from the other attacks.
func splitFarms(rows []*Row) (attacks, farms []*Row) {
	for _, r := range rows {
		if isFarm(r.Scenario) {
			farms = append(farms, r)
		} else {
			attacks = append(attacks, r)
		}
	}
	return attacks, farms
}

// farmBlock returns n numbers from a bought block: in sequence, with a few
// skipped, written as people type them.
func (e *env) farmBlock(n int) []string {
	a, b := 2000+e.g.pick(3900), e.g.pick(9000)
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("010-%04d-%04d", a, b)
		e.g.phones[fmt.Sprintf("%04d%04d", a, b)] = true
		b += 1 + e.g.pick(3)
	}
	return out
}

func runFarmVaried(ctx context.Context, e *env, n int, row *Row) {
	dev := e.spoofedDevice() // one real browser, copied: headers, client hints and signals
	phones := e.farmBlock(n)
	jobs := make([]job, 0, n)
	for i := range n {
		id := e.attackerIdentity(farmDomains[i%len(farmDomains)])
		id.Phone = phones[i]
		a, ip, sig := e.s.newAgent(dev), e.g.legitIP(), signalsOf(dev, e.g.humanFillMS())
		jobs = append(jobs, one(func(ctx context.Context) Outcome { return e.s.fullApply(ctx, a, ip, id, sig, "") }))
	}
	for _, o := range runJobs(ctx, e.conc, jobs) {
		row.add(o)
	}
}

func runFarmSharedCard(_ context.Context, _ *env, _ int, row *Row) {
	row.Available = false
	row.Note = "the apply API takes no card yet: botsim -offline measures this farm with the server's rules"
}

func runFarmCautious(ctx context.Context, e *env, n int, row *Row) {
	dev := e.spoofedDevice()
	jobs := make([]job, 0, n)
	for i := range n {
		dom := "gmail.com"
		if i%2 == 1 {
			dom = "naver.com"
		}
		id := e.attackerIdentity(dom)
		a, ip, sig := e.s.newAgent(dev), e.g.legitIP(), signalsOf(dev, e.g.humanFillMS())
		jobs = append(jobs, one(func(ctx context.Context) Outcome { return e.s.fullApply(ctx, a, ip, id, sig, "") }))
	}
	for _, o := range runJobs(ctx, e.conc, jobs) {
		row.add(o)
	}
}
