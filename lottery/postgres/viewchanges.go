package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// ViewChannel is where the database announces committed changes of the data
// under read views (migration 00041): payloads "e:<entry id>" and
// "v:<event slug>", the tags of internal/readcache.
const ViewChannel = "startline_views"

// ViewFeed holds one connection LISTENing on ViewChannel and hands each
// announcement to Changed. After each (re)connect it calls Reset first:
// announcements made while it was away are lost, so the views they would
// have dropped must go. One per process; it is what keeps every process's
// in-memory views consistent with every writer's commits.
type ViewFeed struct {
	dsn     string
	store   *Store
	log     *slog.Logger
	changed func(payload string)
	reset   func()

	once  sync.Once
	ready chan struct{}

	syncMu  sync.Mutex
	syncSeq uint64
	syncID  string                   // this feed's sync payload prefix
	waiting map[string]chan struct{} // sync payload → closed when it arrives
}

// syncPrefix starts the payloads of Sync's own announcements.
const syncPrefix = "sync:"

// NewViewFeed returns a feed for the database at dsn; Run starts it. store
// (on the same database) sends Sync's announcements; nil: Sync returns at
// once.
func NewViewFeed(dsn string, store *Store, log *slog.Logger, changed func(payload string), reset func()) *ViewFeed {
	return &ViewFeed{dsn: dsn, store: store, log: log, changed: changed, reset: reset, ready: make(chan struct{}),
		syncID: syncPrefix + randomID() + ":", waiting: map[string]chan struct{}{}}
}

// Sync returns once every change committed before it was called has been
// handed to Changed (or ctx ends): it announces a marker of its own and
// waits for it, and announcements arrive in commit order. A write request
// calls it before answering, so the same process's next read shows the
// write (read-your-writes); other processes see it as soon as their feed
// delivers the same announcement, typically well under a millisecond.
func (f *ViewFeed) Sync(ctx context.Context) error {
	if f.store == nil {
		return nil
	}
	f.syncMu.Lock()
	f.syncSeq++
	marker := fmt.Sprintf("%s%d", f.syncID, f.syncSeq)
	done := make(chan struct{})
	f.waiting[marker] = done
	f.syncMu.Unlock()
	defer func() {
		f.syncMu.Lock()
		delete(f.waiting, marker)
		f.syncMu.Unlock()
	}()
	if err := f.store.db.WithContext(ctx).Exec("SELECT pg_notify(?, ?)", ViewChannel, marker).Error; err != nil {
		return fmt.Errorf("view feed sync: %w", err)
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("view feed sync: %w", ctx.Err())
	}
}

// deliver hands a payload on, or wakes the Sync waiting on it.
func (f *ViewFeed) deliver(payload string) {
	if strings.HasPrefix(payload, syncPrefix) {
		f.syncMu.Lock()
		if done, ok := f.waiting[payload]; ok {
			close(done)
			delete(f.waiting, payload)
		}
		f.syncMu.Unlock()
		return
	}
	f.changed(payload)
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Ready is closed once the feed first listens: from then on no committed
// change is missed (tests wait on it before changing data).
func (f *ViewFeed) Ready() <-chan struct{} { return f.ready }

// Run listens until ctx ends, reconnecting with backoff.
func (f *ViewFeed) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := f.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		f.log.WarnContext(ctx, "view change feed lost; cached views are dropped on reconnect", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (f *ViewFeed) listen(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgx.Connect(cctx, f.dsn)
	cancel()
	if err != nil {
		return fmt.Errorf("view feed connect: %w", err)
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(c)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+ViewChannel); err != nil {
		return fmt.Errorf("view feed listen: %w", err)
	}
	f.reset()
	f.once.Do(func() { close(f.ready) })
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("view feed wait: %w", err)
		}
		f.deliver(n.Payload)
	}
}
