package registration

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/startline/startline/lottery"
)

// ReceiptValid reports whether token is the receipt of entry entryID (an
// HMAC check, no I/O): the read cache asks it before answering from
// memory, so a cached status is never shown without its token.
func (s *Service) ReceiptValid(entryID, token string) bool {
	if _, err := uuid.Parse(entryID); err != nil {
		return false
	}
	return s.keys.CheckReceipt(strings.ToLower(entryID), token)
}

// EntryStatus returns an entry to the holder of its receipt token. A wrong
// token is ErrNotFound, exactly as an unknown id, so nothing leaks.
func (s *Service) EntryStatus(ctx context.Context, entryID, token string) (lottery.EntryView, error) {
	if !s.ReceiptValid(entryID, token) {
		return lottery.EntryView{}, lottery.ErrNotFound
	}
	e, err := s.store.Entry(ctx, strings.ToLower(entryID))
	if err != nil {
		return lottery.EntryView{}, fmt.Errorf("entry status: %w", err)
	}
	ev, err := s.events.CachedEvent(ctx, e.EventSlug)
	if err != nil {
		return lottery.EntryView{}, fmt.Errorf("entry status: %w", err)
	}
	if e.Consents, err = s.store.EntryConsents(ctx, e.ID); err != nil {
		return lottery.EntryView{}, fmt.Errorf("entry status: %w", err)
	}
	v := lottery.EntryView{Entry: e, Event: ev}
	if v.Card, err = s.EntryCard(ctx, ev, e.ID); err != nil { // issue 15: card on file (cards.go)
		return lottery.EntryView{}, fmt.Errorf("entry status: %w", err)
	}
	// Ordered sub-queues offer slots as runners apply, not at publication.
	if ev.ResultsPublishedAt != nil || e.Status == lottery.EntryOffered || e.Status == lottery.EntryConfirmed ||
		e.Status == lottery.EntryDeclined || e.Status == lottery.EntryExpired || e.Status == lottery.EntryWithdrawn {
		o, err := s.store.EntryOffer(ctx, e.ID)
		if err == nil {
			v.Offer = &o
		} else if !errors.Is(err, lottery.ErrNotFound) {
			return lottery.EntryView{}, fmt.Errorf("entry status: %w", err)
		}
	}
	if ev.Status == lottery.EventDrawn || ev.Status == lottery.EventSettled {
		p, err := s.store.EntryPlace(ctx, e.ID)
		if err == nil {
			v.Place = &p
		} else if !errors.Is(err, lottery.ErrNotFound) {
			return lottery.EntryView{}, fmt.Errorf("entry status: %w", err)
		}
	}
	return v, nil
}
