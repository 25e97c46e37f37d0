package postgres

import (
	"context"
	"fmt"
)

// IdempotencyHash reads the request hash an application stored with its
// Idempotency-Key (idempotency_keys, written by Apply in its transaction).
func (s *Store) IdempotencyHash(ctx context.Context, eventID int64, key string) ([]byte, bool, error) {
	var rows []struct{ RequestHash []byte }
	err := s.db.WithContext(ctx).Raw(`SELECT request_hash FROM idempotency_keys WHERE event_id = ? AND key = ?`,
		eventID, key).Scan(&rows).Error
	if err != nil {
		// A raw read outside Transact: mark an outage here (503), as notFound does.
		return nil, false, fmt.Errorf("idempotency hash: %w", err)
	}
	if len(rows) == 0 {
		return nil, false, nil
	}
	return rows[0].RequestHash, true, nil
}
