package postgres

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// SetRetryBackoff sets the step of Transact's retry backoff (tests).
func SetRetryBackoff(s *Store, d time.Duration) { s.retryBackoff = d }

// QueueEntryIntents runs queueEntryIntents in a transaction of its own, as
// the journey's other changes (withdraw, refund, appeal) call it in theirs.
func QueueEntryIntents(ctx context.Context, s *Store, kind string, entryIDs []string, offerID string) error {
	return s.Transact(ctx, func(tx *gorm.DB) error { return queueEntryIntents(ctx, tx, kind, entryIDs, offerID) })
}
