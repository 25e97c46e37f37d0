package postgres_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
)

// TestViewFeedAnnounce: a tag one process announces (a write to rows no
// trigger watches) reaches every process's feed, its own by the time its
// Sync returns.
func TestViewFeedAnnounce(t *testing.T) {
	store, dsn := pgtest.NewStore(t)
	ctx := context.Background()
	start := func(h *heard) *postgres.ViewFeed {
		feed := postgres.NewViewFeed(dsn, store, slog.New(slog.DiscardHandler), h.changed, h.reset)
		fctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { feed.Run(fctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		<-feed.Ready()
		return feed
	}
	mine, theirs := &heard{}, &heard{}
	a, b := start(mine), start(theirs)
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.Announce(sctx, "e:00000000-0000-0000-0000-000000000001"); err != nil {
		t.Fatal(err)
	}
	if err := a.Sync(sctx); err != nil {
		t.Fatal(err)
	}
	if got := mine.take(); !slices.Equal(got, []string{"e:00000000-0000-0000-0000-000000000001"}) {
		t.Errorf("this process heard %v", got)
	}
	if err := b.Sync(sctx); err != nil { // b's marker follows the announcement
		t.Fatal(err)
	}
	if got := theirs.take(); !slices.Equal(got, []string{"e:00000000-0000-0000-0000-000000000001"}) {
		t.Errorf("the other process heard %v", got)
	}
}
