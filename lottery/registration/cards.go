package registration

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/startline/startline/lottery"
)

// Card on file at apply (issue 15): where an event has it, the runner
// saves a card with the provider's setup step before applying, and the
// application names the confirmed setup (ApplyRequest.CardSetupID); the
// store keeps the card with the entry in the apply transaction and counts
// the card's other entries there (lottery.SharedCard).

// CardStore is what the card part of registration reads. lottery/postgres.Store
// implements it.
type CardStore interface {
	// EntryCard returns an entry's saved card and how many entries of
	// its event share its fingerprint; ErrNotFound when it saved none.
	EntryCard(ctx context.Context, entryID string) (lottery.SavedCard, int, error)
}

// UseCards sets the provider that saves cards (the sandbox in dev mode,
// Stripe once it implements lottery.CardProvider); nil: an event with card
// on file cannot take applications (503). Call it before serving.
func (s *Service) UseCards(p lottery.CardProvider) { s.cards = p }

// maxSetupID bounds a setup id from outside (Stripe's are about 30 bytes).
const maxSetupID = 255

// StartCardSetup begins saving a card for an application to the event;
// the runner confirms it at the answer's ConfirmURL and is sent back to
// returnPath (a path on this site). ErrNoCardOnFile for an event without
// card on file; registration must be open.
func (s *Service) StartCardSetup(ctx context.Context, slug, returnPath string) (lottery.CardSetup, error) {
	ev, err := s.events.PublicEvent(ctx, slug)
	if err != nil {
		return lottery.CardSetup{}, err
	}
	if !ev.CardOnFile() {
		return lottery.CardSetup{}, lottery.ErrNoCardOnFile
	}
	if err := ev.CheckOpen(s.clock.Now()); err != nil {
		return lottery.CardSetup{}, err
	}
	if !LocalPath(returnPath) {
		return lottery.CardSetup{}, lottery.Fieldf("return_url", "give a path on this site, starting with one /")
	}
	if s.cards == nil {
		return lottery.CardSetup{}, fmt.Errorf("card setup %s: no card provider: %w", slug, lottery.ErrUnavailable)
	}
	key, err := uuid.NewRandomFromReader(s.random)
	if err != nil {
		return lottery.CardSetup{}, fmt.Errorf("card setup key: %w", err)
	}
	setup, err := s.cards.StartCardSetup(ctx, lottery.CardSetupRequest{EventSlug: ev.Slug, ReturnURL: returnPath,
		IdempotencyKey: "setup-" + key.String()})
	if err != nil {
		return lottery.CardSetup{}, providerErr("card setup "+slug, err)
	}
	return setup, nil
}

// SavedCard returns a confirmed setup's card for the event's application
// form: its brand and last four only. A field error (card_setup_id) while
// it is not confirmed or unknown; 503 when the provider cannot answer.
func (s *Service) SavedCard(ctx context.Context, setupID string) (lottery.SavedCard, error) {
	c, err := s.savedCard(ctx, setupID)
	if err != nil {
		return lottery.SavedCard{}, err
	}
	return lottery.SavedCard{Brand: c.Brand, Last4: c.Last4}, nil
}

// savedCard reads a setup the application names.
func (s *Service) savedCard(ctx context.Context, setupID string) (lottery.SavedCard, error) {
	switch {
	case setupID == "":
		return lottery.SavedCard{}, lottery.Fieldf("card_setup_id",
			"save a card first: this event charges it automatically if you are selected")
	case len(setupID) > maxSetupID:
		return lottery.SavedCard{}, lottery.Fieldf("card_setup_id", "this is not a card setup")
	case s.cards == nil:
		return lottery.SavedCard{}, fmt.Errorf("saved card: no card provider: %w", lottery.ErrUnavailable)
	}
	c, err := s.cards.CardSetupResult(ctx, setupID)
	switch {
	case errors.Is(err, lottery.ErrNotFound):
		return lottery.SavedCard{}, lottery.Fieldf("card_setup_id", "this card setup does not exist; save the card again")
	case lottery.CodeOf(err) == lottery.CodeInvalidTransition:
		return lottery.SavedCard{}, lottery.Fieldf("card_setup_id", "the card is not saved yet: confirm it on the card page")
	case err != nil:
		return lottery.SavedCard{}, providerErr("saved card", err)
	}
	return c, nil
}

// providerErr keeps a coded error of the provider (a field, a conflict)
// and makes any other an outage: the provider could not be asked (503).
func providerErr(op string, err error) error {
	var e *lottery.Error
	if errors.As(err, &e) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %w: %w", op, lottery.ErrUnavailable, err)
}

// applyCard is the card part of Apply: for an event with card on file the
// application's setup must be confirmed, and its card goes into the
// transaction. An event without it ignores any card_setup_id (a client
// that always sends one is not refused), at no cost: the policy comes with
// the cached event.
func (s *Service) applyCard(ctx context.Context, ev *lottery.Event, req ApplyRequest, tx *ApplyTx) error {
	if !ev.CardOnFile() {
		return nil
	}
	c, err := s.savedCard(ctx, strings.TrimSpace(req.CardSetupID))
	if err != nil {
		return err
	}
	tx.Card, tx.EntriesPerCard = &c, ev.Card.EntriesPerCard
	return nil
}

// EntryCard returns the card an entry saved, as its runner is shown it
// (brand and last four); nil when the event saves no cards or the entry
// has none.
func (s *Service) EntryCard(ctx context.Context, ev lottery.Event, entryID string) (*lottery.SavedCard, error) {
	cs, ok := s.store.(CardStore)
	if !ev.CardOnFile() || !ok {
		return nil, nil
	}
	c, _, err := cs.EntryCard(ctx, entryID)
	if errors.Is(err, lottery.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("entry card: %w", err)
	}
	return &lottery.SavedCard{Brand: c.Brand, Last4: c.Last4}, nil
}

// LocalPath reports whether a return address stays on this site: a path
// starting with a single slash, with no scheme, host or backslash (a
// browser reads "/\evil" as another host).
func LocalPath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.ContainsAny(p, "\\\r\n\t") &&
		!strings.HasPrefix(p, "/%2f") && !strings.HasPrefix(p, "/%2F") && len(p) <= 2048
}

// draftLabel binds a sealed application draft to its purpose.
const draftLabel = "apply/card-draft"

// SealDraft seals what a runner typed into the application form while
// they save a card (the web form keeps it in a short-lived cookie, never
// in a URL); "" when it cannot be sealed.
func (s *Service) SealDraft(plain []byte) string {
	b, err := s.keys.Seal(plain, draftLabel)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// OpenDraft opens a SealDraft value; nil for anything else.
func (s *Service) OpenDraft(sealed string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || sealed == "" {
		return nil
	}
	plain, err := s.keys.Open(b, draftLabel)
	if err != nil {
		return nil
	}
	return plain
}

// ReviewCard returns the card an entry saved as a reviewer is shown it
// (brand, last four) and how many entries of the event were saved with
// the same card, itself included (the fingerprint stays in the store);
// nil when the entry saved none.
func (s *Service) ReviewCard(ctx context.Context, entryID string) (*lottery.SavedCard, int, error) {
	cs, ok := s.store.(CardStore)
	if !ok {
		return nil, 0, nil
	}
	c, shared, err := cs.EntryCard(ctx, entryID)
	if errors.Is(err, lottery.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("entry card: %w", err)
	}
	return &lottery.SavedCard{Brand: c.Brand, Last4: c.Last4}, shared, nil
}
