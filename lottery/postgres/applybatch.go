package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/startline/startline/lottery/registration"
)

// Group commit of applications (issue 16).
//
// An apply in its own transaction costs seven round trips and a commit
// (applyTx); PostgreSQL's commit rate, not the work, is the ceiling. The
// batcher writes the applications that arrive while earlier ones are being
// written as ONE statement (applyBatchSQL: data-modifying CTEs over the
// batch), which is one round trip and one commit for all of them, and
// answers each caller with the outcome applyTx would have given it.
//
// There is no timer: a flusher takes everything queued (up to maxBatch) the
// moment it is free, so a lone apply is written at once and a rush fills
// the batches by itself. At most flushers batches are in flight.

const (
	// Measured at 256 clients on 2 cores (BenchmarkApplyClients): eight
	// statements in flight keep both cores of PostgreSQL busy, where four
	// left one waiting on the other's commit; batches then hold ~13.
	defaultApplyBatch    = 64
	defaultApplyFlushers = 8
	// applyBatchTimeout bounds a batch that the database never answers; each
	// caller still gives up on its own context first.
	applyBatchTimeout = 30 * time.Second
)

// ApplyBatching tunes the group commit of applications: at most Max applies
// per statement, at most Flushers statements in flight; Off writes every
// apply in its own transaction (applyTx).
type ApplyBatching struct {
	Max      int
	Flushers int
	Off      bool
}

// SetApplyBatching tunes the group commit; call it before serving.
func (s *Store) SetApplyBatching(c ApplyBatching) {
	s.applies.mu.Lock()
	defer s.applies.mu.Unlock()
	s.applies.max, s.applies.flushers, s.applies.off = c.Max, c.Flushers, c.Off
}

type applyBatcher struct {
	mu       sync.Mutex
	max      int
	flushers int
	off      bool
	queue    []*applyCall
	running  int
	batches  int64 // statements written, for benchmarks
	members  int64 // applies written by them
	// kept holds the sessions the batch statement runs on (applybatch_conn.go).
	connsOnce sync.Once
	kept      chan *sql.Conn
}

// applyCall is one caller waiting for its batch.
type applyCall struct {
	ctx  context.Context
	a    registration.ApplyTx
	done chan applyAnswer // buffered: the flusher never waits for a caller
}

type applyAnswer struct {
	out registration.ApplyOutcome
	err error
}

// batchable tells the applications the batch statement writes: the rare
// ones (a group code under its advisory lock, a card on file, an admission
// with its cascade) keep their own transaction.
func batchable(a registration.ApplyTx) bool {
	return a.Entry.GroupCode == "" && a.Card == nil && a.Admission == nil
}

// conflictKeys are what two applications of one batch must not share, so
// that one statement's CTEs (which do not see each other's writes) decide
// each as its own transaction would: the code row and identity keys (one
// entry per person) and the Idempotency-Key.
func conflictKeys(a registration.ApplyTx) []string {
	ev := strconv.FormatInt(a.Entry.EventID, 10) + "\x00"
	keys := []string{ev + "e\x00" + a.Entry.EmailKey, ev + "p\x00" + a.Entry.Phone}
	if a.Entry.PersonKey != "" {
		keys = append(keys, ev+"k\x00"+a.Entry.PersonKey)
	}
	if a.IdempotencyKey != "" {
		keys = append(keys, ev+"i\x00"+a.IdempotencyKey)
	}
	return keys
}

// assemble takes the next batch from the queue in arrival order: at most max
// calls, none sharing a conflict key with an earlier one. A conflicting call
// stays queued (in order) for a later batch, which may run alongside this
// one: the code row's lock and the unique indexes then order the two as
// they order concurrent transactions (one wins, the other is a duplicate,
// a used code or a replay).
func assemble(queue []*applyCall, max int) (batch, rest []*applyCall) {
	seen := make(map[string]struct{}, 4*min(len(queue), max))
	for i, c := range queue {
		if len(batch) == max {
			return batch, append(rest, queue[i:]...)
		}
		keys := conflictKeys(c.a)
		clash := false
		for _, k := range keys {
			if _, ok := seen[k]; ok {
				clash = true
				break
			}
		}
		if clash {
			rest = append(rest, c)
			continue
		}
		for _, k := range keys {
			seen[k] = struct{}{}
		}
		batch = append(batch, c)
	}
	return batch, rest
}

// submit queues a and waits for its batch's commit (or for ctx).
func (b *applyBatcher) submit(ctx context.Context, s *Store, a registration.ApplyTx) (registration.ApplyOutcome, error) {
	if err := ctx.Err(); err != nil {
		return registration.ApplyOutcome{}, unavailable(err)
	}
	c := &applyCall{ctx: ctx, a: a, done: make(chan applyAnswer, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	spawn := b.running < cmpOr(b.flushers, defaultApplyFlushers)
	if spawn {
		b.running++
	}
	b.mu.Unlock()
	if spawn {
		go b.run(s)
	}
	select {
	case r := <-c.done:
		return r.out, r.err
	case <-ctx.Done():
		// The batch goes on without this caller; its entry may still
		// commit, as when a client drops after sending.
		return registration.ApplyOutcome{}, fmt.Errorf("apply: %w", unavailable(ctx.Err()))
	}
}

// run flushes batches while applications are queued.
func (b *applyBatcher) run(s *Store) {
	for {
		b.mu.Lock()
		batch, rest := assemble(b.queue, cmpOr(b.max, defaultApplyBatch))
		b.queue = rest
		if len(batch) == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		b.batches++
		b.members += int64(len(batch))
		b.mu.Unlock()
		s.flushApplies(batch)
	}
}

// ApplyBatchStats reports how many batch statements were written and how
// many applications they held (benchmarks report the mean batch size).
func (s *Store) ApplyBatchStats() (batches, members int64) {
	s.applies.mu.Lock()
	defer s.applies.mu.Unlock()
	return s.applies.batches, s.applies.members
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
