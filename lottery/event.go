package lottery

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/internal/textin"
)

// EventStatus is an event's lifecycle state. Stored states are draft,
// published, closed, frozen, drawn and settled; open is derived from the
// registration window while an event is published.
type EventStatus string

// Lifecycle states: draft → published → open → closed → frozen → drawn → settled.
// A published event goes back to draft when unpublished before its window
// (and pre-queue) opens; an event may be cancelled at any state before its
// results are published (EventCancelled, final).
const (
	EventDraft     EventStatus = "draft"
	EventPublished EventStatus = "published"
	EventOpen      EventStatus = "open"
	EventClosed    EventStatus = "closed"
	EventFrozen    EventStatus = "frozen"
	EventDrawn     EventStatus = "drawn"
	EventSettled   EventStatus = "settled"
	EventCancelled EventStatus = "cancelled"
)

// Mode says how a sub-queue allocates its slots.
type Mode string

// Sub-queue modes: a seeded draw after the window, or first-come through a
// waiting room.
const (
	ModeLottery Mode = "lottery"
	ModeOrdered Mode = "ordered"
)

// Ticket rules: how many draw tickets an entry holds.
const (
	TicketRuleNone     = "none"
	TicketRuleDoubling = "doubling"
)

// Event is a race (or other release) with a registration window and a set of
// courses, each split into pace-group sub-queues.
type Event struct {
	ID        int64
	Slug      string
	Name      string
	OrgID     int64 // the organization that runs it (MayManage)
	TimeZone  string
	OpensAt   time.Time
	ClosesAt  time.Time
	Status    EventStatus // stored state; see Phase for the effective one
	OfferHold time.Duration
	// DisputeWindow is the time between freeze and the earliest reveal.
	DisputeWindow time.Duration
	MaxGroupSize  int
	TicketRule    string
	// Currency is the ISO 4217 code every price of the event is in, lower
	// case as stored ("krw"); prices are per pace group.
	Currency string
	// Race details and the refund policy (details.go): RaceDate
	// "YYYY-MM-DD" and RaceStart "HH:MM" in the event's time zone, Place,
	// Description (plain text), the expected draw (DrawDate, a day, or
	// DrawAt, a time; at most one is set) and RefundPolicy. Empty: not
	// announced (no refunds, for the policy).
	RaceDate     string
	RaceStart    string
	Place        string
	Description  string
	DrawDate     string
	DrawAt       *time.Time
	RefundPolicy RefundPolicy
	// SeriesID is the series the event is an edition of (0: none); earlier
	// editions' records earn tickets (TicketRuleDoubling). SeriesSlug is
	// only read when the event is created or attached.
	SeriesID     int64
	SeriesSlug   string
	EditionYear  int    // 0 when not given
	EditionLabel string // "2025"; empty shows the year
	Commitment   string // hex sha256(seed_secret); empty while draft
	Courses      []Course
	// Form is the registration form's questions and consent documents
	// (form.go); read through Form.WithDefaults, so both consents are asked.
	Form Form
	// RiskRules overrides the apply scoring thresholds for this event; nil
	// uses the service's defaults. Its Version names the override.
	RiskRules *antibot.Rules
	// Card is the card-on-file option (cardpolicy.go); nil: none.
	Card *CardPolicy
	// Draw lifecycle.
	UnreviewedPolicy   string // block | exclude | include: entries still in review at freeze
	BeaconRound        string // announced at freeze; a round that does not exist yet
	SeedSecret         string // hex; published at reveal, empty before
	SeedSealed         []byte // the sealed secret, opened only to reveal it
	Beacon             string
	FrozenAt           *time.Time
	RevealedAt         *time.Time
	DrawRequestedAt    *time.Time
	ResultsPublishedAt *time.Time
	PublishedAt        *time.Time
	ClosedAt           *time.Time
	CancelledAt        *time.Time // set when the event was cancelled (EventCancelled)
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Course is one race distance of an event.
type Course struct {
	Code       string
	Name       string
	DistanceKM float64
	PaceGroups []PaceGroup
}

// PaceGroup is a start corral of a course; course × pace group is a sub-queue
// with its own capacity and draw.
type PaceGroup struct {
	ID       int64
	Code     string
	Label    string
	PaceMinS int // seconds per km, 0 when open-ended
	PaceMaxS int
	Capacity int
	Mode     Mode
	// AdmitPerMinute is how fast an ordered sub-queue's waiting room admits.
	AdmitPerMinute int
	// PrequeueMinutes is how long before the window an ordered sub-queue's
	// waiting room takes joins, to be placed in random order at the opening.
	PrequeueMinutes int
	// Price is the entry fee in the event currency's minor units.
	Price int64
	// PausedAt is when the organizer paused an ordered sub-queue's waiting
	// room (nil: admitting); a paused line admits nobody.
	PausedAt *time.Time
}

// SubQueue is a flattened course × pace group.
type SubQueue struct {
	ID       int64
	Key      string // "course:pace"
	Course   string
	Pace     string
	Label    string
	Capacity int
	Mode     Mode
	// AdmitPerMinute is the waiting room's admission rate (ordered mode).
	AdmitPerMinute int
	// PrequeueMinutes opens the waiting room that long before the window.
	PrequeueMinutes int
	// Price is the entry fee in the event currency's minor units.
	Price int64
	// PausedAt: the waiting room is paused (ordered mode); nil admits.
	PausedAt *time.Time
}

func subQueueOf(c Course, p PaceGroup) SubQueue {
	return SubQueue{ID: p.ID, Key: SubQueueKey(c.Code, p.Code), Course: c.Code, Pace: p.Code, Label: p.Label,
		Capacity: p.Capacity, Mode: p.Mode, AdmitPerMinute: p.AdmitPerMinute, PrequeueMinutes: p.PrequeueMinutes,
		Price: p.Price, PausedAt: p.PausedAt}
}

// SubQueueKey joins a course and pace code into the canonical key.
func SubQueueKey(course, pace string) string { return course + ":" + pace }

// SubQueues lists the event's sub-queues in display order.
func (e *Event) SubQueues() []SubQueue {
	var out []SubQueue
	for _, c := range e.Courses {
		for _, p := range c.PaceGroups {
			out = append(out, subQueueOf(c, p))
		}
	}
	return out
}

// Pick finds the sub-queue a runner chose, or the field error naming what
// is wrong with the choice.
func (e *Event) Pick(course, pace string) (SubQueue, error) {
	if course == "" || !e.HasCourse(course) {
		return SubQueue{}, Fieldf("course", "choose one of the event's courses")
	}
	sq, ok := e.SubQueue(course, pace)
	if !ok {
		return SubQueue{}, Fieldf("pace_group", "choose one of the course's pace groups")
	}
	return sq, nil
}

// SubQueue finds a sub-queue by course and pace code.
func (e *Event) SubQueue(course, pace string) (SubQueue, bool) {
	for _, c := range e.Courses {
		if c.Code != course {
			continue
		}
		for _, p := range c.PaceGroups {
			if p.Code == pace {
				return subQueueOf(c, p), true
			}
		}
	}
	return SubQueue{}, false
}

// PriceOf is the entry fee of a sub-queue (by key) in the event's currency;
// zero when the event has no such sub-queue.
func (e Event) PriceOf(key string) Money {
	for _, sq := range e.SubQueues() {
		if sq.Key == key {
			return Money{Amount: sq.Price, Currency: e.Currency}
		}
	}
	return Money{Currency: e.Currency}
}

// SubQueueName is what a runner reads for a sub-queue key: the course's name
// and the pace group's label ("Half Marathon · Under 1:30"), or the key when
// the event has no such sub-queue.
func (e Event) SubQueueName(key string) string {
	for _, c := range e.Courses {
		for _, p := range c.PaceGroups {
			if SubQueueKey(c.Code, p.Code) == key {
				return c.Name + " · " + p.Label
			}
		}
	}
	return key
}

// HasCourse reports whether the event has a course with this code.
func (e *Event) HasCourse(code string) bool {
	for _, c := range e.Courses {
		if c.Code == code {
			return true
		}
	}
	return false
}

// Phase is the effective state at now: a published event is open inside its
// window and closed after it, even before an organizer closes it.
func (e *Event) Phase(now time.Time) EventStatus {
	if e.Status != EventPublished {
		return e.Status
	}
	switch {
	case now.Before(e.OpensAt):
		return EventPublished
	case now.Before(e.ClosesAt):
		return EventOpen
	default:
		return EventClosed
	}
}

// Scorer is the risk scorer for this event's checks (e-mail codes, applying,
// joining a line): one built on the event's RiskRules when the organizer set
// them, def (the service's) otherwise.
func (e *Event) Scorer(def antibot.Scorer) antibot.Scorer {
	if e.RiskRules != nil {
		return antibot.Scorer{Rules: *e.RiskRules}
	}
	return def
}

// Public reports whether runners may see the event.
func (e *Event) Public() bool { return e.Status != EventDraft }

// CheckOpen returns nil when entries are accepted at now, else
// ErrNotOpen or ErrClosed.
func (e *Event) CheckOpen(now time.Time) error {
	switch e.Phase(now) {
	case EventOpen:
		return nil
	case EventDraft, EventPublished:
		return ErrNotOpen
	default:
		return ErrClosed
	}
}

// CheckJoin is CheckOpen for a waiting-room join: an ordered sub-queue with
// a pre-queue also takes joins in the PrequeueMinutes before the opening.
func (e *Event) CheckJoin(now time.Time, sq SubQueue) error {
	err := e.CheckOpen(now)
	if err == ErrNotOpen && e.Phase(now) == EventPublished && sq.PrequeueMinutes > 0 &&
		!now.Before(e.OpensAt.Add(-time.Duration(sq.PrequeueMinutes)*time.Minute)) {
		return nil
	}
	return err
}

// Tickets returns the draw tickets an entry holds under the event's rule:
// 2^n for n previous unsuccessful applications with "doubling" (capped at
// 4096, fairdraw-v1's maximum), else 1.
func (e *Event) Tickets(previous int) int {
	if e.TicketRule != TicketRuleDoubling || previous <= 0 {
		return 1
	}
	if previous >= 12 {
		return 4096
	}
	return 1 << previous
}

var (
	slugRe = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
	codeRe = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
)

// EventSpec is what an organizer submits to create an event.
type EventSpec struct {
	Slug      string
	Name      string
	TimeZone  string
	OpensAt   time.Time
	ClosesAt  time.Time
	OfferHold string // Go duration, e.g. "48h"
	// DisputeWindow is a Go duration from freeze to the earliest reveal;
	// "" takes DefaultDisputeWindow, "0s" (no window) is allowed.
	DisputeWindow string
	MaxGroupSize  int
	TicketRule    string
	// Series (a series slug), EditionYear and EditionLabel make the event an
	// edition of a series (optional).
	Series       string
	EditionYear  int
	EditionLabel string
	// UnreviewedPolicy decides what freeze does with entries still in
	// review: "block" (default) refuses to freeze, "exclude" leaves them out,
	// "include" draws them.
	UnreviewedPolicy string
	RiskRules        *RiskRulesSpec
	Courses          []CourseSpec
	// Form is the registration questions and consent documents (form.go).
	Form FormSpec
	// Details are the race details and terms of sale (race date, place,
	// currency, refund policy, ...).
	Details DetailsSpec
}

// RiskRulesSpec overrides scoring thresholds for one event; zero fields keep
// the defaults.
type RiskRulesSpec struct {
	ReviewAt  int
	RejectAt  int
	MinFillMS int
}

// CourseSpec describes one course in an EventSpec.
type CourseSpec struct {
	Code       string
	Name       string
	DistanceKM float64
	PaceGroups []PaceGroupSpec
}

// PaceGroupSpec describes one pace group; PaceMin/PaceMax are "m:ss" per km.
type PaceGroupSpec struct {
	Code     string
	Label    string
	PaceMin  string
	PaceMax  string
	Capacity int
	Mode     string
	// AdmitPerMinute sets an ordered sub-queue's admission rate; 0 takes
	// DefaultAdmitPerMinute.
	AdmitPerMinute int
	// PrequeueMinutes opens an ordered sub-queue's waiting room this long
	// before the window (0: at the opening, which an organizer may choose
	// knowingly); at most a week. nil takes DefaultPrequeueMinutes for an
	// ordered sub-queue, 0 for a drawn one.
	PrequeueMinutes *int
	// Price is the entry fee in the event currency's minor units (0: free).
	Price int64
}

// Build validates the spec and returns the draft event it describes, or a
// field error naming the first bad field (JSON path style, e.g.
// "courses[0].pace_groups[1].capacity").
func (s EventSpec) Build() (Event, error) {
	e := Event{Slug: s.Slug, Name: strings.TrimSpace(s.Name), TimeZone: s.TimeZone, OpensAt: s.OpensAt.UTC(),
		ClosesAt: s.ClosesAt.UTC(), Status: EventDraft, MaxGroupSize: s.MaxGroupSize, TicketRule: s.TicketRule}
	if !slugRe.MatchString(s.Slug) {
		return Event{}, Fieldf("slug", "use 1 to 64 lowercase letters, digits and dashes")
	}
	if e.Name == "" || len(e.Name) > 200 || !textin.Visible(e.Name) {
		return Event{}, Fieldf("name", "give a name of 1 to 200 characters")
	}
	if e.TimeZone == "" {
		e.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(e.TimeZone); err != nil {
		return Event{}, Fieldf("time_zone", "unknown IANA time zone %q", e.TimeZone)
	}
	if s.OpensAt.IsZero() {
		return Event{}, Fieldf("opens_at", "give an RFC 3339 time")
	}
	if !saneYear(e.OpensAt) {
		return Event{}, Fieldf("opens_at", "give a time in the years %d to %d", MinEventYear, MaxEventYear)
	}
	if s.ClosesAt.IsZero() || !s.ClosesAt.After(s.OpensAt) {
		return Event{}, Fieldf("closes_at", "give an RFC 3339 time after opens_at")
	}
	if !saneYear(e.ClosesAt) {
		return Event{}, Fieldf("closes_at", "give a time in the years %d to %d", MinEventYear, MaxEventYear)
	}
	hold := s.OfferHold
	if hold == "" {
		hold = "48h"
	}
	d, err := time.ParseDuration(hold)
	if err != nil || d < time.Minute || d > 30*24*time.Hour {
		return Event{}, Fieldf("offer_hold", "give a duration between 1m and 720h, e.g. \"48h\"")
	}
	e.OfferHold = d
	if e.DisputeWindow, err = parseDisputeWindow(s.DisputeWindow); err != nil {
		return Event{}, err
	}
	if e.MaxGroupSize == 0 {
		e.MaxGroupSize = 1
	}
	if e.MaxGroupSize < 1 || e.MaxGroupSize > 16 {
		return Event{}, Fieldf("max_group_size", "give 1 to 16 (1 disables groups)")
	}
	if e.TicketRule == "" {
		e.TicketRule = TicketRuleNone
	}
	if e.TicketRule != TicketRuleNone && e.TicketRule != TicketRuleDoubling {
		return Event{}, Fieldf("ticket_rule", "use \"none\" or \"doubling\"")
	}
	if err := CheckEdition(s.Series, s.EditionYear, s.EditionLabel); err != nil {
		return Event{}, err
	}
	e.SeriesSlug, e.EditionYear, e.EditionLabel = s.Series, s.EditionYear, strings.TrimSpace(s.EditionLabel)
	e.UnreviewedPolicy = s.UnreviewedPolicy
	if e.UnreviewedPolicy == "" {
		e.UnreviewedPolicy = PolicyBlock
	}
	if e.UnreviewedPolicy != PolicyBlock && e.UnreviewedPolicy != PolicyExclude && e.UnreviewedPolicy != PolicyInclude {
		return Event{}, Fieldf("unreviewed_policy", "use \"block\", \"exclude\" or \"include\"")
	}
	if s.RiskRules != nil {
		r := antibot.DefaultRules
		if s.RiskRules.ReviewAt != 0 {
			r.ReviewAt = s.RiskRules.ReviewAt
		}
		if s.RiskRules.RejectAt != 0 {
			r.RejectAt = s.RiskRules.RejectAt
		}
		if s.RiskRules.MinFillMS != 0 {
			r.MinFillMS = s.RiskRules.MinFillMS
		}
		switch {
		case r.ReviewAt < 1 || r.ReviewAt > 1000:
			return Event{}, Fieldf("risk_rules.review_at", "give a score from 1 to 1000")
		case r.RejectAt < r.ReviewAt || r.RejectAt > 1000:
			return Event{}, Fieldf("risk_rules.reject_at", "give a score from review_at to 1000")
		case r.MinFillMS < 0 || r.MinFillMS > 600000:
			return Event{}, Fieldf("risk_rules.min_fill_ms", "give 0 to 600000 milliseconds")
		}
		r.Version = fmt.Sprintf("%s/%s:review%d-reject%d-fill%d", r.Version, s.Slug, r.ReviewAt, r.RejectAt, r.MinFillMS)
		e.RiskRules = &r
	}
	if len(s.Courses) == 0 {
		return Event{}, Fieldf("courses", "give at least one course")
	}
	seen := map[string]bool{}
	for i, cs := range s.Courses {
		path := fmt.Sprintf("courses[%d]", i)
		if !codeRe.MatchString(cs.Code) {
			return Event{}, Fieldf(path+".code", "use 1 to 32 lowercase letters, digits and dashes")
		}
		if seen[cs.Code] {
			return Event{}, Fieldf(path+".code", "course %q appears twice", cs.Code)
		}
		seen[cs.Code] = true
		name := strings.TrimSpace(cs.Name)
		if name == "" || len(name) > 100 || !textin.Visible(name) {
			return Event{}, Fieldf(path+".name", "give a name of 1 to 100 characters")
		}
		if cs.DistanceKM <= 0 || cs.DistanceKM > 1000 {
			return Event{}, Fieldf(path+".distance_km", "give a distance above 0 km")
		}
		if len(cs.PaceGroups) == 0 {
			return Event{}, Fieldf(path+".pace_groups", "give at least one pace group")
		}
		c := Course{Code: cs.Code, Name: name, DistanceKM: cs.DistanceKM}
		paces := map[string]bool{}
		for j, ps := range cs.PaceGroups {
			pp := fmt.Sprintf("%s.pace_groups[%d]", path, j)
			if !codeRe.MatchString(ps.Code) {
				return Event{}, Fieldf(pp+".code", "use 1 to 32 lowercase letters, digits and dashes")
			}
			if paces[ps.Code] {
				return Event{}, Fieldf(pp+".code", "pace group %q appears twice", ps.Code)
			}
			paces[ps.Code] = true
			label := strings.TrimSpace(ps.Label)
			if label == "" {
				label = ps.Code
			}
			if len(label) > 100 {
				return Event{}, Fieldf(pp+".label", "give a label of at most 100 characters")
			}
			if !textin.Visible(label) {
				return Event{}, Fieldf(pp+".label", "give a label runners can see, or none")
			}
			if ps.Capacity < 0 || ps.Capacity > 1_000_000 {
				return Event{}, Fieldf(pp+".capacity", "give a capacity from 0 to 1000000")
			}
			mode := Mode(ps.Mode)
			if mode == "" {
				mode = ModeLottery
			}
			if mode != ModeLottery && mode != ModeOrdered {
				return Event{}, Fieldf(pp+".mode", "use \"lottery\" or \"ordered\"")
			}
			admit := ps.AdmitPerMinute
			if admit == 0 {
				admit = DefaultAdmitPerMinute
			}
			if admit < 1 || admit > 100_000 {
				return Event{}, Fieldf(pp+".admit_per_minute", "give 1 to 100000 admissions per minute")
			}
			prequeue := 0
			switch {
			case ps.PrequeueMinutes != nil:
				prequeue = *ps.PrequeueMinutes
			case mode == ModeOrdered:
				prequeue = DefaultPrequeueMinutes
			}
			if prequeue < 0 || prequeue > MaxPrequeueMinutes {
				return Event{}, Fieldf(pp+".prequeue_minutes", "give 0 to %d minutes", MaxPrequeueMinutes)
			}
			if prequeue > 0 && mode != ModeOrdered {
				return Event{}, Fieldf(pp+".prequeue_minutes", "only an ordered pace group has a waiting room to open early")
			}
			minS, err := parsePace(ps.PaceMin)
			if err != nil {
				return Event{}, Fieldf(pp+".pace_min", "%v", err)
			}
			maxS, err := parsePace(ps.PaceMax)
			if err != nil {
				return Event{}, Fieldf(pp+".pace_max", "%v", err)
			}
			if minS > 0 && maxS > 0 && minS > maxS {
				return Event{}, Fieldf(pp+".pace_max", "must not be faster than pace_min")
			}
			if ps.Price < 0 || ps.Price > MaxPriceMinor {
				return Event{}, Fieldf(pp+".price", "give a price from 0 to %d in the currency's minor units", MaxPriceMinor)
			}
			c.PaceGroups = append(c.PaceGroups, PaceGroup{Code: ps.Code, Label: label, PaceMinS: minS, PaceMaxS: maxS,
				Capacity: ps.Capacity, Mode: mode, AdmitPerMinute: admit, PrequeueMinutes: prequeue, Price: ps.Price})
		}
		e.Courses = append(e.Courses, c)
	}
	if e.Form, err = s.Form.Build(); err != nil {
		return Event{}, err
	}
	if err := applyDetails(&e, s.Details); err != nil {
		return Event{}, err
	}
	return e, nil
}

// The years an event's window may fall in. Year 0 or 9999 is a typo or a
// probe; times that far out also overflow what pages and mails format.
const (
	MinEventYear = 2000
	MaxEventYear = 2200
)

func saneYear(t time.Time) bool { y := t.UTC().Year(); return y >= MinEventYear && y <= MaxEventYear }

// parsePace reads "m:ss" per km; empty means open-ended (0).
func parsePace(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	m, sec, ok := strings.Cut(s, ":")
	mi, err1 := strconv.Atoi(m)
	si, err2 := strconv.Atoi(sec)
	if !ok || err1 != nil || err2 != nil || mi < 0 || mi > 59 || si < 0 || si > 59 || len(sec) != 2 || mi*60+si == 0 {
		return 0, fmt.Errorf("give a pace per km as m:ss, e.g. \"5:30\"")
	}
	return mi*60 + si, nil
}

// parseDisputeWindow reads the spec's dispute_window; "" is the default.
func parseDisputeWindow(s string) (time.Duration, error) {
	if s == "" {
		return DefaultDisputeWindow, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > MaxDisputeWindow || d%time.Second != 0 {
		return 0, Fieldf("dispute_window", "give whole seconds between 0s and 720h, e.g. \"24h\"")
	}
	return d, nil
}

// FormatHold renders an offer hold the way organizers write it ("48h", "90m").
func FormatHold(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

// FormatPace renders seconds per km as "m:ss".
func FormatPace(s int) string {
	if s <= 0 {
		return ""
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Policies for entries still in review at freeze.
const (
	PolicyBlock   = "block"
	PolicyExclude = "exclude"
	PolicyInclude = "include"
)

// Organizer actions (POST /api/v1/admin/events/{slug}/{action}).
const (
	ActionPublish        = "publish"
	ActionClose          = "close"
	ActionFreeze         = "freeze"
	ActionReveal         = "reveal"
	ActionDraw           = "draw"
	ActionPublishResults = "publish-results"
	// ActionUnpublish takes a published event back to draft before its
	// registration (or an ordered sub-queue's pre-queue) opens.
	ActionUnpublish = "unpublish"
	// ActionCancel ends an event for good: offers end, paid slots are
	// refunded in full and every runner is told.
	ActionCancel = "cancel"
	// ActionSettle closes the waitlist after the results: a slot released
	// from then on is not offered again, and every runner still waiting is
	// told no place is left for them (entry.not_drawn). Offers already out
	// run to their end. The stored state becomes settled.
	ActionSettle = "settle"
)

// UnpublishBy is the moment an event can no longer be unpublished: its
// registration opening, or earlier the opening of the earliest pre-queue of
// an ordered sub-queue (runners may join from then on).
func (e *Event) UnpublishBy() time.Time {
	by := e.OpensAt
	for _, sq := range e.SubQueues() {
		if sq.Mode != ModeOrdered || sq.PrequeueMinutes <= 0 {
			continue
		}
		if t := e.OpensAt.Add(-time.Duration(sq.PrequeueMinutes) * time.Minute); t.Before(by) {
			by = t
		}
	}
	return by
}

// NextStatus returns the stored state an action leads to from the event's
// state at now, or ErrInvalidTransition. A published event whose window has
// ended counts as closed, so freeze needs no explicit close. Reveal, draw and
// publish-results keep the stored state (frozen, frozen, drawn); the draw
// worker moves an event to drawn when its last sub-queue is drawn.
func (e *Event) NextStatus(action string, now time.Time) (EventStatus, error) {
	phase := e.Phase(now)
	bad := func(why string) (EventStatus, error) {
		return "", &Error{Code: CodeInvalidTransition, Field: "action", Message: fmt.Sprintf("cannot %s: %s", action, why)}
	}
	switch action {
	case ActionPublish:
		if e.Status == EventDraft {
			return EventPublished, nil
		}
		return bad("the event is " + string(phase))
	case ActionClose:
		if e.Status == EventPublished {
			return EventClosed, nil
		}
		return bad("the event is " + string(phase))
	case ActionFreeze:
		if phase == EventClosed {
			return EventFrozen, nil
		}
		return bad("registration must be closed first; the event is " + string(phase))
	case ActionReveal:
		if e.Status != EventFrozen {
			return bad("entries must be frozen first; the event is " + string(phase))
		}
		if e.RevealedAt != nil {
			return bad("the seed is already revealed")
		}
		if err := CheckRevealWindow(*e, now); err != nil {
			return "", err
		}
		return EventFrozen, nil
	case ActionDraw:
		if e.Status != EventFrozen {
			return bad("the event is " + string(phase))
		}
		if e.RevealedAt == nil {
			return bad("reveal the seed first")
		}
		return EventFrozen, nil
	case ActionUnpublish:
		if e.Status != EventPublished {
			return bad("only a published event can be unpublished; the event is " + string(phase))
		}
		if !now.Before(e.UnpublishBy()) {
			return bad("registration (or its waiting room) has opened; cancel the event instead")
		}
		return EventDraft, nil
	case ActionCancel:
		switch {
		case e.Status == EventCancelled:
			return bad("the event is already cancelled")
		case e.Status == EventSettled || e.ResultsPublishedAt != nil:
			return bad("the results are published; offers are out")
		}
		return EventCancelled, nil
	case ActionSettle:
		if e.Status != EventDrawn || e.ResultsPublishedAt == nil {
			return bad("the results must be published first; the event is " + string(phase))
		}
		return EventSettled, nil
	case ActionPublishResults:
		if e.Status != EventDrawn {
			return bad("every sub-queue must be drawn first; the event is " + string(phase))
		}
		if e.ResultsPublishedAt != nil {
			return bad("results are already published")
		}
		return EventDrawn, nil
	}
	return "", &Error{Code: CodeInvalidTransition, Field: "action", Message: fmt.Sprintf("unknown action %q", action)}
}
