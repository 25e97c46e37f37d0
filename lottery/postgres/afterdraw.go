package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
)

var _ offers.AfterDrawStore = (*Store)(nil)

// AfterDraw reads an event's transfer policy and the counts of its
// transfers and deferrals (the console's "After the draw" tab).
func (s *Store) AfterDraw(ctx context.Context, eventID int64, now time.Time) (offers.AfterDraw, error) {
	var rows []struct {
		Deadline               *time.Time
		Max                    int
		FeeMinor               int64
		Done, Open, Held, Used int
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT ev.transfer_deadline AS deadline, ev.transfer_max AS max, ev.transfer_fee_minor AS fee_minor,
			(SELECT count(*) FROM transfers WHERE event_id = ev.id AND state = 'paid') AS done,
			(SELECT count(*) FROM transfers WHERE event_id = ev.id AND state IN ('pending', 'review', 'verified') AND expires_at > ?) AS open,
			(SELECT count(*) FROM deferrals WHERE from_event_id = ev.id AND state = 'held') AS held,
			(SELECT count(*) FROM deferrals WHERE from_event_id = ev.id AND state = 'used') AS used
		FROM events ev WHERE ev.id = ?`, now, eventID).Scan(&rows).Error; err != nil {
		return offers.AfterDraw{}, fmt.Errorf("after the draw: %w", err)
	}
	if len(rows) == 0 {
		return offers.AfterDraw{}, lottery.ErrNotFound
	}
	r := rows[0]
	return offers.AfterDraw{Transfer: offers.TransferPolicy{Deadline: r.Deadline, Max: r.Max, FeeMinor: r.FeeMinor},
		TransfersDone: r.Done, TransfersOpen: r.Open, DeferralsHeld: r.Held, DeferralsUsed: r.Used}, nil
}
