package odds

import (
	"maps"
	"math"
	"math/bits"
	"slices"
)

// exact runs the dynamic program over the walk: a state is how many units
// of each class have been drawn and how many slots are left; from a state
// holding probability mass P, the next unit drawn is of class c with
// probability (units of c left × its rate) ÷ (the rates left combined),
// and is selected when it fits. The expected number of selected units of a
// class, over its units, is its unit chance. It reports false when more
// than maxStates states would be visited.
func (f *field) exact(maxStates int) ([]float64, bool) {
	p, open := f.settled()
	if len(open) == 0 {
		return p, true
	}
	cls := make([]class, len(open))
	for i, c := range open {
		cls[i] = f.classes[c]
	}
	// A state's key: the drawn counts in mixed radix (units+1 per class),
	// times the radix of the slots left, plus the slots left.
	radix := uint64(f.capacity) + 1
	strides := make([]uint64, len(cls))
	span := uint64(1)
	for i, c := range cls {
		strides[i] = span
		hi, lo := bits.Mul64(span, uint64(c.units)+1)
		if hi != 0 {
			return nil, false
		}
		span = lo
	}
	if hi, _ := bits.Mul64(span, radix); hi != 0 {
		return nil, false
	}

	selected := make([]float64, len(cls))
	layer := map[uint64]float64{uint64(f.capacity): 1}
	visited := 1
	drawn := make([]int, len(cls))
	for len(layer) > 0 {
		next := make(map[uint64]float64, len(layer))
		// Sorted keys make the sums, to the last bit, independent of map order.
		for _, key := range slices.Sorted(maps.Keys(layer)) {
			mass := layer[key]
			rem, idx := int(key%radix), key/radix
			var rate float64
			sizeLeft, minLeft := 0, math.MaxInt
			for i, c := range cls {
				drawn[i] = int(idx / strides[i] % (uint64(c.units) + 1))
				if left := c.units - drawn[i]; left > 0 {
					rate += float64(left) * c.weight
					sizeLeft += left * c.size
					minLeft = min(minLeft, c.size)
				}
			}
			for i, c := range cls {
				left := c.units - drawn[i]
				if left == 0 {
					continue
				}
				q := mass * float64(left) * c.weight / rate
				r := rem
				if c.size <= r {
					selected[i] += q
					r -= c.size
				}
				// The state after drawing this unit.
				drawn[i]++
				sl, ml := sizeLeft-c.size, minLeft
				if left == 1 && c.size == minLeft {
					ml = minSizeLeft(cls, drawn)
				}
				switch {
				case sl == 0 || r < ml:
					// Nothing left fits: the walk selects no one else.
				case sl <= r:
					// Everything left fits, whatever the order.
					for j, cj := range cls {
						selected[j] += q * float64(cj.units-drawn[j])
					}
				default:
					nk := (idx+strides[i])*radix + uint64(r)
					if _, seen := next[nk]; !seen {
						if visited++; visited > maxStates {
							return nil, false
						}
					}
					next[nk] += q
				}
				drawn[i]--
			}
		}
		layer = next
	}
	for i, c := range open {
		p[c] = selected[i] / float64(cls[i].units)
	}
	return p, true
}

// minSizeLeft is the smallest size among classes with units left
// (math.MaxInt when none is left).
func minSizeLeft(cls []class, drawn []int) int {
	m := math.MaxInt
	for j, c := range cls {
		if drawn[j] < c.units {
			m = min(m, c.size)
		}
	}
	return m
}
