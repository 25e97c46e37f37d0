package cluster

import (
	"cmp"
	"math"
	"slices"
)

// Member is one entry of a device class (a fingerprint with its user agent)
// and whether its network contradicted its device, such as a time zone in
// another country than the address.
type Member struct {
	ID       string
	Class    string
	Mismatch bool
}

// Outlier is a device class with far more mismatched entries than the rest
// of the event makes likely.
type Outlier struct {
	Class      string
	Size       int      // entries of the class
	Mismatched []string // ids of its mismatched entries, sorted
	Expected   float64  // mismatched entries expected at the rest of the event's rate
}

// The prior on the event's mismatch rate: as if 1 of 50 other entries were
// mismatched. An event with few entries outside one class cannot tell its
// own normal yet; this keeps three travellers among five entries from being
// "the normal" and one among millions from being noise.
const (
	priorMismatched = 1
	priorEntries    = 50
)

// MismatchOutliers finds device classes whose mismatched entries are too
// many to be chance: identical phones are common, so a class alone means
// little, and a traveller or VPN user is a mismatch now and then; but one
// forged device replayed through a proxy pool abroad gives one class that is
// mismatched almost every time. The expected count comes from the rate among
// the event's other entries (with a small prior, below), so the attack does
// not raise its own baseline, and a class is an outlier when it has at least minCount mismatched entries
// and more than three standard deviations above that expectation.
// Members with an empty Class are ignored. The result is sorted by class.
func MismatchOutliers(members []Member, minCount int) []Outlier {
	type tally struct {
		size int
		ids  []string
	}
	classes := map[string]*tally{}
	total, mismatched := 0, 0
	for _, m := range members {
		if m.Class == "" {
			continue
		}
		t := classes[m.Class]
		if t == nil {
			t = &tally{}
			classes[m.Class] = t
		}
		t.size++
		total++
		if m.Mismatch {
			t.ids = append(t.ids, m.ID)
			mismatched++
		}
	}
	var out []Outlier
	for class, t := range classes {
		k := len(t.ids)
		if k < max(minCount, 1) {
			continue
		}
		p := (float64(mismatched-k) + priorMismatched) / (float64(total-t.size) + priorEntries)
		n := float64(t.size)
		expected := n * p
		if float64(k) <= expected+3*math.Sqrt(n*p*(1-p))+1 {
			continue
		}
		slices.Sort(t.ids)
		out = append(out, Outlier{Class: class, Size: t.size, Mismatched: t.ids, Expected: expected})
	}
	slices.SortFunc(out, func(a, b Outlier) int { return cmp.Compare(a.Class, b.Class) })
	return out
}
