package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/startline/startline/lottery/postgres"
	"github.com/startline/startline/lottery/postgres/pgtest"
)

// TestTransactRetriesSerializationFailures: a serialization failure or a
// deadlock runs the transaction again, a bounded number of times.
func TestTransactRetriesSerializationFailures(t *testing.T) {
	store, _ := pgtest.NewStore(t)
	postgres.SetRetryBackoff(store, time.Millisecond)
	for _, tc := range []struct {
		name      string
		failures  int // attempts that fail before one succeeds
		wantCalls int
		wantErr   bool
	}{
		{"first attempt", 0, 1, false},
		{"after two serialization failures", 2, 3, false},
		{"gives up after five", 10, 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := store.Transact(context.Background(), func(tx *gorm.DB) error {
				calls++
				if calls <= tc.failures {
					return &pgconn.PgError{Code: "40001"}
				}
				return nil
			})
			if calls != tc.wantCalls || (err != nil) != tc.wantErr {
				t.Errorf("Transact: %d calls, err %v; want %d calls, error %v", calls, err, tc.wantCalls, tc.wantErr)
			}
		})
	}
}

// TestTransactCancelledStopsRetrying: a context cancelled while Transact
// waits to retry ends the wait at once, with the context's error; it does
// not sleep out the backoff first.
func TestTransactCancelledStopsRetrying(t *testing.T) {
	store, _ := pgtest.NewStore(t)
	postgres.SetRetryBackoff(store, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	start := time.Now()
	err := store.Transact(ctx, func(tx *gorm.DB) error {
		calls++
		time.AfterFunc(50*time.Millisecond, cancel) // during the backoff
		return &pgconn.PgError{Code: "40P01"}
	})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Transact took %v after its context was cancelled", d)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Transact = %v, want context.Canceled", err)
	}
	if calls != 1 {
		t.Errorf("fn ran %d times, want 1", calls)
	}
}
