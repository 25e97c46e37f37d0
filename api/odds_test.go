package api_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/startline/startline/lottery/odds"
)

// subqueueOf finds a sub-queue in the event JSON by key.
func subqueueOf(t *testing.T, r resp, key string) map[string]any {
	t.Helper()
	list, _ := r.Body["subqueues"].([]any)
	for _, x := range list {
		if sq := x.(map[string]any); sq["key"] == key {
			return sq
		}
	}
	t.Fatalf("no sub-queue %s in %s", key, r.Raw)
	return nil
}

type oddsRow struct {
	Tickets int     `json:"tickets"`
	Entries int     `json:"entries"`
	Chance  float64 `json:"chance"`
}

func oddsOf(t *testing.T, v any) []oddsRow {
	t.Helper()
	b, _ := json.Marshal(v)
	var rows []oddsRow
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestEventOddsSnapshot: the event JSON carries each sub-queue's stored
// snapshot (entries, tickets, odds per ticket count) once the worker's odds
// pass has run, keeps every fixed field, is final after the freeze, and
// after the draw the draws JSON puts the selection by ticket count next to
// the odds published at freeze.
func TestEventOddsSnapshot(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, true)
	e.openEvent("spring")
	e.store.DB().Exec("UPDATE subqueues SET capacity = 2 WHERE key = 'half:sub-130'")
	e.applyN("spring", 6) // tickets 1, 2, 4, 1, 2, 4 (previous applications i % 3, doubling)

	before := e.do("GET", "/api/v1/events/spring", nil)
	if sq := subqueueOf(t, before, "half:sub-130"); sq["entries"] != nil || sq["odds"] != nil {
		t.Errorf("before any odds pass: %v", sq)
	}
	if n, err := e.stats.Refresh(ctx); err != nil || n != 4 {
		t.Fatalf("odds pass: %d, %v; want 4 sub-queues", n, err)
	}
	want, _ := odds.Exact(2, []odds.Entry{{Tickets: 1}, {Tickets: 2}, {Tickets: 4}, {Tickets: 1}, {Tickets: 2}, {Tickets: 4}}, odds.DefaultMaxStates)

	r := e.do("GET", "/api/v1/events/spring", nil)
	sq := subqueueOf(t, r, "half:sub-130")
	for _, k := range []string{"key", "course", "pace_group", "capacity", "mode"} {
		if sq[k] == nil {
			t.Errorf("fixed field %s missing: %v", k, sq)
		}
	}
	if r.Status != 200 || sq["entries"] != float64(6) || sq["tickets"] != float64(14) || sq["odds_method"] != "exact" ||
		sq["odds_final"] != nil || sq["odds_computed_at"] != e.clock.Now().Format(time.RFC3339) {
		t.Fatalf("live snapshot: %v", sq)
	}
	live := oddsOf(t, sq["odds"])
	if len(live) != 3 {
		t.Fatalf("odds rows: %v", live)
	}
	for i, row := range live {
		w := want.Rows[i]
		if row.Tickets != w.Tickets || row.Entries != 2 || math.Abs(row.Chance-w.Chance) > 0.00005 {
			t.Errorf("row %d: %+v, want %d tickets %.4f", i, row, w.Tickets, w.Chance)
		}
	}
	if fcfs := subqueueOf(t, r, "half:fcfs"); fcfs["entries"] != float64(0) || fcfs["odds"] != nil {
		t.Errorf("ordered sub-queue: %v", fcfs)
	}

	// Freeze: the same numbers, now final (the freeze stored them).
	e.clock.Set(testStart.Add(8 * 24 * time.Hour))
	if fr := e.action("spring", "freeze", nil); fr.Status != 200 {
		t.Fatalf("freeze: %d %s", fr.Status, fr.Raw)
	}
	sq = subqueueOf(t, e.do("GET", "/api/v1/events/spring", nil), "half:sub-130")
	if sq["odds_final"] != true || sq["entries"] != float64(6) || sq["odds_computed_at"] != e.clock.Now().Format(time.RFC3339) {
		t.Fatalf("after freeze: %v", sq)
	}
	if d := oddsOf(t, sq["odds"]); len(d) != 3 || d[2].Chance != live[2].Chance {
		t.Errorf("final odds %v, live were %v", d, live)
	}

	if r := e.action("spring", "reveal", nil); r.Status != 200 {
		t.Fatalf("reveal: %d %s", r.Status, r.Raw)
	}
	if r := e.action("spring", "draw", nil); r.Status != 202 {
		t.Fatalf("draw: %d %s", r.Status, r.Raw)
	}
	e.drawAll("spring")
	d := e.do("GET", "/api/v1/events/spring/draws", nil)
	var body struct {
		Draws []struct {
			SubQueue  string    `json:"subqueue"`
			Selected  int       `json:"selected"`
			Tickets   int       `json:"tickets"`
			OddsFinal bool      `json:"odds_final"`
			Odds      []oddsRow `json:"odds"`
			Selection []struct {
				Tickets         int      `json:"tickets"`
				Entries         int      `json:"entries"`
				Selected        int      `json:"selected"`
				Rate            float64  `json:"rate"`
				PublishedChance *float64 `json:"published_chance"`
			} `json:"selection"`
		} `json:"draws"`
	}
	if err := json.Unmarshal(d.Raw, &body); err != nil || len(body.Draws) == 0 {
		t.Fatalf("draws: %v %s", err, d.Raw)
	}
	got := body.Draws[0]
	if got.SubQueue != "half:sub-130" || got.Tickets != 14 || !got.OddsFinal || len(got.Odds) != 3 || len(got.Selection) != 3 {
		t.Fatalf("draw statistics: %s", d.Raw)
	}
	selected := 0
	for i, s := range got.Selection {
		selected += s.Selected
		if s.Entries != 2 || s.Rate != float64(s.Selected)/2 || s.PublishedChance == nil || *s.PublishedChance != got.Odds[i].Chance {
			t.Errorf("selection row %d: %+v", i, s)
		}
	}
	if selected != got.Selected || selected != 2 {
		t.Errorf("selected %d by ticket count, %d in the draw; want 2", selected, got.Selected)
	}
}
