package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/startline/startline/lottery"
)

// Registration questions and consents (issue 13): an event's form in
// events.form, an entry's answers in entries.answers, its consents in the
// append-only entry_consents. Answers are personal data: no log record and
// no audit row here carries them.

// formDoc is an event's stored form.
func formDoc(f lottery.Form) []byte {
	b, err := json.Marshal(f)
	if err != nil {
		return []byte("{}")
	}
	return b
}

// formOf reads a stored form; '{}' (events from before forms) is no
// questions and the default documents.
func formOf(b []byte) lottery.Form {
	var f lottery.Form
	_ = json.Unmarshal(b, &f) // written by us; a bad document reads as the defaults
	if f.Questions == nil {
		f.Questions = []lottery.Question{}
	}
	return f.WithDefaults()
}

// answersDoc is an entry's stored answers.
func answersDoc(a lottery.Answers) string {
	if len(a) == 0 {
		return "{}"
	}
	b, err := json.Marshal(a)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// answersOf reads stored answers (a contact comes back as a map; the
// Answers accessors read both).
func answersOf(b []byte) lottery.Answers {
	a := lottery.Answers{}
	_ = json.Unmarshal(b, &a) // written by us
	return a
}

type consentRow struct {
	ID         int64 `gorm:"primaryKey"`
	EntryID    string
	Document   string
	Version    string
	AcceptedAt time.Time
}

func (consentRow) TableName() string { return "entry_consents" }

// insertConsents records an entry's consents in its apply transaction.
func insertConsents(tx *gorm.DB, entryID string, cs []lottery.Consent) error {
	for _, c := range cs {
		r := consentRow{EntryID: entryID, Document: c.Document, Version: c.Version, AcceptedAt: c.AcceptedAt.UTC()}
		if err := tx.Omit("ID").Create(&r).Error; err != nil {
			return fmt.Errorf("record consent: %w", err)
		}
	}
	return nil
}

// EntryConsents lists an entry's consents, oldest first.
func (s *Store) EntryConsents(ctx context.Context, entryID string) ([]lottery.Consent, error) {
	var rows []consentRow
	if err := s.db.WithContext(ctx).Where("entry_id = ?", entryID).Order("accepted_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("entry consents: %w", err)
	}
	out := make([]lottery.Consent, 0, len(rows))
	for _, r := range rows {
		out = append(out, lottery.Consent{Document: r.Document, Version: r.Version, AcceptedAt: r.AcceptedAt.UTC()})
	}
	return out, nil
}

// SetAnswers replaces an entry's answers while its event is open at now
// (the same window condition as the apply insert), and logs the change's
// kind without its values.
func (s *Store) SetAnswers(ctx context.Context, entryID string, a lottery.Answers, now time.Time) error {
	now = now.UTC().Truncate(time.Microsecond)
	return s.Transact(ctx, func(tx *gorm.DB) error {
		var eventID []int64
		if err := tx.Raw(`UPDATE entries SET answers = ?::jsonb, updated_at = ? WHERE id = ? AND EXISTS
				(SELECT 1 FROM events ev WHERE ev.id = entries.event_id AND ev.status = 'published' AND ev.opens_at <= ? AND ev.closes_at > ?)
			RETURNING event_id`, answersDoc(a), now, entryID, now, now).Scan(&eventID).Error; err != nil {
			return fmt.Errorf("set answers: %w", err)
		}
		if len(eventID) == 0 {
			var n int64
			if err := tx.Raw("SELECT count(*) FROM entries WHERE id = ?", entryID).Scan(&n).Error; err != nil {
				return fmt.Errorf("set answers: %w", err)
			}
			if n == 0 {
				return lottery.ErrNotFound
			}
			return lottery.ErrClosed
		}
		return appendLog(tx, eventID[0], lottery.LogRecord{Kind: "entry.answers_changed", EntryID: entryID, Actor: "runner"})
	})
}

// SetEventForm replaces an event's form before its registration opens.
func (s *Store) SetEventForm(ctx context.Context, slug string, f lottery.Form, now time.Time, actor lottery.Actor) (lottery.Event, error) {
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		var r eventRow
		res := tx.Model(&r).Clauses(clause.Returning{}).
			Where("slug = ? AND (status = ? OR (status = ? AND opens_at > ?))", slug, lottery.EventDraft, lottery.EventPublished, now.UTC()).
			Updates(map[string]any{"form": formDoc(f), "updated_at": now.UTC()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			if _, err := s.eventWhereTx(tx, slug); err != nil {
				return err
			}
			return &lottery.Error{Code: lottery.CodeInvalidTransition, Field: "questions",
				Message: "the questions and documents can be changed only before registration opens"}
		}
		return audit(tx, actor.StaffID, "event.form", slug, map[string]any{"questions": len(f.Questions),
			"privacy_version": f.Privacy.Version, "waiver_version": f.Waiver.Version})
	})
	if err != nil {
		return lottery.Event{}, fmt.Errorf("set form: %w", err)
	}
	return s.EventBySlug(ctx, slug)
}

func (s *Store) eventWhereTx(tx *gorm.DB, slug string) (eventRow, error) {
	var r eventRow
	if err := tx.Where("slug = ?", slug).Take(&r).Error; err != nil {
		return eventRow{}, notFound(err)
	}
	return r, nil
}
