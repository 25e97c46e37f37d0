// Package odds computes a runner's chance of selection in a fairdraw-v1 draw
// (shared/DRAW-SPEC.md) before the draw: given a sub-queue's capacity and
// its entries (tickets, groups), the chance that an entry holding t tickets
// is selected, for every t present, and the chance of a group of each size.
// It also tallies what a draw actually did, so a results page can put the
// selection rate by ticket count next to the odds published at freeze.
//
// The package is pure: no I/O, no clock; randomness comes in as a seeded
// *rand.Rand, so a computation is reproducible.
//
// # The model
//
// An entry with t tickets has key min(key_0..key_{t-1}) of t independent
// uniform 256-bit hashes. With K uniform on [0,1), -ln(1-K) is Exp(1), and
// the minimum of t such keys maps to Exp(t): ordering entries by key is an
// exponential race in which each runs at the rate of its tickets. A unit (a
// group, or a solo entry) has the minimum of its members' keys, so it runs
// at the rate W of its members' tickets combined; units are ordered by that
// race (successive sampling without replacement proportional to W, the
// Plackett–Luce model), and the allocation walk takes them in that order:
// a unit of size s is selected when s ≤ the slots left, else waitlisted,
// and the walk goes on, so a later smaller unit can take the last slots.
//
// Only a unit's rate W and size s matter to the rule, so units with the
// same (W, s) form a class whose units all have the same chance. An
// entry's chance is its unit's; the chance for t tickets is the mean over
// the entries holding t, which is the expected selection rate of those
// entries, the number the results page later shows for the actual draw.
//
// # Methods
//
// Exact: a dynamic program over the walk's states (how many units of each
// class have been drawn, slots left), each state's probability mass moving
// to the next class drawn in proportion to that class's remaining rate.
// It is used when the reachable states fit a budget (Options.MaxStates);
// its only error is float64 rounding.
//
// Simulation, for larger fields: Options.Runs draws of the real rule, each
// drawing the race directly from the exponential model (no hashing): per
// class, the successive order statistics of its n keys are
// E₁/(nW), then + E₂/((n-1)W), ... (Rényi's representation), generated
// lazily and merged across classes in a heap, and the walk stops as soon as
// nothing left can change (no slot left for the smallest unit left, or
// everything left fits). A run therefore costs about the number of units
// walked, not the field's size. Each row's estimate is the mean over runs of
// that run's selection rate; Row.Error is the half-width of its 99.9 %
// interval, max(3.29·s/√R, ln(1000)/R) with s the rates' sample standard
// deviation over R runs (normal approximation; the second term covers rows
// whose rate never varied). A distribution-free bound holds too: by
// Hoeffding's inequality every row is within √(ln(2000)/(2R)) of the truth
// with probability 99.9 % (0.044 at the default 2,000 runs).
package odds

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"slices"
)

// Entry is one entry of a sub-queue as the rule sees it.
type Entry struct {
	Tickets int    // ≥ 1; below 1 counts as 1
	Group   string // shared by a group's members; empty for a solo entry
}

// Method names how a Table was computed.
type Method string

// Methods: the exact dynamic program, or a simulation of the rule.
const (
	MethodExact      Method = "exact"
	MethodSimulation Method = "simulation"
)

// Row is the chance of selection of the entries holding one ticket count.
type Row struct {
	Tickets int `json:"tickets"`
	// Entries is how many entries hold this many tickets.
	Entries int `json:"entries"`
	// Chance is the probability, 0 to 1, that such an entry is selected
	// (the mean over these entries: solo and group members alike).
	Chance float64 `json:"chance"`
	// Error is the half-width of Chance's 99.9 % interval; 0 when exact.
	Error float64 `json:"error"`
}

// GroupRow is the chance that a group of one size is selected (all its
// members or none).
type GroupRow struct {
	Size   int     `json:"size"`
	Groups int     `json:"groups"`
	Chance float64 `json:"chance"`
	Error  float64 `json:"error"`
}

// Table is the odds of one sub-queue.
type Table struct {
	Method Method `json:"method"`
	// Runs is the number of simulated draws; 0 when exact.
	Runs int `json:"runs,omitempty"`
	// Rows are by ticket count, ascending.
	Rows []Row `json:"rows"`
	// Groups are by group size, ascending; empty without groups.
	Groups []GroupRow `json:"groups,omitempty"`
}

// Chance returns the chance for an entry with tickets tickets, and whether
// the table has such entries.
func (t Table) Chance(tickets int) (float64, bool) {
	i, ok := slices.BinarySearchFunc(t.Rows, tickets, func(r Row, n int) int { return cmp.Compare(r.Tickets, n) })
	if !ok {
		return 0, false
	}
	return t.Rows[i].Chance, true
}

// Defaults of Options.
const (
	DefaultRuns      = 2000
	DefaultMaxStates = 200_000
)

// Options tunes Compute; zero values take the defaults.
type Options struct {
	// Runs is the number of simulated draws when the exact method is out
	// of reach.
	Runs int
	// MaxStates bounds the exact method's work: beyond this many states it
	// gives way to the simulation.
	MaxStates int
	// Rand drives the simulation; nil uses a fixed seed, so the same field
	// always gives the same table.
	Rand *rand.Rand
}

// Compute returns the odds of a sub-queue of the given capacity holding
// entries: exact when the walk's states fit o.MaxStates, else simulated
// with o.Runs draws.
func Compute(capacity int, entries []Entry, o Options) Table {
	if o.Runs <= 0 {
		o.Runs = DefaultRuns
	}
	if o.MaxStates <= 0 {
		o.MaxStates = DefaultMaxStates
	}
	f := newField(capacity, entries)
	if p, ok := f.exact(o.MaxStates); ok {
		return f.table(MethodExact, 0, p, nil, nil)
	}
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(1, 2))
	}
	return f.simulate(o.Runs, o.Rand)
}

// Exact returns the exact odds, or false when the walk has more than
// maxStates states.
func Exact(capacity int, entries []Entry, maxStates int) (Table, bool) {
	f := newField(capacity, entries)
	p, ok := f.exact(maxStates)
	if !ok {
		return Table{}, false
	}
	return f.table(MethodExact, 0, p, nil, nil), true
}

// Simulate returns the odds estimated from runs draws of the rule driven by
// rng. Units that can never or must always be selected are exact even here.
func Simulate(capacity int, entries []Entry, runs int, rng *rand.Rand) Table {
	return newField(capacity, entries).simulate(max(runs, 1), rng)
}

// class is a set of units the rule cannot tell apart: same rate, same size.
type class struct {
	weight float64 // the unit's tickets combined: its rate in the race
	size   int     // entries in the unit
	units  int
}

// field is a sub-queue reduced to classes, with what the tables need to
// turn class chances into rows.
type field struct {
	capacity int
	classes  []class
	rows     []rowSpec // by ticket count, ascending
	groups   []rowSpec // by group size, ascending
}

// rowSpec says how a row's chance is made of its classes' unit chances:
// chance = Σ coef·p[class].
type rowSpec struct {
	key   int // tickets, or group size
	count int // entries, or groups
	terms []term
}

type term struct {
	class int
	coef  float64
}

type classKey struct{ weight, size int }

// unitsOf groups entries into units: each unit's members' tickets, in
// order of first appearance.
func unitsOf(entries []Entry) [][]int {
	var units [][]int
	groupAt := map[string]int{}
	for _, e := range entries {
		t := max(e.Tickets, 1)
		if e.Group == "" {
			units = append(units, []int{t})
			continue
		}
		i, ok := groupAt[e.Group]
		if !ok {
			i = len(units)
			groupAt[e.Group] = i
			units = append(units, nil)
		}
		units[i] = append(units[i], t)
	}
	return units
}

func newField(capacity int, entries []Entry) *field {
	f := &field{capacity: max(capacity, 0)}
	classAt := map[classKey]int{}
	members := map[int]map[int]int{} // tickets → class → member entries
	entriesWith := map[int]int{}
	groupsOf := map[int]map[int]int{} // group size → class → groups
	groupCount := map[int]int{}
	// Classes in one order whatever order the entries came in (the store's
	// rows have none): the sums below then add up in one order, so a
	// snapshot is the same to the last bit.
	units := unitsOf(entries)
	weightOf := func(u []int) int {
		w := 0
		for _, t := range u {
			w += t
		}
		return w
	}
	slices.SortStableFunc(units, func(a, b []int) int {
		return cmp.Or(cmp.Compare(weightOf(a), weightOf(b)), cmp.Compare(len(a), len(b)))
	})
	for _, u := range units {
		weight := weightOf(u)
		k := classKey{weight, len(u)}
		c, ok := classAt[k]
		if !ok {
			c = len(f.classes)
			classAt[k] = c
			f.classes = append(f.classes, class{weight: float64(weight), size: len(u)})
		}
		f.classes[c].units++
		for _, t := range u {
			if members[t] == nil {
				members[t] = map[int]int{}
			}
			members[t][c]++
			entriesWith[t]++
		}
		if len(u) > 1 {
			if groupsOf[len(u)] == nil {
				groupsOf[len(u)] = map[int]int{}
			}
			groupsOf[len(u)][c]++
			groupCount[len(u)]++
		}
	}
	// A row's chance is the mean of its entries' (or groups') chances:
	// Σ over classes of (members in the class ÷ units of the class) ×
	// (the class's expected selected units) ÷ the row's count, i.e. a
	// weighted sum of class unit chances with these coefficients.
	spec := func(by map[int]map[int]int, count map[int]int) []rowSpec {
		keys := make([]int, 0, len(by))
		for k := range by {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make([]rowSpec, 0, len(keys))
		for _, k := range keys {
			r := rowSpec{key: k, count: count[k]}
			cs := make([]int, 0, len(by[k]))
			for c := range by[k] {
				cs = append(cs, c)
			}
			slices.Sort(cs)
			for _, c := range cs {
				r.terms = append(r.terms, term{class: c, coef: float64(by[k][c]) / float64(count[k])})
			}
			out = append(out, r)
		}
		return out
	}
	f.rows = spec(members, entriesWith)
	f.groups = spec(groupsOf, groupCount)
	return f
}

// table turns per-class unit chances into rows. With a simulation, rowErr
// and groupErr hold each row's error; nil means exact.
func (f *field) table(m Method, runs int, p []float64, rowErr, groupErr []float64) Table {
	t := Table{Method: m, Runs: runs, Rows: make([]Row, len(f.rows))}
	for i, r := range f.rows {
		t.Rows[i] = Row{Tickets: r.key, Entries: r.count, Chance: clamp01(r.chance(p))}
		if rowErr != nil {
			t.Rows[i].Error = rowErr[i]
		}
	}
	for i, r := range f.groups {
		g := GroupRow{Size: r.key, Groups: r.count, Chance: clamp01(r.chance(p))}
		if groupErr != nil {
			g.Error = groupErr[i]
		}
		t.Groups = append(t.Groups, g)
	}
	return t
}

func (r rowSpec) chance(p []float64) float64 {
	var s float64
	for _, tm := range r.terms {
		s += tm.coef * p[tm.class]
	}
	return s
}

func clamp01(x float64) float64 { return math.Min(1, math.Max(0, x)) }

// settled returns the unit chances the rule fixes without any draw: 0 for
// a unit larger than the capacity (it never fits, and since it never takes
// a slot it changes nobody else's chance either), 1 for every other unit
// when they all fit together. It also returns the classes still open.
func (f *field) settled() (p []float64, open []int) {
	p = make([]float64, len(f.classes))
	total := 0
	for c, cl := range f.classes {
		if cl.size <= f.capacity {
			open = append(open, c)
			total += cl.units * cl.size
		}
	}
	if total <= f.capacity {
		for _, c := range open {
			p[c] = 1
		}
		return p, nil
	}
	return p, open
}

// Key identifies a field: fields with the same capacity and the same units
// (each unit's members' tickets) get the same key, and have the same odds,
// whatever the entries' ids, group names or order. A caller keeps it to
// skip recomputing odds nothing has changed.
func Key(capacity int, entries []Entry) string {
	units := unitsOf(entries)
	for _, u := range units {
		slices.Sort(u)
	}
	slices.SortFunc(units, slices.Compare)
	h := sha256.New()
	buf := binary.AppendUvarint(nil, uint64(max(capacity, 0)))
	for _, u := range units {
		buf = binary.AppendUvarint(buf, uint64(len(u)))
		for _, t := range u {
			buf = binary.AppendUvarint(buf, uint64(t))
		}
		if len(buf) > 4096 {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}
