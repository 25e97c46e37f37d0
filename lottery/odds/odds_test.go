package odds_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/startline/startline/lottery/fairdraw"
	"github.com/startline/startline/lottery/odds"
)

func solos(tickets ...int) []odds.Entry {
	out := make([]odds.Entry, len(tickets))
	for i, t := range tickets {
		out[i] = odds.Entry{Tickets: t}
	}
	return out
}

func group(name string, tickets ...int) []odds.Entry {
	out := solos(tickets...)
	for i := range out {
		out[i].Group = name
	}
	return out
}

func join(parts ...[]odds.Entry) []odds.Entry {
	var out []odds.Entry
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// The exact odds of small fields, each worked by hand in its comment.
func TestExactHandComputed(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		entries  []odds.Entry
		rows     []odds.Row
		groups   []odds.GroupRow
	}{
		{
			// One slot, three tickets in the hat: whoever holds the first
			// ticket drawn wins, 1/3 and 2/3.
			name: "one slot, 1 and 2 tickets", capacity: 1, entries: solos(1, 2),
			rows: []odds.Row{{Tickets: 1, Entries: 1, Chance: 1.0 / 3}, {Tickets: 2, Entries: 1, Chance: 2.0 / 3}},
		},
		{
			name: "capacity above the entries", capacity: 5, entries: join(solos(1, 2, 4), group("g", 1, 1)),
			rows:   []odds.Row{{Tickets: 1, Entries: 3, Chance: 1}, {Tickets: 2, Entries: 1, Chance: 1}, {Tickets: 4, Entries: 1, Chance: 1}},
			groups: []odds.GroupRow{{Size: 2, Groups: 1, Chance: 1}},
		},
		{
			name: "capacity equal to the entries", capacity: 3, entries: solos(1, 8, 8),
			rows: []odds.Row{{Tickets: 1, Entries: 1, Chance: 1}, {Tickets: 8, Entries: 2, Chance: 1}},
		},
		{
			name: "no slots", capacity: 0, entries: solos(1, 2, 4),
			rows: []odds.Row{{Tickets: 1, Entries: 1}, {Tickets: 2, Entries: 1}, {Tickets: 4, Entries: 1}},
		},
		{
			// A group of 2 never fits one slot; it takes none, so the solo
			// entry is always selected.
			name: "a group of 2 for one slot", capacity: 1, entries: join(group("g", 1, 1), solos(1)),
			rows:   []odds.Row{{Tickets: 1, Entries: 3, Chance: 1.0 / 3}},
			groups: []odds.GroupRow{{Size: 2, Groups: 1, Chance: 0}},
		},
		{
			name: "only a group of 2 for one slot", capacity: 1, entries: group("g", 4, 4),
			rows:   []odds.Row{{Tickets: 4, Entries: 2, Chance: 0}},
			groups: []odds.GroupRow{{Size: 2, Groups: 1, Chance: 0}},
		},
		{
			// Tickets 1, 2, 3 (6 in the hat), two slots: an entry misses
			// only when it is drawn last.
			// P(1 last) = 2/6·3/4 + 3/6·2/3 = 7/12 → 5/12
			// P(2 last) = 1/6·3/5 + 3/6·1/3 = 4/15 → 11/15
			// P(3 last) = 1/6·2/5 + 2/6·1/4 = 3/20 → 17/20
			name: "three entries, two slots", capacity: 2, entries: solos(1, 2, 3),
			rows: []odds.Row{{Tickets: 1, Entries: 1, Chance: 5.0 / 12}, {Tickets: 2, Entries: 1, Chance: 11.0 / 15},
				{Tickets: 3, Entries: 1, Chance: 17.0 / 20}},
		},
		{
			// Group g (1+1 tickets, rate 2) and two solos with 2 tickets
			// (rate 2 each), two slots. g first (2/6): g takes both slots.
			// A solo first (4/6): it takes one slot; g, if next, does not
			// fit the one left and the other solo takes it; so both solos.
			name: "a later solo takes the slot a group cannot", capacity: 2, entries: join(group("g", 1, 1), solos(2, 2)),
			rows:   []odds.Row{{Tickets: 1, Entries: 2, Chance: 1.0 / 3}, {Tickets: 2, Entries: 2, Chance: 2.0 / 3}},
			groups: []odds.GroupRow{{Size: 2, Groups: 1, Chance: 1.0 / 3}},
		},
		{
			// A group of 3 never fits 2 slots and never takes one: the
			// three solos share them, 2/3 each.
			name: "a group larger than the capacity", capacity: 2, entries: join(group("big", 1, 1, 1), solos(1, 1, 1)),
			rows:   []odds.Row{{Tickets: 1, Entries: 6, Chance: 1.0 / 3}},
			groups: []odds.GroupRow{{Size: 3, Groups: 1, Chance: 0}},
		},
		{
			name: "ten equal entries, three slots", capacity: 3, entries: solos(1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
			rows: []odds.Row{{Tickets: 1, Entries: 10, Chance: 0.3}},
		},
		{
			name: "no entries", capacity: 10, entries: nil, rows: []odds.Row{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := odds.Exact(tt.capacity, tt.entries, odds.DefaultMaxStates)
			if !ok {
				t.Fatal("exact method refused a small field")
			}
			want := odds.Table{Method: odds.MethodExact, Rows: tt.rows, Groups: tt.groups}
			if d := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-12), cmpopts.EquateEmpty()); d != "" {
				t.Errorf("odds (-want +got):\n%s", d)
			}
		})
	}
}

// brute is the rule straight from DRAW-SPEC: every order of the units with
// its Plackett–Luce probability, walked with the allocation rule. It
// returns each entry's chance.
func brute(capacity int, entries []odds.Entry) []float64 {
	type unit struct {
		weight  float64
		size    int
		members []int
	}
	var units []unit
	at := map[string]int{}
	for i, e := range entries {
		if e.Group == "" {
			units = append(units, unit{weight: float64(e.Tickets), size: 1, members: []int{i}})
			continue
		}
		j, ok := at[e.Group]
		if !ok {
			j = len(units)
			at[e.Group] = j
			units = append(units, unit{})
		}
		units[j].weight += float64(e.Tickets)
		units[j].size++
		units[j].members = append(units[j].members, i)
	}
	chance := make([]float64, len(entries))
	used := make([]bool, len(units))
	var order []int
	var walk func(prob, left float64)
	walk = func(prob, left float64) {
		if len(order) == len(units) {
			rem := capacity
			for _, u := range order {
				if units[u].size <= rem {
					rem -= units[u].size
					for _, m := range units[u].members {
						chance[m] += prob
					}
				}
			}
			return
		}
		for u := range units {
			if used[u] {
				continue
			}
			used[u] = true
			order = append(order, u)
			walk(prob*units[u].weight/left, left-units[u].weight)
			order = order[:len(order)-1]
			used[u] = false
		}
	}
	total := 0.0
	for _, u := range units {
		total += u.weight
	}
	walk(1, total)
	return chance
}

// rowsOf averages entry chances by ticket count.
func rowsOf(entries []odds.Entry, chance []float64) map[int]float64 {
	sum, n := map[int]float64{}, map[int]int{}
	for i, e := range entries {
		sum[e.Tickets] += chance[i]
		n[e.Tickets]++
	}
	for t := range sum {
		sum[t] /= float64(n[t])
	}
	return sum
}

// randomField makes up to units units, a third of them groups of 2 or 3.
func randomField(rng *rand.Rand, units int) []odds.Entry {
	var out []odds.Entry
	for u := range units {
		t := func() int { return 1 << rng.IntN(4) }
		if rng.IntN(3) == 0 {
			size := 2 + rng.IntN(2)
			for range size {
				out = append(out, odds.Entry{Tickets: t(), Group: fmt.Sprintf("g%d", u)})
			}
			continue
		}
		out = append(out, odds.Entry{Tickets: t()})
	}
	return out
}

// The dynamic program agrees with enumerating every order on random small
// fields with groups, for every capacity.
func TestExactAgreesWithEveryOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for n := range 60 {
		entries := randomField(rng, 2+n%6)
		for capacity := 0; capacity <= len(entries)+1; capacity++ {
			got, ok := odds.Exact(capacity, entries, odds.DefaultMaxStates)
			if !ok {
				t.Fatalf("field %d refused", n)
			}
			want := rowsOf(entries, brute(capacity, entries))
			for _, r := range got.Rows {
				if math.Abs(r.Chance-want[r.Tickets]) > 1e-12 {
					t.Errorf("field %d %v capacity %d, %d tickets: got %.15f, want %.15f", n, entries, capacity, r.Tickets, r.Chance, want[r.Tickets])
				}
			}
		}
	}
}

// The odds are those of the real draw: fairdraw.Draw run under many seeds
// selects each ticket count at the rate the exact method gives.
func TestExactMatchesFairdraw(t *testing.T) {
	entries := join(solos(1, 1, 2, 4, 8), group("g", 1, 2), group("h", 1, 1, 1))
	const capacity, draws = 4, 3000
	in := fairdraw.Input{EventID: "odds", SubQueue: "full:open", Capacity: capacity, SeedSecret: make([]byte, fairdraw.SecretSize)}
	byID := map[string]int{}
	for i, e := range entries {
		id := fmt.Sprintf("e%02d", i)
		in.Entries = append(in.Entries, fairdraw.Entry{EntryID: id, Tickets: e.Tickets, Group: e.Group})
		byID[id] = e.Tickets
	}
	selected, held := map[int]int{}, map[int]int{}
	for _, e := range entries {
		held[e.Tickets] += draws
	}
	for d := range draws {
		in.SeedSecret[0], in.SeedSecret[1] = byte(d), byte(d>>8)
		a, err := fairdraw.Draw(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range a.Order {
			if it.Selected {
				for _, id := range it.EntryIDs {
					selected[byID[id]]++
				}
			}
		}
	}
	want, _ := odds.Exact(capacity, entries, odds.DefaultMaxStates)
	bound := math.Sqrt(math.Log(2000) / (2 * draws)) // Hoeffding, 99.9 %
	for _, r := range want.Rows {
		got := float64(selected[r.Tickets]) / float64(held[r.Tickets])
		if math.Abs(got-r.Chance) > bound {
			t.Errorf("%d tickets: fairdraw selected %.4f, odds say %.4f (bound %.4f)", r.Tickets, got, r.Chance, bound)
		}
	}
}

// The simulation agrees with the exact method within its stated error and
// within the distribution-free Hoeffding bound.
func TestSimulationAgreesWithExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 13))
	tests := []struct {
		name     string
		capacity int
		entries  []odds.Entry
	}{
		{"hand case", 2, solos(1, 2, 3)},
		{"solo doubling field", 12, solos(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 8, 8, 16, 32)},
		{"groups and solos", 9, randomField(rng, 14)},
		{"groups only", 6, join(group("a", 1, 1), group("b", 2, 2, 2), group("c", 4, 1), group("d", 1, 1, 1), group("e", 8, 8))},
		{"tight capacity", 1, randomField(rng, 10)},
	}
	const runs = odds.DefaultRuns
	hoeffding := math.Sqrt(math.Log(2000) / (2 * runs))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exact, ok := odds.Exact(tt.capacity, tt.entries, odds.DefaultMaxStates)
			if !ok {
				t.Fatal("exact refused")
			}
			sim := odds.Simulate(tt.capacity, tt.entries, runs, rand.New(rand.NewPCG(3, 5)))
			if sim.Method != odds.MethodSimulation || sim.Runs != runs || len(sim.Rows) != len(exact.Rows) {
				t.Fatalf("simulation table: %+v", sim)
			}
			for i, r := range sim.Rows {
				e := exact.Rows[i]
				if r.Tickets != e.Tickets || r.Entries != e.Entries {
					t.Fatalf("row %d: %+v vs %+v", i, r, e)
				}
				diff := math.Abs(r.Chance - e.Chance)
				if diff > r.Error || diff > hoeffding {
					t.Errorf("%d tickets: simulated %.4f ± %.4f, exact %.4f", r.Tickets, r.Chance, r.Error, e.Chance)
				}
				// No error only where the rule settles the chance (a
				// group too large for the capacity).
				if r.Error < 0 || r.Error > hoeffding || r.Error == 0 && r.Chance != e.Chance {
					t.Errorf("%d tickets: %.4f ± %.4f outside [0, %.4f]", r.Tickets, r.Chance, r.Error, hoeffding)
				}
			}
			for i, g := range sim.Groups {
				if diff := math.Abs(g.Chance - exact.Groups[i].Chance); diff > g.Error {
					t.Errorf("groups of %d: simulated %.4f ± %.4f, exact %.4f", g.Size, g.Chance, g.Error, exact.Groups[i].Chance)
				}
			}
		})
	}
}

// Compute is exact while the walk is small, simulates beyond, is
// reproducible for a seed, and settles trivial fields without simulating.
func TestComputeChoosesMethod(t *testing.T) {
	small := solos(1, 2, 3)
	if got := odds.Compute(2, small, odds.Options{}); got.Method != odds.MethodExact || got.Runs != 0 {
		t.Errorf("small field: %s with %d runs, want exact", got.Method, got.Runs)
	}
	big := randomField(rand.New(rand.NewPCG(1, 1)), 3000)
	a := odds.Compute(400, big, odds.Options{Runs: 500, Rand: rand.New(rand.NewPCG(9, 9))})
	b := odds.Compute(400, big, odds.Options{Runs: 500, Rand: rand.New(rand.NewPCG(9, 9))})
	if a.Method != odds.MethodSimulation || a.Runs != 500 {
		t.Errorf("big field: %s with %d runs, want a simulation of 500", a.Method, a.Runs)
	}
	if d := cmp.Diff(a, b); d != "" {
		t.Errorf("same seed, different tables:\n%s", d)
	}
	// Expected selected entries never exceed the capacity.
	var expected float64
	for _, r := range a.Rows {
		expected += r.Chance * float64(r.Entries)
	}
	if expected > 400+1e-9 || expected < 380 {
		t.Errorf("expected selected entries %.1f, want just under 400", expected)
	}
	// More tickets, better odds.
	for i := 1; i < len(a.Rows); i++ {
		if a.Rows[i].Chance <= a.Rows[i-1].Chance {
			t.Errorf("%d tickets %.4f not above %d tickets %.4f", a.Rows[i].Tickets, a.Rows[i].Chance, a.Rows[i-1].Tickets, a.Rows[i-1].Chance)
		}
	}
	if got := odds.Compute(len(big), big, odds.Options{}); got.Method != odds.MethodExact || got.Rows[0].Chance != 1 {
		t.Errorf("everyone fits: %+v", got.Rows)
	}
	if c, ok := a.Chance(2); !ok || c != a.Rows[1].Chance {
		t.Errorf("Chance(2) = %v, %v", c, ok)
	}
	if _, ok := a.Chance(3); ok {
		t.Error("Chance(3) found a ticket count nobody holds")
	}
}

// With only solo entries the expected selected entries are exactly the
// capacity (nobody is skipped), in both methods.
func TestSoloFieldFillsCapacity(t *testing.T) {
	entries := solos(1, 1, 1, 2, 2, 4, 4, 8, 16, 16, 16, 32)
	for _, tab := range []odds.Table{
		odds.Compute(5, entries, odds.Options{}),
		odds.Simulate(5, entries, 2000, rand.New(rand.NewPCG(1, 2))),
	} {
		var sum float64
		for _, r := range tab.Rows {
			sum += r.Chance * float64(r.Entries)
		}
		if math.Abs(sum-5) > 1e-9 {
			t.Errorf("%s: expected selected %.12f, want 5", tab.Method, sum)
		}
	}
}

func TestTally(t *testing.T) {
	a := fairdraw.Artifact{
		Entries: []fairdraw.Entry{{EntryID: "a", Tickets: 1}, {EntryID: "b", Tickets: 1}, {EntryID: "c", Tickets: 2, Group: "g"},
			{EntryID: "d", Tickets: 4, Group: "g"}, {EntryID: "e", Tickets: 4}},
		Order: []fairdraw.OrderItem{{Position: 1, UnitID: "g", EntryIDs: []string{"c", "d"}, Selected: true},
			{Position: 2, UnitID: "b", EntryIDs: []string{"b"}, Selected: true}, {Position: 3, UnitID: "e", EntryIDs: []string{"e"}},
			{Position: 4, UnitID: "a", EntryIDs: []string{"a"}}},
	}
	want := []odds.Rate{{Tickets: 1, Entries: 2, Selected: 1}, {Tickets: 2, Entries: 1, Selected: 1}, {Tickets: 4, Entries: 2, Selected: 1}}
	if d := cmp.Diff(want, odds.Tally(a)); d != "" {
		t.Errorf("tally (-want +got):\n%s", d)
	}
	if s := want[0].Share(); s != 0.5 {
		t.Errorf("share %v", s)
	}
	if s := (odds.Rate{}).Share(); s != 0 {
		t.Errorf("share of nothing %v", s)
	}
}

// Key depends on the capacity and the units' tickets, not on names or order.
func TestKey(t *testing.T) {
	a := join(solos(1, 2, 2), group("kim", 1, 4))
	b := join(group("lee", 4, 1), solos(2, 1, 2))
	if odds.Key(3, a) != odds.Key(3, b) {
		t.Error("same units, different keys")
	}
	for name, other := range map[string]string{
		"capacity":      odds.Key(4, a),
		"tickets":       odds.Key(3, join(solos(1, 2, 4), group("kim", 1, 4))),
		"grouping":      odds.Key(3, join(solos(1, 2, 2), group("kim", 1), group("park", 4))),
		"another entry": odds.Key(3, append(a, odds.Entry{Tickets: 1})),
	} {
		if other == odds.Key(3, a) {
			t.Errorf("a different %s, same key", name)
		}
	}
}
