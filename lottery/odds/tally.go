package odds

import (
	"cmp"
	"slices"

	"github.com/startline/startline/lottery/fairdraw"
)

// Rate is what a draw did to the entries holding one ticket count.
type Rate struct {
	Tickets  int `json:"tickets"`
	Entries  int `json:"entries"`
	Selected int `json:"selected"`
}

// Share is the selected fraction, 0 to 1 (0 for no entries).
func (r Rate) Share() float64 {
	if r.Entries == 0 {
		return 0
	}
	return float64(r.Selected) / float64(r.Entries)
}

// Tally counts a draw's entries and selected entries by ticket count, from
// the published artifact's entries and order; by ticket count, ascending.
func Tally(a fairdraw.Artifact) []Rate {
	tickets := make(map[string]int, len(a.Entries))
	for _, e := range a.Entries {
		tickets[e.EntryID] = max(e.Tickets, 1)
	}
	by := map[int]*Rate{}
	for _, e := range a.Entries {
		t := max(e.Tickets, 1)
		if by[t] == nil {
			by[t] = &Rate{Tickets: t}
		}
		by[t].Entries++
	}
	for _, it := range a.Order {
		if !it.Selected {
			continue
		}
		for _, id := range it.EntryIDs {
			if r := by[tickets[id]]; r != nil {
				r.Selected++
			}
		}
	}
	out := make([]Rate, 0, len(by))
	for _, r := range by {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(x, y Rate) int { return cmp.Compare(x.Tickets, y.Tickets) })
	return out
}
