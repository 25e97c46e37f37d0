package postgres_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/postgres"
)

func hangul(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r >= 0xAC00 && r <= 0xD7A3 })
}

// TestJourneyMails: publishing results queues every waitlisted entry's
// mail with its place, once, in the publish transaction; the intents other
// changes queue with queueEntryIntents (withdrawn, refunded, appealed, not
// drawn) render from the stored rows in the entry's language, with the
// price, the absolute link and times in the event's zone; the reminder pass
// queues one mail per offer when a quarter of its hold (at most 24 h) is
// left, and never again.
func TestJourneyMails(t *testing.T) {
	store, clk, org := drawnEvent(t, "journey")
	ctx := context.Background()
	if err := store.DB().Exec(`UPDATE events SET time_zone = 'Asia/Seoul', currency = 'krw'`).Error; err != nil {
		t.Fatal(err)
	}
	store.DB().Exec(`UPDATE subqueues SET price_minor = 30000`)
	// Every other entry applied in Korean.
	store.DB().Exec(`UPDATE entries SET lang = 'ko' WHERE id IN (SELECT id FROM entries ORDER BY id LIMIT 5)`)
	_, issued, err := store.IssueDrawOffers(ctx, "journey", lottery.OfferTx{Now: clk.T, Hold: 2 * time.Hour}, org.Actor())
	if err != nil {
		t.Fatal(err)
	}
	var waitlisted []struct {
		EntryID string
		Pos     int
	}
	store.DB().Raw(`SELECT entry_id::text, waitlist_position AS pos FROM draw_results WHERE NOT selected`).Scan(&waitlisted)
	var queued []lottery.Mail
	for _, w := range waitlisted {
		var ids []int64
		store.DB().Raw(`SELECT id FROM outbox WHERE intent = ? AND entry_id = ?`, mails.EntryWaitlisted, w.EntryID).Scan(&ids)
		if len(ids) != 1 {
			t.Fatalf("entry %s has %d waitlist mails, want 1", w.EntryID, len(ids))
		}
		m, _ := store.Mail(ctx, ids[0])
		queued = append(queued, m)
	}
	if len(waitlisted) != 6 || len(issued) != 4 {
		t.Fatalf("%d waitlisted, %d offers; want 6 and 4", len(waitlisted), len(issued))
	}
	// Other changes' intents, as their transactions queue them.
	sel, wait := issued[0].Offer, waitlisted[0].EntryID
	for _, k := range []struct {
		kind, entry, offer string
	}{{mails.EntryWithdrawn, sel.EntryID, ""}, {mails.EntryRefunded, sel.EntryID, sel.ID}, {mails.EntryAppealed, wait, ""},
		{mails.EntryNotDrawn, wait, ""}, {mails.EntryWithdrawn, wait, ""}} {
		if err := postgres.QueueEntryIntents(ctx, store, k.kind, []string{k.entry}, k.offer); err != nil {
			t.Fatal(err)
		}
		var id int64
		store.DB().Raw(`SELECT max(id) FROM outbox`).Scan(&id)
		m, _ := store.Mail(ctx, id)
		queued = append(queued, m)
	}

	keys := testKeys(t)
	r := lottery.NewMailRenderer(store, keys, "https://run.example")
	pos := map[string]int{}
	for _, w := range waitlisted {
		pos[w.EntryID] = w.Pos
	}
	langs := map[string]int{}
	for _, m := range queued {
		e, _ := store.Entry(ctx, m.EntryID)
		langs[e.Lang]++
		got, err := r.Render(ctx, m)
		if err != nil {
			t.Fatalf("%s: %v", m.Intent, err)
		}
		where := m.Intent + "/" + e.Lang
		if hangul(got.Body) != (e.Lang == "ko") || got.HTML == "" {
			t.Errorf("%s: not in the entry's language:\n%s", where, got.Body)
		}
		link := "https://run.example/entries/" + e.ID + "?lang=" + e.Lang + "&token=" + keys.ReceiptToken(e.ID)
		if !strings.Contains(got.Body, link+"\n") || !strings.Contains(got.Body, "10K · Pace ") {
			t.Errorf("%s: link or course name missing:\n%s", where, got.Body)
		}
		var want []string
		switch m.Intent {
		case mails.EntryWaitlisted:
			want = []string{map[string]string{"en": "number ", "ko": "대기 순번은 "}[e.Lang] + strconv.Itoa(pos[e.ID])}
		case mails.EntryRefunded:
			want = []string{"₩30,000", "KST"}
		case mails.EntryWithdrawn:
			want = []string{"KST"}
		case mails.EntryAppealed:
			want = []string{map[string]string{"en": "We received your appeal", "ko": "이의 제기가 접수되었습니다"}[e.Lang]}
		}
		for _, w := range want {
			if !strings.Contains(got.Body, w) {
				t.Errorf("%s: lacks %q:\n%s", where, w, got.Body)
			}
		}
	}

	if langs["en"] == 0 || langs["ko"] == 0 {
		t.Errorf("mails rendered per language: %v, want both", langs)
	}
	// Reminders: a 2 h hold is reminded with 30 min left, once.
	if ids, err := store.QueueOfferReminders(ctx, clk.T.Add(80*time.Minute), 100); err != nil || len(ids) != 0 {
		t.Errorf("40 min left of 2 h: %d reminders, %v", len(ids), err)
	}
	ids, err := store.QueueOfferReminders(ctx, clk.T.Add(95*time.Minute), 100)
	if err != nil || len(ids) != 4 {
		t.Fatalf("25 min left: %d reminders, %v; want 4", len(ids), err)
	}
	if again, err := store.QueueOfferReminders(ctx, clk.T.Add(100*time.Minute), 100); err != nil || len(again) != 0 {
		t.Errorf("second pass: %d reminders, %v", len(again), err)
	}
	m, _ := store.Mail(ctx, ids[0])
	if got, err := r.Render(ctx, m); err != nil || !strings.Contains(got.Subject, "KST") {
		t.Errorf("reminder: %q %v", got.Subject, err)
	}
	// Publishing again is refused, so the waitlist is mailed once.
	if _, _, err := store.IssueDrawOffers(ctx, "journey", lottery.OfferTx{Now: clk.T, Hold: 2 * time.Hour}, org.Actor()); err == nil {
		t.Error("results published twice")
	}
}
