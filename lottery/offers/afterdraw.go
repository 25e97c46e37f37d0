package offers

import (
	"context"
	"fmt"
	"time"

	"github.com/startline/startline/lottery"
)

// AfterDraw is what the console's "After the draw" tab shows of an event:
// its transfer and deferral terms and how they have been used.
type AfterDraw struct {
	Transfer TransferPolicy
	Deferral lottery.DeferralSettings
	// TransfersDone are paid (the place moved); TransfersOpen are pending,
	// in review or verified and not past their end.
	TransfersDone, TransfersOpen int
	// DeferralsHeld wait for the next edition; DeferralsUsed have an entry there.
	DeferralsHeld, DeferralsUsed int
}

// AfterDrawStore reads an event's AfterDraw (lottery/postgres).
type AfterDrawStore interface {
	// AfterDraw returns the event's transfer policy and the counts;
	// ErrNotFound. Deferral terms come from DeferStore.
	AfterDraw(ctx context.Context, eventID int64, now time.Time) (AfterDraw, error)
}

// AfterDraw returns an event's transfer and deferral terms with their
// counts, for organizers of its organization (another's: ErrNotFound).
func (s *Service) AfterDraw(ctx context.Context, actor lottery.StaffAccount, slug string) (AfterDraw, error) {
	st, ok := s.store.(AfterDrawStore)
	if !ok {
		return AfterDraw{}, &lottery.Error{Code: lottery.CodeUnavailable, Message: "transfers are not configured"}
	}
	ev, err := s.managedEvent(ctx, actor, slug)
	if err != nil {
		return AfterDraw{}, fmt.Errorf("after the draw %s: %w", slug, err)
	}
	out, err := st.AfterDraw(ctx, ev.ID, s.clock.Now())
	if err != nil {
		return AfterDraw{}, fmt.Errorf("after the draw %s: %w", slug, err)
	}
	if out.Deferral, err = s.store.DeferralSettings(ctx, ev.ID); err != nil {
		return AfterDraw{}, fmt.Errorf("after the draw %s: %w", slug, err)
	}
	return out, nil
}
