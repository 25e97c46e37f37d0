package registration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/startline/startline/lottery"
)

// CheckIdempotencyKey reports, before an application spends anything, that
// its Idempotency-Key was used for this event with another body:
// ErrIdempotencyMismatch (409). nil when the key is empty, unused, or used
// with this very body (Apply then replays the first answer). The request
// gate calls it before it claims the proof of work, so a reused key is
// answered as the contract says rather than as a spent proof. It only
// reads: Apply still decides under its locks. Errors: ErrNotFound for an
// unknown event, ErrUnavailable.
func (s *Service) CheckIdempotencyKey(ctx context.Context, slug, key string, body []byte) error {
	if key == "" || len(key) > 255 { // Apply refuses an over-long key itself
		return nil
	}
	ev, err := s.events.PublicEvent(ctx, slug)
	if err != nil {
		return err
	}
	prev, found, err := s.store.IdempotencyHash(ctx, ev.ID, key)
	if err != nil {
		return fmt.Errorf("check idempotency key %s: %w", slug, err)
	}
	if h := sha256.Sum256(body); found && !bytes.Equal(prev, h[:]) { // Apply's request hash
		return lottery.ErrIdempotencyMismatch
	}
	return nil
}
