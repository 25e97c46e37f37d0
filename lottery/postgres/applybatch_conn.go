package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
)

// The batch statement runs on sessions the batcher keeps, each set once to
// plan_cache_mode = force_generic_plan. PostgreSQL otherwise re-plans the
// prepared statement for every batch (custom plans: 1.4–4 ms of planning
// per statement, as much as its execution for a batch of 15), although the
// plan never depends on the batch (jsonb_to_recordset is estimated at 100
// rows whatever it holds). The setting stays on these sessions: one is
// never handed back to the pool while set.

// batchConn returns a kept session, or a new one set for generic plans.
func (s *Store) batchConn(ctx context.Context) (*sql.Conn, error) {
	select {
	case c := <-s.applies.conns():
		return c, nil
	default:
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	c, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := c.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		s.dropBatchConn(c, err)
		return nil, err
	}
	return c, nil
}

// releaseBatchConn keeps c for the next batch, or lets it go: a broken
// session is closed, a healthy one beyond what the flushers use is reset
// and handed back to the pool.
func (s *Store) releaseBatchConn(c *sql.Conn, err error) {
	if IsConnectionFailure(err) {
		s.dropBatchConn(c, err)
		return
	}
	select {
	case s.applies.conns() <- c:
	default:
		s.dropBatchConn(c, nil)
	}
}

// dropBatchConn gives c back to the pool reset, or closes it when it is
// broken (driver.ErrBadConn from Raw makes database/sql discard it).
func (s *Store) dropBatchConn(c *sql.Conn, err error) {
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), applyBatchTimeout)
		defer cancel()
		_, err = c.ExecContext(ctx, "RESET plan_cache_mode")
	}
	if err != nil {
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = c.Close()
}

// conns is the batcher's kept sessions, made on first use (one per flusher).
func (b *applyBatcher) conns() chan *sql.Conn {
	b.connsOnce.Do(func() { b.kept = make(chan *sql.Conn, cmpOr(b.flushers, defaultApplyFlushers)) })
	return b.kept
}

// closeConns closes the kept sessions (Store.Close), so nothing holds the
// database once the pool is closed.
func (b *applyBatcher) closeConns() {
	for {
		select {
		case c := <-b.conns():
			_ = c.Raw(func(any) error { return driver.ErrBadConn })
			_ = c.Close()
		default:
			return
		}
	}
}
