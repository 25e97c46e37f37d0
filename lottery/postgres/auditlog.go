package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/startline/startline/lottery"
)

// EventAudit reads an event's audit rows (target the slug or slug/...),
// newest first, with the acting staff member's e-mail.
func (s *Store) EventAudit(ctx context.Context, slug string, before int64, limit int) ([]lottery.AuditEntry, error) {
	var rows []struct {
		ID        int64
		CreatedAt time.Time
		Email     *string
		Action    string
		Target    string
		Details   []byte
	}
	q := s.db.WithContext(ctx).Table("audit_log a").
		Select("a.id, a.created_at, s.email, a.action, a.target, a.details").
		Joins("LEFT JOIN staff s ON s.id = a.staff_id").
		Where("(a.target = ? OR a.target LIKE ?)", slug, slug+"/%")
	if before > 0 {
		q = q.Where("a.id < ?", before)
	}
	if err := q.Order("a.id DESC").Limit(limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("event audit: %w", err)
	}
	out := make([]lottery.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = lottery.AuditEntry{ID: r.ID, At: r.CreatedAt, StaffEmail: deref(r.Email), Action: r.Action, Target: r.Target,
			Details: detailsOf(r.Details)}
	}
	return out, nil
}

// EventLog reads an event's log rows newest first; a staff actor
// ("staff:<id>") comes with the account's e-mail.
func (s *Store) EventLog(ctx context.Context, eventID int64, before int64, limit int) ([]lottery.EventLogEntry, error) {
	var rows []struct {
		ID         int64
		CreatedAt  time.Time
		Kind       string
		EntryID    *string
		FromStatus string
		ToStatus   string
		Actor      string
		Email      *string
		Details    []byte
	}
	q := s.db.WithContext(ctx).Table("event_log l").
		Select("l.id, l.created_at, l.kind, l.entry_id::text AS entry_id, l.from_status, l.to_status, l.actor, s.email, l.details").
		Joins("LEFT JOIN staff s ON l.actor LIKE 'staff:%' AND s.id::text = substr(l.actor, 7)").
		Where("l.event_id = ?", eventID)
	if before > 0 {
		q = q.Where("l.id < ?", before)
	}
	if err := q.Order("l.id DESC").Limit(limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	out := make([]lottery.EventLogEntry, len(rows))
	for i, r := range rows {
		out[i] = lottery.EventLogEntry{ID: r.ID, At: r.CreatedAt, Kind: r.Kind, EntryID: deref(r.EntryID), FromStatus: r.FromStatus,
			ToStatus: r.ToStatus, Actor: r.Actor, StaffEmail: deref(r.Email), Details: detailsOf(r.Details)}
	}
	return out, nil
}

// EntryCounts counts an event's entries per sub-queue (the entries'
// sub-queue index serves it).
func (s *Store) EntryCounts(ctx context.Context, eventID int64) (map[int64]int, error) {
	var rows []struct {
		SubqueueID int64
		N          int
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT q.id AS subqueue_id,
			(SELECT count(*) FROM entries e WHERE e.subqueue_id = q.id) AS n
		FROM subqueues q WHERE q.event_id = ?`, eventID).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("entry counts: %w", err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.SubqueueID] = r.N
	}
	return out, nil
}

func detailsOf(b []byte) map[string]any {
	var m map[string]any
	if len(b) > 0 {
		_ = json.Unmarshal(b, &m)
	}
	return m
}
