package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestEarnedTicketsOutliveRetention: retention anonymizes the earlier
// edition (as it does 90 days after its race day, long before the next
// opens), and the runners it did not draw still earn their ticket in the
// next edition — by e-mail, by phone and by name + birth date — through
// the pseudonyms kept in series_earned; the drawn runner earns none, and
// the kept rows hold no key in the clear.
func TestEarnedTicketsOutliveRetention(t *testing.T) {
	f := newTicketsFixture(t)
	ctx := context.Background()
	past := []runner{
		{"Jane Doe", "jane.doe@gmail.com", "+821011110001", "1985-02-03"},
		{"Kim Minjun", "minjun@example.com", "+821011110002", "1990-05-01"},
		{"Lee Seoyeon", "seoyeon@example.com", "+821011110003", "1992-07-08"},
	}
	pastIDs, selected := f.drawnEdition(t, "past", 2025, past)
	var pastID int64
	f.store.DB().Raw("SELECT id FROM events WHERE slug = 'past'").Scan(&pastID)
	n, err := f.store.AnonymizeEvent(ctx, pastID, f.clk.T)
	if err != nil || n != 3 {
		t.Fatalf("anonymize: %d, %v", n, err)
	}
	var kept, clear int64
	f.store.DB().Raw("SELECT count(*) FROM series_earned WHERE event_id = ?", pastID).Scan(&kept)
	f.store.DB().Raw(`SELECT count(*) FROM series_earned WHERE email_hash LIKE '%@%' OR phone_hash LIKE '+%' OR person_hash LIKE '%|%'`).Scan(&clear)
	if kept != 2 || clear != 0 {
		t.Errorf("kept %d pseudonym rows (want 2: the runners not drawn), %d in the clear", kept, clear)
	}
	var leftKeys int64
	f.store.DB().Raw("SELECT count(*) FROM entries WHERE event_id = ? AND email_key NOT LIKE 'erased:%'", pastID).Scan(&leftKeys)
	if leftKeys != 0 {
		t.Fatalf("%d entries of the anonymized edition keep their keys", leftKeys)
	}

	f.clk.T = f.clk.T.Add(24 * time.Hour)
	f.event(t, "now", 2026, 10)
	now := []runner{
		{"Jane Doe", "JaneDoe@GMAIL.com", "+821022220001", "1985-02-03"},          // by e-mail key
		{"minjun KIM", "minjun.new@example.org", "+821022220002", "1990-05-01"},   // by name + birth date
		{"Lee Seoyeon", "seoyeon.lee@example.org", "+821011110003", "1992-07-01"}, // by phone
	}
	for i, r := range now {
		e := f.apply(t, "now", r, nil)
		want, labels := 1, []string{"2025"}
		if slices.Contains(selected, pastIDs[i]) {
			want, labels = 0, nil
		}
		if e.RecordedApplications != want || e.Tickets != 1<<want || !slices.Equal(e.TicketRecord.Labels(), labels) {
			t.Errorf("%s: recorded %d, tickets %d, counted %v; want %d, %d, %v", r.email, e.RecordedApplications, e.Tickets,
				e.TicketRecord.Labels(), want, 1<<want, labels)
		}
	}
}
