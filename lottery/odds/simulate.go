package odds

import (
	"math"
	"math/rand/v2"
	"slices"
)

// z999 is the two-sided 99.9 % quantile of the standard normal.
const z999 = 3.2905

// looseUnits is the most units a class may have and still race unit by
// unit rather than as a stream.
const looseUnits = 8

// simulate estimates the unit chances from runs draws of the rule; see the
// package comment for how a draw is made without hashing and what the
// errors mean.
func (f *field) simulate(runs int, rng *rand.Rand) Table {
	p, open := f.settled()
	if len(open) == 0 {
		return f.table(MethodExact, 0, p, nil, nil)
	}
	cls := make([]class, len(open))
	isOpen := make([]bool, len(f.classes))
	total := 0
	for i, c := range open {
		cls[i] = f.classes[c]
		isOpen[c] = true
		total += cls[i].units * cls[i].size
	}
	// The sizes present, so the walk can stop once the slots left are
	// fewer than the smallest unit left.
	var sizes []int
	for _, c := range cls {
		sizes = append(sizes, c.size)
	}
	slices.Sort(sizes)
	sizes = slices.Compact(sizes)
	sizeOf := make([]int, len(cls)) // class → index in sizes
	for i, c := range cls {
		sizeOf[i], _ = slices.BinarySearch(sizes, c.size)
	}

	// Classes of many units race as lazy streams of order statistics in
	// a small heap; the units of classes of a few (most groups: each has a
	// rate of its own) race one key each in a second heap, which keeps
	// the first one shallow.
	var streams, loose []int // classes
	for i, c := range cls {
		if c.units > looseUnits {
			streams = append(streams, i)
		} else {
			loose = append(loose, i)
		}
	}
	var looseClass []int // loose unit → class
	for _, i := range loose {
		for range cls[i].units {
			looseClass = append(looseClass, i)
		}
	}

	rate := slices.Clone(p) // one run's selected share per class (closed classes keep their fixed chance)
	sum := make([]float64, len(f.classes))
	rows := newMoments(len(f.rows))
	groups := newMoments(len(f.groups))
	sel := make([]int, len(cls))
	left := make([]int, len(cls))
	unitsOfSize := make([]int, len(sizes))
	hs := race{key: make([]float64, len(cls)), at: make([]int, 0, len(streams))}
	hl := race{key: make([]float64, len(looseClass)), at: make([]int, 0, len(looseClass))}
	for range runs {
		clear(unitsOfSize)
		for i, c := range cls {
			sel[i], left[i] = 0, c.units
			unitsOfSize[sizeOf[i]] += c.units
		}
		hs.at = hs.at[:0]
		for _, i := range streams {
			// The first of n keys at rate W: Exp(1) / (nW).
			hs.key[i] = rng.ExpFloat64() / (float64(cls[i].units) * cls[i].weight)
			hs.at = append(hs.at, i)
		}
		hs.init()
		hl.at = hl.at[:0]
		for u, i := range looseClass {
			hl.key[u] = rng.ExpFloat64() / cls[i].weight
			hl.at = append(hl.at, u)
		}
		hl.init()
		rem, sizeLeft, smallest := f.capacity, total, 0
		for {
			if sizeLeft <= rem {
				// Everything left fits, whatever the order.
				for i := range cls {
					sel[i] += left[i]
				}
				break
			}
			for unitsOfSize[smallest] == 0 {
				smallest++
			}
			if rem < sizes[smallest] {
				break // no slot for anything left
			}
			var i int
			if len(hl.at) == 0 || len(hs.at) > 0 && hs.key[hs.at[0]] < hl.key[hl.at[0]] {
				i = hs.at[0]
				if left[i] > 1 {
					// The class's next key: + Exp(1) / (units left × W).
					hs.key[i] += rng.ExpFloat64() / (float64(left[i]-1) * cls[i].weight)
					hs.down(0)
				} else {
					hs.pop()
				}
			} else {
				i = looseClass[hl.at[0]]
				hl.pop()
			}
			c := cls[i]
			left[i]--
			sizeLeft -= c.size
			unitsOfSize[sizeOf[i]]--
			if c.size <= rem {
				sel[i]++
				rem -= c.size
			}
		}
		for i, c := range open {
			rate[c] = float64(sel[i]) / float64(cls[i].units)
			sum[c] += rate[c]
		}
		rows.add(f.rows, rate)
		groups.add(f.groups, rate)
	}
	for _, c := range open {
		p[c] = sum[c] / float64(runs)
	}
	return f.table(MethodSimulation, runs, p, rows.errors(f.rows, isOpen, runs), groups.errors(f.groups, isOpen, runs))
}

// moments accumulates each row's per-run selection rate.
type moments struct{ sum, sq []float64 }

func newMoments(n int) moments { return moments{sum: make([]float64, n), sq: make([]float64, n)} }

func (m moments) add(specs []rowSpec, rate []float64) {
	for j, r := range specs {
		y := r.chance(rate)
		m.sum[j] += y
		m.sq[j] += y * y
	}
}

// errors returns each row's 99.9 % half-width: 0 for a row made only of
// classes the rule settles without a draw, else
// max(z·s/√R, ln(1000)/R).
func (m moments) errors(specs []rowSpec, isOpen []bool, runs int) []float64 {
	out := make([]float64, len(specs))
	r := float64(runs)
	for j, spec := range specs {
		if !slices.ContainsFunc(spec.terms, func(t term) bool { return isOpen[t.class] }) {
			continue
		}
		mean := m.sum[j] / r
		variance := 0.0
		if runs > 1 {
			variance = math.Max(0, (m.sq[j]-r*mean*mean)/(r-1))
		}
		out[j] = math.Max(z999*math.Sqrt(variance/r), math.Log(1000)/r)
	}
	return out
}

// race is a binary min-heap of classes by their next key.
type race struct {
	key []float64
	at  []int
}

func (h *race) init() {
	for i := len(h.at)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *race) pop() {
	n := len(h.at) - 1
	h.at[0] = h.at[n]
	h.at = h.at[:n]
	if n > 0 {
		h.down(0)
	}
}

func (h *race) down(i int) {
	at, key := h.at, h.key
	n := len(at)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && key[at[r]] < key[at[l]] {
			m = r
		}
		if key[at[i]] <= key[at[m]] {
			return
		}
		at[i], at[m] = at[m], at[i]
		i = m
	}
}
