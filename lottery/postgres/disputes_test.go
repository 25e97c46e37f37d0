package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/review"
)

// TestDisputeStore files disputes concurrently against the per-entry limit
// (the entry's row lock makes the count exact), lists them with the entry's
// frozen line, and answers one exactly once, each with its log and audit
// rows.
func TestDisputeStore(t *testing.T) {
	f := newApplyFixture(t)
	ctx := context.Background()
	if _, err := f.store.InsertSyntheticEntries(ctx, "race", 5); err != nil {
		t.Fatal(err)
	}
	f.clk.T = f.clk.T.Add(2 * time.Hour)
	if _, err := f.svc.Transition(ctx, f.org, "race", lottery.ActionFreeze, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	var line struct {
		EntryID   string
		Tickets   int
		GroupCode string
	}
	f.store.DB().Raw("SELECT entry_id::text AS entry_id, tickets, group_code FROM draw_entries ORDER BY entry_id LIMIT 1").Scan(&line)

	allow := func(filed int) error {
		if filed >= lottery.MaxDisputesPerEntry {
			return lottery.ErrDisputeLimit
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.store.FileDispute(ctx, lottery.Dispute{EventID: f.ev.ID, EntryID: line.EntryID, SubQueue: "ten:a",
				Message: "my tickets are wrong", CreatedAt: f.clk.T}, allow)
		}()
	}
	wg.Wait()
	ok, limited := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, lottery.ErrDisputeLimit):
			limited++
		default:
			t.Errorf("file dispute: %v", err)
		}
	}
	if ok != lottery.MaxDisputesPerEntry || limited != len(errs)-ok {
		t.Errorf("%d filed and %d refused of %d, want %d filed", ok, limited, len(errs), lottery.MaxDisputesPerEntry)
	}
	if _, err := f.store.FileDispute(ctx, lottery.Dispute{EventID: f.ev.ID, EntryID: "00000000-0000-0000-0000-000000000000",
		Message: "x", CreatedAt: f.clk.T}, allow); !errors.Is(err, lottery.ErrNotFound) {
		t.Errorf("dispute of an unknown entry: %v", err)
	}

	mine, err := f.store.EntryDisputes(ctx, line.EntryID)
	if err != nil || len(mine) != lottery.MaxDisputesPerEntry {
		t.Fatalf("entry disputes: %v %d", err, len(mine))
	}
	d := mine[0]
	if !d.InList || d.Tickets != line.Tickets || d.Group != line.GroupCode || d.SubQueue == "" || d.EventSlug != "race" || !d.Open() {
		t.Errorf("dispute line: %+v, want %+v", d, line)
	}

	a := review.Answer{DisputeID: d.ID, Outcome: lottery.DisputeUpheld, Text: "The organizer will correct your tickets.",
		Actor: f.org, Now: f.clk.T}
	// A reviewer of another organization finds no such dispute, and changes nothing.
	other := a
	other.Actor.OrgID = f.org.OrgID + 1000
	if _, err := f.store.AnswerDispute(ctx, other); !errors.Is(err, lottery.ErrNotFound) {
		t.Errorf("another organization's answer: %v, want not_found", err)
	}
	got, err := f.store.AnswerDispute(ctx, a)
	if err != nil || got.Outcome != lottery.DisputeUpheld || got.AnsweredAt == nil || got.AnsweredBy != f.org.Email {
		t.Fatalf("answer: %+v %v", got, err)
	}
	if _, err := f.store.AnswerDispute(ctx, a); !errors.Is(err, lottery.ErrConflict) {
		t.Errorf("second answer: %v", err)
	}
	a.DisputeID = 1 << 40
	if _, err := f.store.AnswerDispute(ctx, a); !errors.Is(err, lottery.ErrNotFound) {
		t.Errorf("unknown dispute: %v", err)
	}
	open, err := f.store.EventDisputes(ctx, f.ev.ID, true, 100)
	if err != nil || len(open) != lottery.MaxDisputesPerEntry-1 {
		t.Errorf("open disputes: %v %d", err, len(open))
	}
	all, _ := f.store.EventDisputes(ctx, f.ev.ID, false, 100)
	if len(all) != lottery.MaxDisputesPerEntry || all[len(all)-1].ID != d.ID {
		t.Errorf("answered disputes come last: %+v", all)
	}

	var audits, logs int64
	f.store.DB().Raw("SELECT count(*) FROM audit_log WHERE action IN ('dispute.file', 'dispute.answer')").Scan(&audits)
	f.store.DB().Raw("SELECT count(*) FROM event_log WHERE kind IN ('dispute_filed', 'dispute_answered') AND entry_id = ?", line.EntryID).Scan(&logs)
	if want := int64(lottery.MaxDisputesPerEntry + 1); audits != want || logs != want {
		t.Errorf("audit rows %d, log rows %d, want %d", audits, logs, want)
	}
	var withMessage int64
	f.store.DB().Raw("SELECT count(*) FROM event_log WHERE details::text LIKE '%tickets are wrong%'").Scan(&withMessage)
	if withMessage != 0 {
		t.Error("the event log carries a runner's message")
	}
}
