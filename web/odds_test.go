package web_test

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/odds"
)

// percent is how the pages write a chance strictly between 0.1 % and
// 99.9 %: one decimal, without a trailing ".0".
func percent(x float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(x*100, 'f', 1, 64), ".0") + "%"
}

// tableRows returns the cells of each row of the page's odds tables.
func tableRows(page string) [][]string {
	rowRe := regexp.MustCompile(`(?s)<tr><th scope="row">(.*?)</tr>`)
	cellRe := regexp.MustCompile(`(?s)<t[dh][^>]*>(.*?)</t[dh]>`)
	var out [][]string
	for _, m := range rowRe.FindAllStringSubmatch(page, -1) {
		var cells []string
		for _, c := range cellRe.FindAllStringSubmatch("<th>"+m[1], -1) {
			cells = append(cells, html.UnescapeString(strings.TrimSpace(c[1])))
		}
		out = append(out, cells)
	}
	return out
}

// TestOddsOnEventAndResultsPages: the event page shows each drawn pace
// group's stored numbers (slots, entries, tickets, chance per ticket count,
// when computed) in English and Korean, marked final after the freeze; the
// results page shows what the draw did by ticket count beside the odds
// published at freeze.
func TestOddsOnEventAndResultsPages(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, false)
	s.store.DB().Exec("UPDATE subqueues SET capacity = 10 WHERE key = 'half:sub-130'")
	if _, err := s.store.InsertSyntheticEntries(ctx, "spring", 30); err != nil { // tickets 1 to 4, some groups of 3
		t.Fatal(err)
	}
	_, page, _ := s.get("/events/spring")
	if strings.Contains(page, "Chance of selection") {
		t.Fatal("odds shown before any odds pass")
	}
	if _, err := s.stats.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	ev, _ := s.store.EventBySlug(ctx, "spring")
	snaps, _ := s.stats.EventOdds(ctx, ev)
	sub130 := ev.SubQueues()[0]
	live := snaps[sub130.ID]
	if live.Odds == nil || len(live.Odds.Rows) != 4 || live.Entries != 30 {
		t.Fatalf("snapshot: %+v", live)
	}

	status, page, _ := s.get("/events/spring")
	if status != 200 {
		t.Fatalf("event page: %d", status)
	}
	for _, want := range []string{"Entries and chance of selection so far", "Half Marathon · Under 1:30", "<dd>30</dd>",
		fmt.Sprintf("<dd>%d</dd>", live.Tickets), "Computed exactly", "As of ", "not held for review"} {
		if !strings.Contains(page, want) {
			t.Errorf("event page lacks %q", want)
		}
	}
	rows := tableRows(page)
	if len(rows) != 8 { // four ticket counts in each of the two pace groups
		t.Fatalf("odds rows: %v", rows)
	}
	for i, r := range live.Odds.Rows {
		label := fmt.Sprintf("%d tickets", r.Tickets)
		if r.Tickets == 1 {
			label = "1 ticket"
		}
		want := []string{label, strconv.Itoa(r.Entries), percent(r.Chance)}
		if fmt.Sprint(rows[i]) != fmt.Sprint(want) {
			t.Errorf("row %d: %v, want %v", i, rows[i], want)
		}
	}
	if rows[4][2] != "100%" { // the open pace group has room for everyone
		t.Errorf("open pace group: %v", rows[4])
	}
	_, ko, _ := s.get("/events/spring?lang=ko")
	for _, want := range []string{"지금까지의 신청 현황과 당첨 확률", "당첨 확률", ">1장</th>", "추첨권 수"} {
		if !strings.Contains(ko, want) {
			t.Errorf("Korean event page lacks %q", want)
		}
	}

	// Close, freeze, reveal and draw.
	for _, a := range []string{lottery.ActionClose, lottery.ActionFreeze, lottery.ActionReveal} {
		if _, err := s.svc.Transition(ctx, s.org, "spring", a, lottery.TransitionParams{}); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	_, page, _ = s.get("/events/spring?lang=en")
	if !strings.Contains(page, "Final chance of selection (entries frozen)") || !strings.Contains(page, "Final: computed at the freeze") {
		t.Error("event page after freeze does not say the odds are final")
	}
	snaps, _ = s.stats.EventOdds(ctx, ev)
	final := snaps[sub130.ID]
	infos, _ := s.store.Draws(ctx, ev.ID)
	for _, d := range infos {
		if _, err := s.draws.RunDraw(ctx, d.SubQueueID); err != nil {
			t.Fatal(err)
		}
	}
	infos, _ = s.store.Draws(ctx, ev.ID)

	status, page, _ = s.get("/events/spring/results")
	if status != 200 || !strings.Contains(page, "Selection by tickets held") || !strings.Contains(page, "Published chance") {
		t.Fatalf("results page: %d", status)
	}
	if want := fmt.Sprintf("30 applicants holding %d tickets; %d selected in the draw.", final.Tickets, infos[0].Selected); !strings.Contains(page, want) {
		t.Errorf("results page lacks %q", want)
	}
	rows = tableRows(page)
	if len(rows) != 8 {
		t.Fatalf("statistics rows: %v", rows)
	}
	selected := 0
	for i, r := range final.Odds.Rows {
		n, _ := strconv.Atoi(rows[i][2])
		selected += n
		rate := odds.Rate{Entries: r.Entries, Selected: n}.Share()
		share := percent(rate)
		if rate == 0 || rate == 1 {
			share = map[bool]string{true: "100%", false: "0%"}[rate == 1]
		}
		if rows[i][1] != strconv.Itoa(r.Entries) || rows[i][3] != share || rows[i][4] != percent(r.Chance) {
			t.Errorf("statistics row %d: %v (published %.4f)", i, rows[i], r.Chance)
		}
	}
	if selected != infos[0].Selected {
		t.Errorf("rows select %d, the draw %d", selected, infos[0].Selected)
	}
	_, ko, _ = s.get("/events/spring/results?lang=ko")
	for _, want := range []string{"보유 추첨권 수별 당첨 결과", "당첨률", "공개 확률"} {
		if !strings.Contains(ko, want) {
			t.Errorf("Korean results page lacks %q", want)
		}
	}
}
