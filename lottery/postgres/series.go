package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/review"
	"github.com/startline/startline/lottery/series"
)

var _ series.Store = (*Store)(nil)

type seriesRow struct {
	ID        int64 `gorm:"primaryKey"`
	Slug      string
	Name      string
	OrgID     int64
	CreatedAt time.Time
}

func (seriesRow) TableName() string { return "series" }

// CreateSeries stores a series with its audit row.
func (s *Store) CreateSeries(ctx context.Context, in lottery.Series, actor lottery.Actor) (lottery.Series, error) {
	r := seriesRow{Slug: in.Slug, Name: in.Name}
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		org, err := orgOf(tx, 0, actor)
		if err != nil {
			return err
		}
		r.OrgID = org
		if err := tx.Omit("ID", "CreatedAt").Create(&r).Error; err != nil {
			if isUnique(err, "") {
				return lottery.ErrSeriesExists
			}
			return err
		}
		return audit(tx, actor.StaffID, "series.create", in.Slug, map[string]any{"name": in.Name})
	})
	if err != nil {
		return lottery.Series{}, fmt.Errorf("create series: %w", err)
	}
	return lottery.Series{ID: r.ID, Slug: r.Slug, Name: r.Name, OrgID: r.OrgID}, nil
}

// SeriesBySlug returns a series; ErrNotFound.
func (s *Store) SeriesBySlug(ctx context.Context, slug string) (lottery.Series, error) {
	var r seriesRow
	if err := s.db.WithContext(ctx).Where("slug = ?", slug).Take(&r).Error; err != nil {
		return lottery.Series{}, notFound(err)
	}
	return lottery.Series{ID: r.ID, Slug: r.Slug, Name: r.Name, OrgID: r.OrgID}, nil
}

// ensureSeries resolves an event spec's series slug, creating the series
// (named after the event) the first time a slug is used: API.md's event
// spec names the race across editions by the slug alone.
func ensureSeries(tx *gorm.DB, slug, name string, actor lottery.Actor) (int64, error) {
	var ids []int64
	org, err := orgOf(tx, 0, actor)
	if err != nil {
		return 0, err
	}
	if err := tx.Raw(`INSERT INTO series (slug, name, org_id) VALUES (?, ?, ?) ON CONFLICT (slug) DO NOTHING RETURNING id`, slug, name, org).
		Scan(&ids).Error; err != nil {
		return 0, fmt.Errorf("create series: %w", err)
	}
	if len(ids) == 1 {
		return ids[0], audit(tx, actor.StaffID, "series.create", slug, map[string]any{"name": name, "implicit": true})
	}
	return seriesID(tx, slug, org)
}

// seriesID resolves a series slug of an organization inside a
// transaction; a field error when it has none (the slug came in a request;
// another organization's series is as unknown).
func seriesID(tx *gorm.DB, slug string, org int64) (int64, error) {
	var ids []int64
	if err := tx.Raw("SELECT id FROM series WHERE slug = ? AND org_id = ?", slug, org).Scan(&ids).Error; err != nil {
		return 0, fmt.Errorf("find series: %w", err)
	}
	if len(ids) == 0 {
		return 0, &lottery.Error{Code: lottery.CodeNotFound, Field: "series", Message: "no series has this slug"}
	}
	return ids[0], nil
}

// AttachEvent makes an event an edition of a series while its tickets can
// still change (before freeze). Both are the actor's organization's; any
// other is not found.
func (s *Store) AttachEvent(ctx context.Context, a series.Attach, actor lottery.Actor) error {
	return s.Transact(ctx, func(tx *gorm.DB) error {
		id, err := seriesID(tx, a.Series, actor.OrgID)
		if err != nil {
			return err
		}
		var ev eventRow
		if err := tx.Raw("SELECT * FROM events WHERE slug = ? AND org_id = ? FOR UPDATE", a.Event, actor.OrgID).Scan(&ev).Error; err != nil {
			return fmt.Errorf("lock event: %w", err)
		}
		if ev.ID == 0 {
			return &lottery.Error{Code: lottery.CodeNotFound, Field: "event", Message: "no event has this slug"}
		}
		// Any event may join: a drawn one as a past edition (its own tickets
		// stay as drawn); an open one counts the record for applications
		// from now on.
		var year any
		if a.EditionYear != 0 {
			year = a.EditionYear
		}
		if err := tx.Exec("UPDATE events SET series_id = ?, edition_year = ?, edition_label = ?, updated_at = now() WHERE id = ?",
			id, year, a.EditionLabel, ev.ID).Error; err != nil {
			return fmt.Errorf("attach event: %w", err)
		}
		details := map[string]any{"series": a.Series, "edition_year": a.EditionYear, "edition_label": a.EditionLabel}
		if err := appendLog(tx, ev.ID, lottery.LogRecord{Kind: "event.series", Actor: actor.Label, Details: details}); err != nil {
			return err
		}
		// Runners who deferred from an earlier edition hold slots here.
		if details["deferred_in"], err = useDeferrals(tx, ev.ID, actor.Label); err != nil {
			return err
		}
		return audit(tx, actor.StaffID, "series.attach", a.Event, details)
	})
}

// ImportHistory stores a history file's rows for a series, with one audit
// row naming the import and its size (never a row's keys).
func (s *Store) ImportHistory(ctx context.Context, imp series.Import, actor lottery.Actor) error {
	return s.Transact(ctx, func(tx *gorm.DB) error {
		id, err := seriesID(tx, imp.Series, actor.OrgID)
		if err != nil {
			return err
		}
		// Multi-row inserts of at most 500 rows (8 parameters each).
		for start := 0; start < len(imp.Rows); start += 500 {
			batch := imp.Rows[start:min(start+500, len(imp.Rows))]
			var sql strings.Builder
			sql.WriteString(`INSERT INTO series_history (series_id, import_id, row_no, email_key, phone, person_key, applications, years) VALUES `)
			args := make([]any, 0, 8*len(batch))
			for i, r := range batch {
				if i > 0 {
					sql.WriteString(", ")
				}
				sql.WriteString("(?, ?::uuid, ?, ?, ?, ?, ?, ?::integer[])")
				args = append(args, id, imp.ID, r.RowNo, r.EmailKey, r.Phone, r.PersonKey, r.Applications, intArray(r.Years))
			}
			if err := tx.Exec(sql.String(), args...).Error; err != nil {
				return fmt.Errorf("store history: %w", err)
			}
		}
		return audit(tx, actor.StaffID, "series.history_import", imp.Series, map[string]any{"import_id": imp.ID, "rows": len(imp.Rows)})
	})
}

// TicketHistory finds a person's record in the series of ev: every earlier
// edition (same series, opening before ev) in which an entry with one of
// the keys took part in the draw, was not selected and was never offered a
// slot, and every imported row with one of the keys. lottery.EarnedApplications
// turns the matches into a count.
func (s *Store) TicketHistory(ctx context.Context, ev lottery.Event, emailKey, phone, personKey string) ([]lottery.HistoryMatch, error) {
	if ev.SeriesID == 0 {
		return nil, nil
	}
	db := s.db.WithContext(ctx)
	var editions []editionMatch
	if err := db.Raw(`SELECT DISTINCT ev.id AS event_id, ev.slug, ev.edition_year, ev.edition_label
		FROM entries e
		JOIN events ev ON ev.id = e.event_id
		JOIN draw_results dr ON dr.entry_id = e.id AND NOT dr.selected
		WHERE ev.series_id = ? AND ev.id <> ? AND ev.opens_at < ?
		  AND (e.email_key = ? OR (e.phone = ? AND ? <> '') OR (e.person_key = ? AND ? <> ''))
		  AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.entry_id = e.id)`,
		ev.SeriesID, ev.ID, ev.OpensAt, emailKey, phone, phone, personKey, personKey).Scan(&editions).Error; err != nil {
		return nil, fmt.Errorf("find earlier editions: %w", err)
	}
	// Editions already anonymized by retention match by their kept pseudonyms.
	kept, err := s.earnedEditions(db, ev, emailKey, phone, personKey)
	if err != nil {
		return nil, err
	}
	var out []lottery.HistoryMatch
	seen := map[int64]bool{}
	for _, e := range append(editions, kept...) {
		if seen[e.EventID] {
			continue
		}
		seen[e.EventID] = true
		out = append(out, lottery.HistoryMatch{EditionEventID: e.EventID, EditionSlug: e.Slug, EditionYear: deref(e.EditionYear),
			EditionLabel: e.EditionLabel})
	}
	rows, err := db.Raw(`SELECT id, applications, years::text FROM series_history
		WHERE series_id = ? AND ((email_key = ? AND email_key <> '') OR (phone = ? AND phone <> '') OR (person_key = ? AND ? <> ''))`,
		ev.SeriesID, emailKey, phone, personKey, personKey).Rows()
	if err != nil {
		return nil, fmt.Errorf("find imported history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m lottery.HistoryMatch
		var years string
		if err := rows.Scan(&m.ImportRowID, &m.Applications, &years); err != nil {
			return nil, fmt.Errorf("read imported history: %w", err)
		}
		m.Years = parseIntArray(years)
		out = append(out, m)
	}
	return out, rows.Err()
}

// intArray is a PostgreSQL integer[] literal.
func intArray(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// parseIntArray reads integer[]::text ("{2024,2023}").
func parseIntArray(s string) []int {
	var out []int
	for f := range strings.SplitSeq(strings.Trim(s, "{}"), ",") {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// DecideClaim applies a reviewer's ruling on a pending ticket claim
// (lottery.ClaimDecision) under the event's share lock, so a freeze waits
// for it or refuses it; the entries_tickets_fixed trigger backs the rule.
// An entry of another organization's event than the reviewer's is
// lottery.ErrNotFound (lottery.MayReview).
func (s *Store) DecideClaim(ctx context.Context, d review.ClaimRuling) (lottery.Entry, error) {
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		var target entryRow
		if err := tx.Raw(`SELECT e.* FROM entries e WHERE e.id = ?
			AND e.event_id IN (SELECT id FROM events WHERE org_id = ?) FOR UPDATE`, d.EntryID, d.Actor.OrgID).Scan(&target).Error; err != nil {
			return fmt.Errorf("lock entry: %w", err)
		}
		if target.ID == "" {
			return lottery.ErrNotFound
		}
		var ev eventRow
		if err := tx.Raw(`SELECT * FROM events WHERE id = ? FOR SHARE`, target.EventID).Scan(&ev).Error; err != nil {
			return fmt.Errorf("lock event: %w", err)
		}
		claimed := deref(target.ClaimedApplications)
		state, count, err := lottery.ClaimDecision(lottery.EventStatus(ev.Status), target.ClaimStatus, target.RecordedApplications,
			claimed, d.Accept)
		if err != nil {
			return err
		}
		rule := lottery.Event{TicketRule: ev.TicketRule}
		tickets := rule.Tickets(count)
		if err := tx.Exec(`UPDATE entries SET claim_status = ?, previous_applications = ?, tickets = ?, updated_at = now() WHERE id = ?`,
			state, count, tickets, target.ID).Error; err != nil {
			return fmt.Errorf("apply claim decision: %w", err)
		}
		actor := d.Actor.Actor()
		details := map[string]any{"claim": state, "recorded": target.RecordedApplications, "claimed": claimed,
			"tickets_before": target.Tickets, "tickets": tickets, "note": d.Note}
		if err := appendLog(tx, target.EventID, lottery.LogRecord{Kind: "entry.ticket_claim", EntryID: target.ID,
			FromStatus: target.Status, ToStatus: target.Status, Actor: actor.Label, Details: details}); err != nil {
			return err
		}
		return audit(tx, d.Actor.ID, "review.claim_"+state, target.ID, details)
	})
	if err != nil {
		return lottery.Entry{}, err
	}
	return s.Entry(ctx, d.EntryID)
}
