package lottery

import (
	"context"
	"time"
)

// AuditEntry is one staff action on an event, as read back (audit_log), with the
// e-mail of the staff member who took it (empty for the system).
type AuditEntry struct {
	ID         int64
	At         time.Time
	StaffEmail string
	Action     string // "event.published", "subqueue.capacity", "queue.paused", ...
	Target     string // the event's slug, or "slug/course:pace" for a sub-queue
	Details    map[string]any
}

// EventLogEntry is one row of an event's append-only log (event_log): an
// entry's, offer's or the event's state change. StaffEmail names the staff
// member when the actor was one.
type EventLogEntry struct {
	ID         int64
	At         time.Time
	Kind       string
	EntryID    string
	FromStatus string
	ToStatus   string
	Actor      string
	StaffEmail string
	Details    map[string]any
}

// AuditPageSize is how many records one page of an event's audit log shows.
const AuditPageSize = 50

// AuditStore reads what the organizer console shows of one event: its
// audit and event logs, newest first, keyset-paged on id, and its entries
// counted per sub-queue.
type AuditStore interface {
	// EventAudit returns up to limit audit records of the event (target
	// slug or slug/...) with id below before (0: from the newest).
	EventAudit(ctx context.Context, slug string, before int64, limit int) ([]AuditEntry, error)
	// EventLog returns up to limit rows of the event's log with id below
	// before (0: from the newest).
	EventLog(ctx context.Context, eventID int64, before int64, limit int) ([]EventLogEntry, error)
	// EntryCounts counts the event's entries per sub-queue id.
	EntryCounts(ctx context.Context, eventID int64) (map[int64]int, error)
}

// EventAudit returns a page of the audit log of an event the organizer
// manages (ManagedEvent; another organization's is ErrNotFound).
func (s *Service) EventAudit(ctx context.Context, actor StaffAccount, slug string, before int64) ([]AuditEntry, error) {
	if _, err := s.ManagedEvent(ctx, actor, slug); err != nil {
		return nil, err
	}
	return s.store.EventAudit(ctx, slug, before, AuditPageSize)
}

// EventLog returns a page of the event log of an event the organizer
// manages.
func (s *Service) EventLog(ctx context.Context, actor StaffAccount, slug string, before int64) ([]EventLogEntry, error) {
	ev, err := s.ManagedEvent(ctx, actor, slug)
	if err != nil {
		return nil, err
	}
	return s.store.EventLog(ctx, ev.ID, before, AuditPageSize)
}

// EntryCounts counts the entries of an event the organizer manages, per
// sub-queue id.
func (s *Service) EntryCounts(ctx context.Context, actor StaffAccount, ev Event) (map[int64]int, error) {
	if !MayManage(actor, ev) {
		return nil, ErrNotFound
	}
	return s.store.EntryCounts(ctx, ev.ID)
}
