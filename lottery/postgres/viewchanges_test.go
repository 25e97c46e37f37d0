package postgres_test

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
)

// heard collects what a ViewFeed delivers.
type heard struct {
	mu       sync.Mutex
	payloads []string
	resets   int
}

func (h *heard) changed(p string) { h.mu.Lock(); h.payloads = append(h.payloads, p); h.mu.Unlock() }
func (h *heard) reset()           { h.mu.Lock(); h.resets++; h.mu.Unlock() }

// take returns what was heard so far (sorted) and forgets it.
func (h *heard) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := slices.Sorted(slices.Values(h.payloads))
	h.payloads = nil
	return out
}

// TestViewChangeAnnouncements: migration 00041's (and 00042's) triggers announce, after
// commit, the entry a small change touched, the event of a large one or of
// an event-level table, and nothing for an application's inserts.
func TestViewChangeAnnouncements(t *testing.T) {
	f := newApplyFixture(t)
	ctx := context.Background()
	var db string
	f.store.DB().Raw("SELECT current_database()").Scan(&db)
	u, _ := url.Parse(pgtest.BaseURL())
	u.Path = "/" + db
	h := &heard{}
	feed := postgres.NewViewFeed(u.String(), f.store, slog.New(slog.DiscardHandler), h.changed, h.reset)
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { feed.Run(fctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	<-feed.Ready()

	// An application announces nothing.
	e := f.entry(t, 1, "a")
	if _, err := f.apply(e, f.giveCode(t, e.EmailKey)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.InsertSyntheticEntries(ctx, "race", 80); err != nil {
		t.Fatal(err)
	}
	var ids []string
	f.store.DB().Raw("SELECT id::text FROM entries WHERE id <> ? ORDER BY id LIMIT 3", e.ID).Scan(&ids)

	for _, tc := range []struct {
		name string
		sql  string
		args []any
		want []string
	}{
		{"nothing yet", "SELECT 1", nil, nil},
		{"one entry", "UPDATE entries SET tickets = tickets WHERE id = ?", []any{e.ID}, []string{"e:" + e.ID}},
		{"a few entries", "UPDATE entries SET tickets = tickets WHERE id IN ?", []any{ids}, []string{"e:" + ids[0], "e:" + ids[1], "e:" + ids[2]}},
		{"a statement over many entries", "UPDATE entries SET tickets = tickets", nil, []string{"v:race"}},
		{"no row matched", "UPDATE entries SET tickets = tickets WHERE false", nil, nil},
		{"the event", "UPDATE events SET name = 'Race 2027'", nil, []string{"v:race"}},
		{"a sub-queue", "UPDATE subqueues SET capacity = capacity + 1", nil, []string{"v:race"}},
		// 00042: what the status pages show after the draw
		{"a dispute", "INSERT INTO disputes (event_id, entry_id, message, created_at) SELECT event_id, id, 'a question', now() FROM entries WHERE id = ?",
			[]any{e.ID}, []string{"e:" + e.ID}},
		{"a transfer names both entries", `INSERT INTO transfers (id, event_id, from_entry, to_email, to_email_key, token_hash, state,
				price_minor, fee_minor, to_entry, expires_at)
			SELECT gen_random_uuid(), event_id, id, 'b@example.com', 'b@example.com', 'h', 'pending', 0, 0, ?::uuid, now() + interval '1 hour'
			FROM entries WHERE id = ?`, []any{ids[0], e.ID}, []string{"e:" + e.ID, "e:" + ids[0]}},
		{"a transfer to nobody yet", "UPDATE transfers SET to_entry = NULL", nil, []string{"e:" + e.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.store.DB().Exec(tc.sql, tc.args...).Error; err != nil {
				t.Fatal(err)
			}
			// Sync returns once everything committed before it was delivered.
			sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
			defer scancel()
			if err := feed.Sync(sctx); err != nil {
				t.Fatal(err)
			}
			want := slices.Sorted(slices.Values(tc.want))
			if got := h.take(); !slices.Equal(got, want) {
				t.Errorf("heard %s, want %s", strings.Join(got, " "), strings.Join(want, " "))
			}
		})
	}
	if h.resets != 1 {
		t.Errorf("resets %d, want 1 (the first listen)", h.resets)
	}
}
