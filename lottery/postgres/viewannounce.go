package postgres

import (
	"context"
	"fmt"
)

// Announce tells every process's feed (this one's too) that the views
// under tag changed: for a committed write to rows no trigger of migration
// 00041 watches (a dispute, a transfer), so a page another process holds
// is dropped as surely as after a watched one. Announcements arrive in
// order, so a Sync after Announce returns once this process has dropped
// them.
func (f *ViewFeed) Announce(ctx context.Context, tag string) error {
	if f.store == nil {
		return nil
	}
	if err := f.store.db.WithContext(ctx).Exec("SELECT pg_notify(?, ?)", ViewChannel, tag).Error; err != nil {
		return fmt.Errorf("view feed announce: %w", err)
	}
	return nil
}
