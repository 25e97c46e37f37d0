package worker_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/worker"
)

// TestExpireTransfersPass: the periodic pass expires, from PostgreSQL,
// the open transfers past their end (the giver keeps the place and is
// mailed) and leaves those still open alone.
func TestExpireTransfersPass(t *testing.T) {
	store, _ := pgtest.NewStore(t)
	_, _, _, client := testQueue(t, "test-transfers-")
	clk := &testClock{t: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)}
	_, _, off, _ := drawnWithOffers(t, store, client, clk)
	task := worker.NewExpireTransfersTask("q")
	if task.Type() != worker.TypeExpireTransfers {
		t.Fatalf("task type %s", task.Type())
	}
	db := store.DB()
	var givers []string
	db.Raw("SELECT entry_id::text FROM offers WHERE status = 'pending' ORDER BY id LIMIT 2").Scan(&givers)
	if len(givers) != 2 {
		t.Fatalf("offers: %v", givers)
	}
	now := clk.Now()
	for i, g := range givers {
		db.Exec("UPDATE offers SET status = 'paid' WHERE entry_id = ?", g)
		db.Exec("UPDATE entries SET status = 'confirmed' WHERE id = ?", g)
		ends := now.Add(-time.Minute) // the first is past its end
		if i == 1 {
			ends = now.Add(time.Hour)
		}
		if err := db.Exec(`INSERT INTO transfers (id, event_id, from_entry, to_email, to_email_key, token_hash, state, price_minor,
			fee_minor, created_at, expires_at) SELECT gen_random_uuid(), event_id, id, 'x@example.org', 'x@example.org', ?, 'pending', 0, 0, ?, ?
			FROM entries WHERE id = ?`, "hash"+g, now.Add(-2*time.Hour), ends, g).Error; err != nil {
			t.Fatal(err)
		}
	}
	d := &worker.Drawer{Offers: off, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := d.HandleExpireTransfers(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, g := range givers {
		var st string
		db.Raw("SELECT state FROM transfers WHERE from_entry = ?", g).Scan(&st)
		states = append(states, st)
	}
	if len(states) != 2 || states[0] != "expired" || states[1] != "pending" {
		t.Errorf("states %v, want [expired pending]", states)
	}
	var mailed, logged int64
	db.Raw("SELECT count(*) FROM outbox WHERE intent = 'transfer.ended' AND entry_id = ? AND detail = 'expired:giver'", givers[0]).Scan(&mailed)
	db.Raw("SELECT count(*) FROM event_log WHERE kind = 'transfer.expired' AND entry_id = ?", givers[0]).Scan(&logged)
	if mailed != 1 || logged != 1 {
		t.Errorf("giver mailed %d, logged %d; want 1 and 1", mailed, logged)
	}
	// A second pass finds nothing.
	if n, err := off.ExpireTransfers(context.Background(), 0); err != nil || n != 0 {
		t.Errorf("second pass: %d %v", n, err)
	}
}
