package postgres

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
)

// Earned tickets outlive retention (migration 00039): before an edition in
// a series is anonymized, the retention pass keeps keyed pseudonyms of the
// identity keys of every entry that earned a ticket there, and TicketHistory
// matches a later application's keys against them as it does against the
// entries that still hold theirs.

// pseudonym is the keyed pseudonym of an identity key ("" stays "": an
// entry without a phone or person key matches nothing by it).
func (s *Store) pseudonym(key string) string {
	if key == "" {
		return ""
	}
	m := hmac.New(sha256.New, s.pseudonymKey)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil))
}

// earnedBatch bounds the rows read and written at once, so an edition of a
// million entries is kept in bounded memory.
const earnedBatch = 5000

// keepEarned stores the pseudonyms of the event's entries, not yet
// anonymized, that took part in the draw, were not selected and were never
// offered a slot (TicketHistory's condition), when the event is an edition
// of a series. It returns how many it kept.
func (s *Store) keepEarned(tx *gorm.DB, eventID int64) (int, error) {
	var seriesID *int64
	if err := tx.Raw(`SELECT series_id FROM events WHERE id = ?`, eventID).Row().Scan(&seriesID); err != nil {
		return 0, fmt.Errorf("keep earned tickets: %w", err)
	}
	if seriesID == nil {
		return 0, nil
	}
	kept, after := 0, ""
	for {
		var rows []struct {
			ID        string
			EmailKey  string
			Phone     string
			PersonKey string
		}
		if err := tx.Raw(`SELECT e.id::text AS id, e.email_key, e.phone, e.person_key FROM entries e
			JOIN draw_results dr ON dr.entry_id = e.id AND NOT dr.selected
			WHERE e.event_id = ? AND e.anonymized_at IS NULL AND e.id::text > ?
				AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.entry_id = e.id)
			ORDER BY e.id::text LIMIT ?`, eventID, after, earnedBatch).Scan(&rows).Error; err != nil {
			return kept, fmt.Errorf("keep earned tickets: %w", err)
		}
		if len(rows) == 0 {
			return kept, nil
		}
		email, phone, person := make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows))
		for i, r := range rows {
			email[i], phone[i], person[i] = s.pseudonym(r.EmailKey), s.pseudonym(r.Phone), s.pseudonym(r.PersonKey)
		}
		db := tx.Statement.ConnPool
		if _, err := db.ExecContext(tx.Statement.Context, `INSERT INTO series_earned (series_id, event_id, email_hash, phone_hash, person_hash)
			SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[])`, *seriesID, eventID, email, phone, person); err != nil {
			return kept, fmt.Errorf("keep earned tickets: %w", err)
		}
		kept += len(rows)
		after = rows[len(rows)-1].ID
	}
}

// earnedEditions are the editions of ev's series (opening before it) whose
// kept pseudonyms match one of the keys.
func (s *Store) earnedEditions(db *gorm.DB, ev lottery.Event, emailKey, phone, personKey string) ([]editionMatch, error) {
	var out []editionMatch
	if err := db.Raw(`SELECT DISTINCT ev.id AS event_id, ev.slug, ev.edition_year, ev.edition_label
		FROM series_earned se JOIN events ev ON ev.id = se.event_id
		WHERE se.series_id = ? AND ev.id <> ? AND ev.opens_at < ?
		  AND (se.email_hash = ? OR (se.phone_hash = ? AND ? <> '') OR (se.person_hash = ? AND ? <> ''))`,
		ev.SeriesID, ev.ID, ev.OpensAt, s.pseudonym(emailKey), s.pseudonym(phone), phone, s.pseudonym(personKey), personKey).
		Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("find earned tickets kept past retention: %w", err)
	}
	return out, nil
}

// editionMatch is an earlier edition a person's keys were found in.
type editionMatch struct {
	EventID      int64
	Slug         string
	EditionYear  *int
	EditionLabel string
}
