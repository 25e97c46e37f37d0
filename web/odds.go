package web

import (
	"context"
	"strconv"
	"strings"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/drawstats"
	"github.com/startline/startline/lottery/odds"
	"github.com/startline/startline/web/chart"
)

// oddsView is one drawn sub-queue's live (or final) numbers on the event
// page, under its course and pace group names.
type oddsView struct {
	drawstats.Snapshot
	Course, Label string
	// ErrorPts is the widest row's 99.9 % half-width in percentage points
	// ("0.4"), for a simulated table.
	ErrorPts string
	// Deferred is the slots of the pace group that runners deferred from
	// the previous edition hold: the draw's capacity (Snapshot.Capacity,
	// lottery.DrawCapacity) is that much below the pace group's.
	Deferred int
}

// eventOdds returns the snapshots of ev's drawn sub-queues in display
// order. The odds are an extra: when they cannot be read the page shows
// the event without them, and the failure is logged.
func (p *pages) eventOdds(ctx context.Context, ev lottery.Event) []oddsView {
	if p.Stats == nil {
		return nil
	}
	snaps, err := p.Stats.EventOdds(ctx, ev)
	if err != nil {
		p.Log.WarnContext(ctx, "event odds unavailable", "event", ev.Slug, "err", err)
		return nil
	}
	var out []oddsView
	for _, c := range ev.Courses {
		for _, pg := range c.PaceGroups {
			sn, ok := snaps[pg.ID]
			if !ok || pg.Mode == lottery.ModeOrdered || sn.Odds == nil {
				continue
			}
			v := oddsView{Snapshot: sn, Course: c.Name, Label: pg.Label, Deferred: max(pg.Capacity-sn.Capacity, 0)}
			if sn.Odds.Method == odds.MethodSimulation {
				worst := 0.0
				for _, r := range sn.Odds.Rows {
					worst = max(worst, r.Error)
				}
				v.ErrorPts = strconv.FormatFloat(worst*100, 'f', 1, 64)
			}
			out = append(out, v)
		}
	}
	return out
}

// drawStats is what one sub-queue's draw did, by ticket count, beside the
// odds published at freeze.
type drawStats struct {
	drawstats.Result
	Rows []statRow
}

type statRow struct {
	odds.Rate
	Published float64
	HasOdds   bool // the final odds list this ticket count
}

// drawResults returns the statistics of ev's drawn sub-queues by id; like
// eventOdds, a failed read leaves them out.
func (p *pages) drawResults(ctx context.Context, ev lottery.Event, ds []lottery.DrawInfo) map[int64]drawStats {
	if p.Stats == nil {
		return nil
	}
	results, snaps, err := p.Stats.DrawResults(ctx, ev, ds)
	if err != nil {
		p.Log.WarnContext(ctx, "draw statistics unavailable", "event", ev.Slug, "err", err)
		return nil
	}
	out := make(map[int64]drawStats, len(results))
	for id, r := range results {
		st := drawStats{Result: r}
		sn := snaps[id]
		for _, rate := range r.Rates {
			row := statRow{Rate: rate}
			if sn.Final && sn.Odds != nil {
				row.Published, row.HasOdds = sn.Odds.Chance(rate.Tickets)
			}
			st.Rows = append(st.Rows, row)
		}
		out[id] = st
	}
	return out
}

// formatPct writes a chance as a percentage with one decimal ("12.3%",
// "50%"): never "0%" or "100%" for a chance that is neither.
func formatPct(x float64) string {
	switch {
	case x <= 0:
		return "0%"
	case x >= 1:
		return "100%"
	case x < 0.001:
		return "< 0.1%"
	case x > 0.999:
		return "> 99.9%"
	}
	s := strconv.FormatFloat(x*100, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + "%"
}

// formatCount writes a count with thousands separators ("40,000"), as
// both English and Korean write them; the template's ints and int64s.
func formatCount(n any) string {
	switch n := n.(type) {
	case int:
		return chart.Count(int64(n))
	case int64:
		return chart.Count(n)
	}
	return ""
}
