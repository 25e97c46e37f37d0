package offers

import (
	"context"
	"fmt"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
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

// TransferSweepStore expires open transfers past their end in bulk
// (lottery/postgres).
type TransferSweepStore interface {
	// ExpireTransfers expires up to limit open transfers past their end
	// at now, each under its giver's offer lock, logged and mailed (a
	// recipient with no entry yet by the mail invitee renders); it returns
	// how many it expired.
	ExpireTransfers(ctx context.Context, now time.Time, limit int,
		invitee func(t Transfer, lang string) (lottery.Mail, error)) (int, error)
}

// sweepBatch is how many transfers one store call expires.
const sweepBatch = 100

// ExpireTransfers expires every open transfer past its end, at most max
// (0: no bound) in one pass: the recipient's hold ends and both sides are
// mailed. Transfers are otherwise only expired when touched; this pass
// makes the end happen on time.
func (s *Service) ExpireTransfers(ctx context.Context, max int) (int, error) {
	st, ok := s.store.(TransferSweepStore)
	if !ok {
		return 0, nil // no transfers configured: nothing to sweep
	}
	total := 0
	for max <= 0 || total < max {
		batch := sweepBatch
		if max > 0 {
			batch = min(batch, max-total)
		}
		n, err := st.ExpireTransfers(ctx, s.clock.Now(), batch, func(t Transfer, lang string) (lottery.Mail, error) {
			return s.transferExpiredMail(ctx, t, lang)
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("expire transfers: %w", err)
		}
		if n < batch {
			break
		}
	}
	return total, nil
}

// transferExpiredMail tells a named recipient who never took the link up
// that it expired (rendered now: they have no entry to render it from).
func (s *Service) transferExpiredMail(ctx context.Context, t Transfer, lang string) (lottery.Mail, error) {
	ev, err := s.events.CachedEvent(ctx, t.EventSlug)
	if err != nil {
		return lottery.Mail{}, err
	}
	m, err := mails.Render(mails.TransferEnded, lang, mails.EntryData{Event: ev.Name, SubQueue: ev.SubQueueName(t.SubQueue),
		Status: "expired:invitee"})
	if err != nil {
		return lottery.Mail{}, err
	}
	return lottery.Mail{To: t.ToEmail, Subject: m.Subject, Body: m.Body, HTML: m.HTML, Kind: "transfer", Intent: mails.TransferEnded}, nil
}
