package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/checkin"
)

// TestRecordPickupOnce: two staff scanning the same confirmed entry at
// once record one pickup; the other is refused with when, and the event
// log and audit log have one row each.
func TestRecordPickupOnce(t *testing.T) {
	ctx := context.Background()
	store, ev, full, _ := dashboardEvent(t, "pickup")
	org, err := store.StaffByEmail(ctx, "org@example.com")
	if err != nil {
		t.Fatal(err)
	}
	id := "0b7c5a8e-1f2d-4c3b-9a8e-7d6c5b4a3f21"
	if err := store.DB().Exec(`INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, status, bib)
		VALUES (?, ?, ?, 'Kim Minji', 'm@example.com', 'm@example.com', '+821012345678', '1991-05-06', 'confirmed', 1042)`,
		id, ev.ID, full).Error; err != nil {
		t.Fatal(err)
	}
	e, err := store.CheckinEntry(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "Kim Minji" || e.BirthDate.Year() != 1991 || e.Bib != 1042 || e.SubQueue != "full:open" ||
		e.EventSlug != "pickup" || e.OrgID != org.OrgID || e.EventState != lottery.EventPublished || e.Status != lottery.EntryConfirmed || e.PickedUpAt != nil {
		t.Fatalf("check-in entry = %+v", e)
	}
	if _, err := store.CheckinEntry(ctx, "1b7c5a8e-1f2d-4c3b-9a8e-7d6c5b4a3f21"); !errors.Is(err, lottery.ErrNotFound) {
		t.Fatalf("unknown entry: %v", err)
	}
	now := time.Date(2027, 4, 4, 7, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = store.RecordPickup(ctx, id, now.Add(time.Duration(i)*time.Second), org.Actor(),
				func(e checkin.Entry) error { return checkin.CheckPickup(e, now) })
		}()
	}
	wg.Wait()
	ok, refused := 0, 0
	for _, err := range errs {
		var r *checkin.Refusal
		switch {
		case err == nil:
			ok++
		case errors.As(err, &r) && r.Code == checkin.CodeAlreadyPickedUp && r.At != nil:
			refused++
		default:
			t.Errorf("pickup: %v", err)
		}
	}
	if ok != 1 || refused != 1 {
		t.Fatalf("two pickups at once: %d recorded, %d refused; want 1 and 1", ok, refused)
	}
	e, err = store.CheckinEntry(ctx, id)
	if err != nil || e.PickedUpAt == nil || e.PickedUpBy != org.ID {
		t.Fatalf("after pickup: %+v, %v", e, err)
	}
	var logs, audits int64
	store.DB().Raw(`SELECT count(*) FROM event_log WHERE entry_id = ? AND kind = 'entry.picked_up'`, id).Scan(&logs)
	store.DB().Raw(`SELECT count(*) FROM audit_log WHERE action = 'entry.picked_up' AND staff_id = ?`, org.ID).Scan(&audits)
	if logs != 1 || audits != 1 {
		t.Fatalf("event log rows %d, audit rows %d; want 1 each", logs, audits)
	}
}
