package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/lottery"
)

type eventRow struct {
	ID               int64 `gorm:"primaryKey"`
	Slug             string
	Name             string
	OrgID            int64
	TimeZone         string
	OpensAt          time.Time
	ClosesAt         time.Time
	Status           string
	OfferHoldSeconds int
	// DisputeWindowSeconds is the time from freeze to the earliest reveal.
	DisputeWindowSeconds int
	MaxGroupSize         int
	TicketRule           string
	SeedSecretSealed     []byte
	Commitment           *string
	PublishedAt          *time.Time
	ClosedAt             *time.Time
	CancelledAt          *time.Time // 00029
	CreatedAt            time.Time
	UpdatedAt            time.Time

	UnreviewedPolicy   string
	FrozenAt           *time.Time
	BeaconRound        string
	SeedSecretRevealed *string
	Beacon             string
	RevealedAt         *time.Time
	DrawRequestedAt    *time.Time
	ResultsPublishedAt *time.Time
	RiskRules          []byte `gorm:"type:jsonb"`
	SeriesID           *int64
	EditionYear        *int
	EditionLabel       string
	Form               []byte `gorm:"type:jsonb"` // lottery.Form (answers.go)
	// The event's currency (00006) and race details (00023).
	Currency     string
	RaceDate     civilDate
	RaceStart    *string
	Place        string
	Description  string
	DrawOn       civilDate
	DrawAt       *time.Time
	RefundPolicy []byte `gorm:"type:jsonb"`
}

func (eventRow) TableName() string { return "events" }

type courseRow struct {
	ID         int64 `gorm:"primaryKey"`
	EventID    int64
	Code       string
	Name       string
	DistanceKM float64 `gorm:"column:distance_km"`
	Position   int
}

func (courseRow) TableName() string { return "courses" }

type subqueueRow struct {
	ID       int64 `gorm:"primaryKey"`
	EventID  int64
	CourseID int64
	Key      string
	PaceCode string
	Label    string
	PaceMinS *int
	PaceMaxS *int
	Capacity int
	Mode     string
	Position int
	// AdmitPerMinute is the waiting room's rate (ordered sub-queues).
	AdmitPerMinute  int
	PrequeueMinutes int
	// PriceMinor is the pace group's price in the event's currency (00022).
	PriceMinor int64
	// PausedAt: the organizer paused the waiting room (00029).
	PausedAt *time.Time
}

func (subqueueRow) TableName() string { return "subqueues" }

type eventLogRow struct {
	ID         int64 `gorm:"primaryKey"`
	EventID    int64
	EntryID    *string
	Kind       string
	FromStatus string
	ToStatus   string
	Actor      string
	Details    []byte `gorm:"type:jsonb"`
	CreatedAt  time.Time
}

func (eventLogRow) TableName() string { return "event_log" }

type auditRow struct {
	ID        int64 `gorm:"primaryKey"`
	StaffID   *int64
	Action    string
	Target    string
	Details   []byte `gorm:"type:jsonb"`
	CreatedAt time.Time
}

func (auditRow) TableName() string { return "audit_log" }

func toEventRow(e lottery.Event) eventRow {
	r := eventRow{ID: e.ID, Slug: e.Slug, Name: e.Name, OrgID: e.OrgID, TimeZone: e.TimeZone, OpensAt: e.OpensAt, ClosesAt: e.ClosesAt,
		Status: string(e.Status), OfferHoldSeconds: int(e.OfferHold / time.Second), MaxGroupSize: e.MaxGroupSize,
		DisputeWindowSeconds: int(e.DisputeWindow / time.Second),
		TicketRule:           e.TicketRule, PublishedAt: e.PublishedAt, ClosedAt: e.ClosedAt, UnreviewedPolicy: e.UnreviewedPolicy}
	if e.SeriesID != 0 {
		r.SeriesID = &e.SeriesID
	}
	if e.EditionYear != 0 {
		r.EditionYear = &e.EditionYear
	}
	r.EditionLabel = e.EditionLabel
	r.Form = formDoc(e.Form)
	if e.RiskRules != nil {
		r.RiskRules, _ = json.Marshal(e.RiskRules)
	}
	if e.Commitment != "" {
		r.Commitment = &e.Commitment
	}
	setDetailsRow(&r, e)
	return r
}

func fromEventRow(r eventRow, courses []courseRow, subs []subqueueRow) lottery.Event {
	e := lottery.Event{ID: r.ID, Slug: r.Slug, Name: r.Name, OrgID: r.OrgID, TimeZone: r.TimeZone, OpensAt: r.OpensAt.UTC(),
		ClosesAt: r.ClosesAt.UTC(), Status: lottery.EventStatus(r.Status),
		OfferHold: time.Duration(r.OfferHoldSeconds) * time.Second, MaxGroupSize: r.MaxGroupSize,
		DisputeWindow: time.Duration(r.DisputeWindowSeconds) * time.Second,
		TicketRule:    r.TicketRule, PublishedAt: r.PublishedAt, ClosedAt: r.ClosedAt, CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt, UnreviewedPolicy: r.UnreviewedPolicy, FrozenAt: r.FrozenAt, BeaconRound: r.BeaconRound,
		Beacon: r.Beacon, RevealedAt: r.RevealedAt, DrawRequestedAt: r.DrawRequestedAt,
		ResultsPublishedAt: r.ResultsPublishedAt, SeedSealed: r.SeedSecretSealed, SeriesID: deref(r.SeriesID),
		EditionYear: deref(r.EditionYear), EditionLabel: r.EditionLabel, Form: formOf(r.Form),
		Currency: r.Currency, CancelledAt: r.CancelledAt}
	if r.Commitment != nil {
		e.Commitment = *r.Commitment
	}
	if r.SeedSecretRevealed != nil {
		e.SeedSecret = *r.SeedSecretRevealed
	}
	detailsFromRow(&e, r)
	if len(r.RiskRules) > 0 {
		var rules antibot.Rules
		if json.Unmarshal(r.RiskRules, &rules) == nil && rules.Version != "" {
			e.RiskRules = &rules
		}
	}
	for _, c := range courses {
		if c.EventID != r.ID {
			continue
		}
		course := lottery.Course{Code: c.Code, Name: c.Name, DistanceKM: c.DistanceKM}
		for _, s := range subs {
			if s.CourseID != c.ID {
				continue
			}
			course.PaceGroups = append(course.PaceGroups, lottery.PaceGroup{ID: s.ID, Code: s.PaceCode, Label: s.Label,
				PaceMinS: deref(s.PaceMinS), PaceMaxS: deref(s.PaceMaxS), Capacity: s.Capacity, Mode: lottery.Mode(s.Mode),
				AdmitPerMinute: s.AdmitPerMinute, PrequeueMinutes: s.PrequeueMinutes, Price: s.PriceMinor, PausedAt: s.PausedAt})
		}
		e.Courses = append(e.Courses, course)
	}
	return e
}

func optInt(v int) *int {
	if v == 0 {
		return nil
	}
	return &v
}

func jsonb(v map[string]any) []byte {
	if v == nil {
		return []byte("{}")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("{}")
	}
	return b
}

// loadEvents fills courses and sub-queues for event rows with two queries.
func loadEvents(tx *gorm.DB, rows []eventRow) ([]lottery.Event, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var courses []courseRow
	if err := tx.Where("event_id IN ?", ids).Order("position").Find(&courses).Error; err != nil {
		return nil, fmt.Errorf("load courses: %w", err)
	}
	var subs []subqueueRow
	if err := tx.Where("event_id IN ?", ids).Order("position").Find(&subs).Error; err != nil {
		return nil, fmt.Errorf("load sub-queues: %w", err)
	}
	var series []seriesRow
	if err := tx.Where("id IN (SELECT series_id FROM events WHERE id IN ?)", ids).Find(&series).Error; err != nil {
		return nil, fmt.Errorf("load series: %w", err)
	}
	out := make([]lottery.Event, len(rows))
	for i, r := range rows {
		out[i] = fromEventRow(r, courses, subs)
		for _, sr := range series {
			if sr.ID == out[i].SeriesID {
				out[i].SeriesSlug = sr.Slug
			}
		}
	}
	return out, loadCardPolicies(tx, out) // issue 15: card on file (cards.go)
}

// ListEvents returns every non-draft event.
func (s *Store) ListEvents(ctx context.Context) ([]lottery.Event, error) {
	var rows []eventRow
	if err := s.db.WithContext(ctx).Where("status <> ?", lottery.EventDraft).Order("opens_at DESC, id").
		Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return loadEvents(s.db.WithContext(ctx), rows)
}

// OrgEvents returns every event of an organization, drafts included.
func (s *Store) OrgEvents(ctx context.Context, orgID int64) ([]lottery.Event, error) {
	var rows []eventRow
	if err := s.db.WithContext(ctx).Where("org_id = ?", orgID).Order("opens_at DESC, id").
		Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list events of org %d: %w", orgID, err)
	}
	return loadEvents(s.db.WithContext(ctx), rows)
}

// EventByID returns one event with its courses.
func (s *Store) EventByID(ctx context.Context, id int64) (lottery.Event, error) {
	return s.eventWhere(ctx, "id = ?", id)
}

// EventBySlug returns one event with its courses.
func (s *Store) EventBySlug(ctx context.Context, slug string) (lottery.Event, error) {
	return s.eventWhere(ctx, "slug = ?", slug)
}

func (s *Store) eventWhere(ctx context.Context, cond string, arg any) (lottery.Event, error) {
	var r eventRow
	if err := s.db.WithContext(ctx).Where(cond, arg).Take(&r).Error; err != nil {
		return lottery.Event{}, notFound(err)
	}
	evs, err := loadEvents(s.db.WithContext(ctx), []eventRow{r})
	if err != nil {
		return lottery.Event{}, err
	}
	return evs[0], nil
}

// CreateEvent stores a draft event with its courses and sub-queues.
func (s *Store) CreateEvent(ctx context.Context, e lottery.Event, actor lottery.Actor) (lottery.Event, error) {
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		org, err := orgOf(tx, e.OrgID, actor)
		if err != nil {
			return err
		}
		e.OrgID = org
		if e.SeriesID, err = seriesOfSpec(tx, e, actor); err != nil {
			return err
		}
		r := toEventRow(e)
		if err := tx.Omit("ID", "CreatedAt", "UpdatedAt").Create(&r).Error; err != nil {
			if isUnique(err, "") {
				return lottery.ErrEventExists
			}
			return err
		}
		e.ID = r.ID
		pos, err := insertCourses(tx, r.ID, e.Courses)
		if err != nil {
			return err
		}
		if err := appendLog(tx, r.ID, lottery.LogRecord{Kind: "event.created", ToStatus: string(lottery.EventDraft),
			Actor: actor.Label}); err != nil {
			return err
		}
		return audit(tx, actor.StaffID, "event.create", e.Slug, map[string]any{"courses": len(e.Courses), "subqueues": pos})
	})
	if err != nil {
		return lottery.Event{}, fmt.Errorf("create event: %w", err)
	}
	return s.EventBySlug(ctx, e.Slug)
}

// seriesOfSpec is the id of the series an event created or replaced from a
// spec names (created when new, ensureSeries), 0 for none.
func seriesOfSpec(tx *gorm.DB, e lottery.Event, actor lottery.Actor) (int64, error) {
	if e.SeriesSlug == "" {
		return 0, nil
	}
	return ensureSeries(tx, e.SeriesSlug, e.Name, actor)
}

// insertCourses stores an event's courses and sub-queues (with the line of
// each ordered one) and returns how many sub-queues it stored.
func insertCourses(tx *gorm.DB, eventID int64, courses []lottery.Course) (int, error) {
	pos := 0
	for i, c := range courses {
		cr := courseRow{EventID: eventID, Code: c.Code, Name: c.Name, DistanceKM: c.DistanceKM, Position: i}
		if err := tx.Omit("ID").Create(&cr).Error; err != nil {
			return 0, err
		}
		for _, p := range c.PaceGroups {
			sr := subqueueRow{EventID: eventID, CourseID: cr.ID, Key: lottery.SubQueueKey(c.Code, p.Code), PaceCode: p.Code,
				Label: p.Label, PaceMinS: optInt(p.PaceMinS), PaceMaxS: optInt(p.PaceMaxS), Capacity: p.Capacity,
				Mode: string(p.Mode), Position: pos, AdmitPerMinute: cmp.Or(p.AdmitPerMinute, lottery.DefaultAdmitPerMinute),
				PrequeueMinutes: p.PrequeueMinutes, PriceMinor: p.Price}
			pos++
			if err := tx.Omit("ID").Create(&sr).Error; err != nil {
				return 0, err
			}
			if p.Mode == lottery.ModeOrdered {
				if err := createLine(tx, eventID, sr.ID); err != nil {
					return 0, err
				}
			}
		}
	}
	return pos, nil
}

// TransitionEvent moves an event between stored states with a conditional
// update, so two organizers racing cannot both succeed.
func (s *Store) TransitionEvent(ctx context.Context, slug string, from, to lottery.EventStatus, commit *lottery.SeedCommit, actor lottery.Actor) (lottery.Event, error) {
	err := s.Transact(ctx, func(tx *gorm.DB) error {
		now := time.Now().UTC()
		set := map[string]any{"status": string(to), "updated_at": now}
		switch to {
		case lottery.EventPublished:
			set["published_at"] = now
		case lottery.EventClosed:
			set["closed_at"] = now
		}
		if commit != nil {
			set["seed_secret_sealed"] = commit.Sealed
			set["commitment"] = commit.Commitment
		}
		var r eventRow
		res := tx.Model(&r).Clauses(clause.Returning{}).Where("slug = ? AND status = ?", slug, string(from)).Updates(set)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return lottery.ErrInvalidTransition
		}
		details := map[string]any{}
		if commit != nil {
			details["commitment"] = commit.Commitment
		}
		if to == lottery.EventPublished && r.SeriesID != nil {
			// Runners who deferred from an earlier edition hold slots here.
			n, err := useDeferrals(tx, r.ID, actor.Label)
			if err != nil {
				return err
			}
			details["deferred_in"] = n
		}
		if err := appendLog(tx, r.ID, lottery.LogRecord{Kind: "event.transition", FromStatus: string(from),
			ToStatus: string(to), Actor: actor.Label, Details: details}); err != nil {
			return err
		}
		return audit(tx, actor.StaffID, "event."+string(to), slug, details)
	})
	if err != nil {
		return lottery.Event{}, err
	}
	return s.EventBySlug(ctx, slug)
}

func appendLog(tx *gorm.DB, eventID int64, l lottery.LogRecord) error {
	r := eventLogRow{EventID: eventID, Kind: l.Kind, FromStatus: l.FromStatus, ToStatus: l.ToStatus,
		Actor: l.Actor, Details: jsonb(l.Details)}
	if l.EntryID != "" {
		r.EntryID = &l.EntryID
	}
	if err := tx.Omit("ID", "CreatedAt").Create(&r).Error; err != nil {
		return fmt.Errorf("append event log: %w", err)
	}
	return nil
}

func audit(tx *gorm.DB, staffID int64, action, target string, details map[string]any) error {
	r := auditRow{Action: action, Target: target, Details: jsonb(details)}
	if staffID != 0 {
		r.StaffID = &staffID
	}
	if err := tx.Omit("ID", "CreatedAt").Create(&r).Error; err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// Audit appends a staff action to the audit log.
func (s *Store) Audit(ctx context.Context, staffID int64, action, target string, details map[string]any) error {
	return audit(s.db.WithContext(ctx), staffID, action, target, details)
}
