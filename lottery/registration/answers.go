package registration

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/startline/startline/lottery"
)

// checkForm validates an application's answers and consents against the
// event's form (lottery.Form rules), answers first, in question order.
func (s *Service) checkForm(ev *lottery.Event, answers map[string]any, consents map[string]string, now time.Time) (lottery.Answers, []lottery.Consent, error) {
	form := ev.Form.WithDefaults()
	a, err := form.CheckAnswers(answers, s.cfg.PhoneRegion)
	if err != nil {
		return nil, nil, err
	}
	if consents == nil && ev.Form.Implicit() {
		// API.md's fixed apply body has no consents: a script applying to an
		// event created with API.md's fixed spec (no form of its own) is
		// taken without consent rows. The web form always sends the map, so
		// a person always ticks both; an event with its own documents or
		// questions requires them from every client.
		return a, nil, nil
	}
	c, err := form.CheckConsents(consents, now)
	if err != nil {
		return nil, nil, err
	}
	return a, c, nil
}

// CheckForm validates answers and consents for an event's form without
// storing anything: the web form checks them before it mails the code, so
// the runner fixes them beside the field, with their input kept.
func (s *Service) CheckForm(ctx context.Context, slug string, answers map[string]any, consents map[string]string) error {
	ev, err := s.events.PublicEvent(ctx, slug)
	if err != nil {
		return err
	}
	_, _, err = s.checkForm(&ev, answers, consents, s.clock.Now())
	return err
}

// EditAnswers replaces the answers of the entry in the path for the holder
// of its receipt token while registration is open; identity keys (name,
// e-mail, phone, birth date) are not answers and never change here. A
// wrong token is ErrNotFound; after close ErrClosed; a bad answer a field
// error that changes nothing. The event log records the change's kind only.
func (s *Service) EditAnswers(ctx context.Context, entryID, token string, answers map[string]any) (lottery.EntryView, error) {
	if _, err := uuid.Parse(entryID); err != nil || !s.keys.CheckReceipt(strings.ToLower(entryID), token) {
		return lottery.EntryView{}, lottery.ErrNotFound
	}
	id := strings.ToLower(entryID)
	e, err := s.store.Entry(ctx, id)
	if err != nil {
		return lottery.EntryView{}, fmt.Errorf("edit answers: %w", err)
	}
	ev, err := s.events.CachedEvent(ctx, e.EventSlug)
	if err != nil {
		return lottery.EntryView{}, fmt.Errorf("edit answers: %w", err)
	}
	now := s.clock.Now()
	if err := ev.CheckOpen(now); err != nil {
		return lottery.EntryView{}, err
	}
	a, err := ev.Form.WithDefaults().CheckAnswers(answers, s.cfg.PhoneRegion)
	if err != nil {
		return lottery.EntryView{}, err
	}
	if err := s.store.SetAnswers(ctx, id, a, now); err != nil {
		return lottery.EntryView{}, fmt.Errorf("edit answers: %w", err)
	}
	return s.EntryStatus(ctx, id, token)
}

// CanEditAnswers reports whether an entry's answers may still change at the
// service's now: its event's registration is open.
func (s *Service) CanEditAnswers(ev lottery.Event) bool { return ev.CheckOpen(s.clock.Now()) == nil }
