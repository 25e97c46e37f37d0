package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

// TestWithdrawRacesClose: withdrawals racing the event's close are
// serialised by the event row: each one that answers success is logged
// before the close, each refused one left the entry as it was, and the
// freeze after lists exactly the entries not withdrawn.
func TestWithdrawRacesClose(t *testing.T) {
	f := newApplyFixture(t)
	ctx := context.Background()
	if _, err := f.store.InsertSyntheticEntries(ctx, "race", 20); err != nil {
		t.Fatal(err)
	}
	var ids []string
	f.store.DB().Raw("SELECT id::text FROM entries WHERE event_id = ? ORDER BY id", f.ev.ID).Scan(&ids)
	f.clk.T = f.now // inside the window: only the close ends it
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	wg.Add(len(ids) + 1)
	go func() {
		defer wg.Done()
		time.Sleep(15 * time.Millisecond)
		if _, err := f.svc.Transition(ctx, f.org, "race", lottery.ActionClose, lottery.TransitionParams{}); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	for i, id := range ids {
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 4 * time.Millisecond) // some before the close, some after
			errs[i] = f.store.Withdraw(ctx, id, f.now)
		}()
	}
	wg.Wait()
	var closeLog int64
	f.store.DB().Raw(`SELECT id FROM event_log WHERE event_id = ? AND kind = 'event.transition' AND to_status = 'closed'`, f.ev.ID).Scan(&closeLog)
	withdrawn := 0
	for i, id := range ids {
		st := ""
		f.store.DB().Raw("SELECT status FROM entries WHERE id = ?", id).Row().Scan(&st)
		switch {
		case errs[i] == nil:
			withdrawn++
			var logID int64
			f.store.DB().Raw("SELECT id FROM event_log WHERE entry_id = ? AND kind = 'entry.withdrawn'", id).Scan(&logID)
			if st != "withdrawn" || logID == 0 || logID > closeLog {
				t.Errorf("entry %s: withdrawn %q, logged at %d, close at %d", id, st, logID, closeLog)
			}
		case errors.Is(errs[i], lottery.ErrClosed):
			if st != "received" {
				t.Errorf("entry %s refused but %s", id, st)
			}
		default:
			t.Errorf("withdraw %s: %v", id, errs[i])
		}
	}
	t.Logf("%d of %d withdrew before the close", withdrawn, len(ids))

	f.clk.T = f.clk.T.Add(2 * time.Hour)
	if _, err := f.svc.Transition(ctx, f.org, "race", lottery.ActionFreeze, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, `SELECT count(*) FROM draw_entries d JOIN entries e ON e.id = d.entry_id WHERE e.status = 'withdrawn'`); n != 0 {
		t.Errorf("%d withdrawn entries in the frozen lists", n)
	}
	if n := f.count(t, `SELECT count(*) FROM draw_entries`); n != len(ids)-withdrawn {
		t.Errorf("frozen lists hold %d entries, want %d", n, len(ids)-withdrawn)
	}
}
