package postgres_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

// draftSpec is a draft with the given courses, each with a drawn and an
// ordered pace group.
func draftSpec(opens time.Time, name string, courses ...string) lottery.EventSpec {
	s := lottery.EventSpec{Slug: "draft", Name: name, OpensAt: opens, ClosesAt: opens.Add(time.Hour)}
	for i, c := range courses {
		s.Courses = append(s.Courses, lottery.CourseSpec{Code: c, Name: "Course " + c, DistanceKM: float64(5 * (i + 1)),
			PaceGroups: []lottery.PaceGroupSpec{
				{Code: "fast", Capacity: 10 * (i + 1), Mode: "lottery", Price: 1000},
				{Code: "open", Capacity: 100 + i, Mode: "ordered", AdmitPerMinute: 7}}})
	}
	return s
}

func TestReplaceDraftStore(t *testing.T) {
	store, svc, _, clk, org := drawService(t, nil)
	ctx := context.Background()
	opens := clk.T.Add(24 * time.Hour)
	if _, err := svc.CreateEvent(ctx, org, draftSpec(opens, "First", "5k", "10k")); err != nil {
		t.Fatal(err)
	}
	before, err := store.EventBySlug(ctx, "draft")
	if err != nil {
		t.Fatal(err)
	}
	spec := draftSpec(opens.Add(time.Hour), "Renamed", "5k", "half", "full")
	spec.MaxGroupSize, spec.TicketRule, spec.OfferHold = 4, lottery.TicketRuleDoubling, "2h"
	spec.Details = lottery.DetailsSpec{Place: "Seoul", Currency: "USD"}
	ev, err := svc.ReplaceDraft(ctx, org, "draft", spec)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != before.ID || ev.OrgID != before.OrgID || ev.Name != "Renamed" || !ev.OpensAt.Equal(opens.Add(time.Hour)) ||
		ev.MaxGroupSize != 4 || ev.TicketRule != lottery.TicketRuleDoubling || ev.OfferHold != 2*time.Hour ||
		ev.Place != "Seoul" || ev.Currency != "usd" || ev.Status != lottery.EventDraft {
		t.Fatalf("replaced event = %+v", ev)
	}
	if len(ev.Courses) != 3 || ev.Courses[1].Code != "half" || ev.Courses[2].DistanceKM != 15 {
		t.Fatalf("courses = %+v", ev.Courses)
	}
	for i, c := range ev.Courses {
		fast, open := c.PaceGroups[0], c.PaceGroups[1]
		if fast.Capacity != 10*(i+1) || fast.Mode != lottery.ModeLottery || open.Capacity != 100+i ||
			open.Mode != lottery.ModeOrdered || open.AdmitPerMinute != 7 || fast.Price != 1000 {
			t.Fatalf("course %d pace groups = %+v", i, c.PaceGroups)
		}
	}
	// One line per ordered pace group, none left from the old courses.
	var lines int64
	db := store.DB().WithContext(ctx)
	if err := db.Raw(`SELECT count(*) FROM queue_lines WHERE event_id = ?`, ev.ID).Scan(&lines).Error; err != nil || lines != 3 {
		t.Fatalf("lines = %d, %v; want 3", lines, err)
	}
	var stale int64
	db.Raw(`SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relname = ANY(?)`, seqNames(before)).Scan(&stale)
	if stale != 0 {
		t.Fatalf("%d place sequences of the old lines left", stale)
	}
	var logged, audited int64
	db.Raw(`SELECT count(*) FROM event_log WHERE event_id = ? AND kind = 'event.draft_replaced'`, ev.ID).Scan(&logged)
	db.Raw(`SELECT count(*) FROM audit_log WHERE action = 'event.draft_replaced' AND target = 'draft' AND staff_id = ?`, org.ID).Scan(&audited)
	if logged != 1 || audited != 1 {
		t.Fatalf("event_log %d, audit_log %d; want 1 each", logged, audited)
	}

	// The slug cannot change; another organization's draft is not found.
	moved := spec
	moved.Slug = "other"
	if _, err := svc.ReplaceDraft(ctx, org, "draft", moved); fieldOf(err) != "slug" {
		t.Fatalf("changed slug: %v", err)
	}
	rival := org
	rival.OrgID += 1000
	if _, err := svc.ReplaceDraft(ctx, rival, "draft", spec); !errors.Is(err, lottery.ErrNotFound) {
		t.Fatalf("other organization: %v", err)
	}
	// A refused spec stores nothing.
	bad := spec
	bad.Courses = append([]lottery.CourseSpec(nil), spec.Courses...)
	bad.Courses[2].PaceGroups = []lottery.PaceGroupSpec{{Code: "x", Capacity: -1}}
	if _, err := svc.ReplaceDraft(ctx, org, "draft", bad); fieldOf(err) != "courses[2].pace_groups[0].capacity" {
		t.Fatalf("bad capacity: %v", err)
	}
	if again, _ := store.EventBySlug(ctx, "draft"); len(again.Courses) != 3 || again.Courses[2].PaceGroups[0].Capacity != 30 {
		t.Fatalf("refused spec changed the draft: %+v", again.Courses)
	}

	// Published: refused, by the service and by the store's own check.
	if _, err := svc.Transition(ctx, org, "draft", "publish", lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ReplaceDraft(ctx, org, "draft", spec); !errors.Is(err, lottery.ErrNotDraft) {
		t.Fatalf("published: %v", err)
	}
	built, _ := spec.Build()
	built.ID, built.OrgID = ev.ID, ev.OrgID
	if _, err := store.ReplaceDraft(ctx, built, org.Actor()); !errors.Is(err, lottery.ErrNotDraft) {
		t.Fatalf("store, published: %v", err)
	}
}

func seqNames(ev lottery.Event) []string {
	var out []string
	for _, c := range ev.Courses {
		for _, p := range c.PaceGroups {
			out = append(out, "queue_place_"+strconv.FormatInt(p.ID, 10))
		}
	}
	return out
}

// fieldOf is the field a coded error names, "" for none.
func fieldOf(err error) string {
	var e *lottery.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
