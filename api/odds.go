package api

import (
	"context"
	"math"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/drawstats"
	"github.com/startline/startline/lottery/odds"
)

// oddsJSON is one row of a sub-queue's odds (API.md: "odds":[{"tickets","chance"}]).
type oddsJSON struct {
	Tickets int     `json:"tickets"`
	Entries int     `json:"entries"` // entries holding this many tickets
	Chance  float64 `json:"chance"`  // 0 to 1
	// Error is the half-width of Chance's 99.9 % interval when simulated.
	Error float64 `json:"error,omitempty"`
}

// groupOddsJSON is the chance of a group of one size (all members or none).
type groupOddsJSON struct {
	Size   int     `json:"size"`
	Groups int     `json:"groups"`
	Chance float64 `json:"chance"`
	Error  float64 `json:"error,omitempty"`
}

// oddsFields are the snapshot's fields of a sub-queue in the event JSON and
// of a draw in the draws JSON; all absent before the first snapshot.
type oddsFields struct {
	// DrawCapacity is the capacity the odds were computed for: the slots
	// the draw gives out, less those runners deferred from the previous
	// edition hold (lottery.DrawCapacity).
	DrawCapacity   *int            `json:"draw_capacity,omitempty"`
	Tickets        *int64          `json:"tickets,omitempty"`
	Odds           []oddsJSON      `json:"odds,omitempty"`
	GroupOdds      []groupOddsJSON `json:"group_odds,omitempty"`
	OddsMethod     string          `json:"odds_method,omitempty"` // exact | simulation
	OddsRuns       int             `json:"odds_runs,omitempty"`   // simulated draws
	OddsComputedAt *time.Time      `json:"odds_computed_at,omitempty"`
	// OddsFinal: computed at freeze from the frozen list, never changed.
	OddsFinal bool `json:"odds_final,omitempty"`
}

// selectionJSON is what a draw did to the entries holding one ticket count,
// beside the chance published for them at freeze.
type selectionJSON struct {
	Tickets         int      `json:"tickets"`
	Entries         int      `json:"entries"`
	Selected        int      `json:"selected"`
	Rate            float64  `json:"rate"`
	PublishedChance *float64 `json:"published_chance,omitempty"`
}

// round4 keeps four decimals: a chance to a hundredth of a percent point.
func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

func oddsFieldsOf(sn drawstats.Snapshot) oddsFields {
	at, tickets, capacity := sn.ComputedAt, sn.Tickets, sn.Capacity
	f := oddsFields{DrawCapacity: &capacity, Tickets: &tickets, OddsComputedAt: &at, OddsFinal: sn.Final}
	if sn.Odds == nil {
		return f
	}
	f.OddsMethod, f.OddsRuns = string(sn.Odds.Method), sn.Odds.Runs
	f.Odds = make([]oddsJSON, len(sn.Odds.Rows))
	for i, r := range sn.Odds.Rows {
		f.Odds[i] = oddsJSON{Tickets: r.Tickets, Entries: r.Entries, Chance: round4(r.Chance), Error: round4(r.Error)}
	}
	for _, g := range sn.Odds.Groups {
		f.GroupOdds = append(f.GroupOdds, groupOddsJSON{Size: g.Size, Groups: g.Groups, Chance: round4(g.Chance), Error: round4(g.Error)})
	}
	return f
}

func selectionOf(rates []odds.Rate, published *odds.Table) []selectionJSON {
	out := make([]selectionJSON, len(rates))
	for i, r := range rates {
		out[i] = selectionJSON{Tickets: r.Tickets, Entries: r.Entries, Selected: r.Selected, Rate: round4(r.Share())}
		if published != nil {
			if c, ok := published.Chance(r.Tickets); ok {
				c = round4(c)
				out[i].PublishedChance = &c
			}
		}
	}
	return out
}

// withOdds adds each sub-queue's stored snapshot to an event view. The
// snapshots are extras: when they cannot be read the event is still
// served, without them, and the failure logged.
func (h *handler) withOdds(ctx context.Context, v *eventJSON, ev lottery.Event) {
	if h.Stats == nil {
		return
	}
	snaps, err := h.Stats.EventOdds(ctx, ev)
	if err != nil {
		h.Log.WarnContext(ctx, "event odds unavailable", "event", ev.Slug, "err", err)
		return
	}
	ids := map[string]int64{}
	for _, sq := range ev.SubQueues() {
		ids[sq.Key] = sq.ID
	}
	for i := range v.SubQueues {
		sn, ok := snaps[ids[v.SubQueues[i].Key]]
		if !ok {
			continue
		}
		entries := sn.Entries
		v.SubQueues[i].Entries = &entries
		v.SubQueues[i].oddsFields = oddsFieldsOf(sn)
	}
}

// withDrawStats adds to each draw the odds published at freeze and, once
// drawn, its selection by ticket count; like withOdds, a failed read
// leaves them out.
func (h *handler) withDrawStats(ctx context.Context, out []drawJSON, ev lottery.Event, ds []lottery.DrawInfo) {
	if h.Stats == nil {
		return
	}
	results, snaps, err := h.Stats.DrawResults(ctx, ev, ds)
	if err != nil {
		h.Log.WarnContext(ctx, "draw statistics unavailable", "event", ev.Slug, "err", err)
		return
	}
	for i, d := range ds {
		var published *odds.Table
		if sn, ok := snaps[d.SubQueueID]; ok && sn.Final {
			out[i].oddsFields = oddsFieldsOf(sn)
			published = sn.Odds
		}
		if r, ok := results[d.SubQueueID]; ok {
			tickets := r.Tickets
			out[i].Tickets = &tickets
			out[i].Selection = selectionOf(r.Rates, published)
		}
	}
}
