package exports

import (
	"cmp"
	"slices"

	"github.com/startline/startline/lottery"
)

// MaxBib is the largest bib number a range may hold.
const MaxBib = 999999

// BibRange is the bib numbers one sub-queue (course x pace group) hands
// out, First to Last inclusive; zero First and Last: no range set.
type BibRange struct {
	SubQueueID int64
	Key        string // "course:pace", for field errors ("bibs.half:open.first")
	First      int
	Last       int
}

// Set reports whether the organizer gave the sub-queue a range.
func (r BibRange) Set() bool { return r.First != 0 || r.Last != 0 }

// Size is how many bibs the range holds.
func (r BibRange) Size() int {
	if !r.Set() || r.Last < r.First {
		return 0
	}
	return r.Last - r.First + 1
}

// Holds reports whether bib is in the range.
func (r BibRange) Holds(bib int) bool { return r.Set() && bib >= r.First && bib <= r.Last }

// Messages of bib range errors; pages translate them by these exact texts
// (the counts are on the page beside each range).
const (
	MsgBibNumber   = "enter a whole number"
	MsgBibBounds   = "a bib number is from 1 to 999999"
	MsgBibOrder    = "the last bib comes after the first"
	MsgBibOverlap  = "this range overlaps another pace group's range"
	MsgBibMissing  = "confirmed entries need bibs here: set a range"
	MsgBibTooSmall = "this range is too small for the confirmed entries"
)

// BibField names the form field of a sub-queue's range end ("first" or
// "last"): the field a range error is shown next to.
func BibField(key, end string) string { return "bibs." + key + "." + end }

// CheckBibRanges is the rule for the ranges an organizer saves: each set
// range is whole (both ends), within 1..MaxBib, first <= last, and no two
// sub-queues' ranges overlap. The error is a field error on the offending
// range's end.
func CheckBibRanges(ranges []BibRange) error {
	for _, r := range ranges {
		if !r.Set() {
			continue
		}
		switch {
		case r.First < 1 || r.First > MaxBib:
			return lottery.Fieldf(BibField(r.Key, "first"), MsgBibBounds)
		case r.Last < 1 || r.Last > MaxBib:
			return lottery.Fieldf(BibField(r.Key, "last"), MsgBibBounds)
		case r.Last < r.First:
			return lottery.Fieldf(BibField(r.Key, "last"), MsgBibOrder)
		}
	}
	set := make([]BibRange, 0, len(ranges))
	for _, r := range ranges {
		if r.Set() {
			set = append(set, r)
		}
	}
	slices.SortStableFunc(set, func(a, b BibRange) int { return cmp.Compare(a.First, b.First) })
	for i := 1; i < len(set); i++ {
		if set[i].First <= set[i-1].Last {
			return lottery.Fieldf(BibField(set[i].Key, "first"), MsgBibOverlap)
		}
	}
	return nil
}

// BibHolder is a confirmed entry due a bib, with what orders the start
// list: its course's and pace group's display positions, then its name and
// id. Bib is its current number (0: none).
type BibHolder struct {
	EntryID    string
	SubQueueID int64
	CoursePos  int
	PacePos    int
	Name       string
	Bib        int
}

// BibPlan is an assignment: the bib each holder ends with, and how many of
// them got a new number.
type BibPlan struct {
	Bibs     map[string]int // entry id -> bib
	Assigned int            // holders whose bib changed (was none or out of range)
}

// PlanBibs is the bib assignment rule. Holders are taken in start-list
// order (course, pace group, name, entry id). A holder keeps a bib already
// inside its sub-queue's range (so running it again changes nothing and
// printed bibs stay true); every other holder gets the lowest free number
// of its sub-queue's range in that order. It refuses, with a field error
// on the range, when a sub-queue with holders has no range or too small a
// one, or when ranges overlap (CheckBibRanges).
func PlanBibs(ranges []BibRange, holders []BibHolder) (BibPlan, error) {
	if err := CheckBibRanges(ranges); err != nil {
		return BibPlan{}, err
	}
	bySQ := map[int64]BibRange{}
	for _, r := range ranges {
		bySQ[r.SubQueueID] = r
	}
	count := map[int64]int{}
	for _, h := range holders {
		count[h.SubQueueID]++
	}
	for _, r := range ranges { // in the caller's (display) order: the first short range is named
		n := count[r.SubQueueID]
		if n == 0 {
			continue
		}
		if !r.Set() {
			return BibPlan{}, lottery.Fieldf(BibField(r.Key, "first"), MsgBibMissing)
		}
		if n > r.Size() {
			return BibPlan{}, lottery.Fieldf(BibField(r.Key, "last"), MsgBibTooSmall)
		}
	}
	for sq, n := range count {
		if _, ok := bySQ[sq]; !ok && n > 0 {
			return BibPlan{}, lottery.Fieldf("bibs", MsgBibMissing)
		}
	}
	order := slices.Clone(holders)
	slices.SortFunc(order, func(a, b BibHolder) int {
		return cmp.Or(cmp.Compare(a.CoursePos, b.CoursePos), cmp.Compare(a.PacePos, b.PacePos),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.EntryID, b.EntryID))
	})
	plan := BibPlan{Bibs: make(map[string]int, len(order))}
	taken := map[int]bool{}
	var fresh []BibHolder
	for _, h := range order {
		if bySQ[h.SubQueueID].Holds(h.Bib) && !taken[h.Bib] {
			taken[h.Bib] = true
			plan.Bibs[h.EntryID] = h.Bib
			continue
		}
		fresh = append(fresh, h)
	}
	next := map[int64]int{}
	for _, h := range fresh {
		r := bySQ[h.SubQueueID]
		n := max(next[h.SubQueueID], r.First)
		for taken[n] {
			n++
		}
		taken[n] = true
		next[h.SubQueueID] = n + 1
		plan.Bibs[h.EntryID] = n
		plan.Assigned++
	}
	return plan, nil
}
