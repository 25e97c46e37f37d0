// Package dashboard computes an event's numbers for the organizer's
// console (issue 14): applications over time, demand and capacity per
// sub-queue, the risk-score distribution and review backlog, the offer
// funnel, money taken and refunded, and the waiting rooms.
//
// The store answers one aggregate read (Storer.DashboardCounts: GROUP BY
// over indexed columns, never a row per entry), and the service keeps the
// result per event for a short time, so reloading the page, or many
// organizers watching one event, costs one read per TTL.
package dashboard

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/startline/startline/lottery"
)

// HourCount is how many entries were made in one hour (Hour: hours since
// the Unix epoch, UTC).
type HourCount struct {
	Hour int64
	N    int64
}

// EntryCount is how many entries of a sub-queue have one status and one
// risk decision.
type EntryCount struct {
	SubQueueID   int64
	Status       lottery.EntryStatus
	RiskDecision string // accept, review, reject (the score's decision at apply)
	N            int64
}

// RiskBuckets is the width of a risk-score bucket: scores 0 to 1000 fall
// in ten buckets, 1000 in the last.
const RiskBuckets = 100

// OfferCount is how many offers of a sub-queue have one status, split by
// whether they were issued in a release round (a re-offer) or by the draw.
type OfferCount struct {
	SubQueueID int64
	Status     lottery.OfferStatus
	Reoffer    bool
	N          int64
}

// MoneyCount sums the event's payments in minor units of its currency.
type MoneyCount struct {
	Payments int64 // captured payments, refunded ones included
	Taken    int64 // captured (and later refunded) amounts
	Refunded int64 // confirmed refunds
	Owed     int64 // refunds due and not yet confirmed
}

// LineCount is one ordered sub-queue's waiting room.
type LineCount struct {
	SubQueueID int64
	// Issued is the highest place handed out plus the pre-queue still
	// waiting for a place; Admitted the highest place admitted.
	Issued, Admitted int64
	AdmitPerMinute   int
}

// Counts is what the store reads for one event in one call.
type Counts struct {
	Hours   []HourCount
	Entries []EntryCount
	Risk    []int64 // entries per risk bucket, index score/RiskBuckets (1000 in the last)
	Offers  []OfferCount
	Money   MoneyCount
	Lines   []LineCount
}

// Storer reads an event's aggregates.
type Storer interface {
	// DashboardCounts reads every aggregate of the event in one call;
	// lottery.ErrUnavailable when the database cannot be reached.
	DashboardCounts(ctx context.Context, eventID int64) (Counts, error)
}

// Point is one bar of the applications-over-time chart: entries made from
// Start for one hour, or one day in the event's time zone when Daily.
type Point struct {
	Start time.Time
	N     int64
}

// SubQueueRow is one sub-queue's numbers, under its course and pace group
// names.
type SubQueueRow struct {
	lottery.SubQueue
	CourseName string
	// Demand counts entries still in the running (received, in review,
	// eligible, on offer, confirmed and the like): not rejected, withdrawn,
	// declined or expired.
	Demand   int64
	InReview int64
	// Confirmed counts entries that hold a paid slot.
	Confirmed int64
}

// Review is the review backlog: entries flagged at apply (risk decision
// review or reject) by where they stand.
type Review struct {
	Awaiting, Approved, Rejected int64
}

// Flagged is every flagged entry.
func (r Review) Flagged() int64 { return r.Awaiting + r.Approved + r.Rejected }

// Decided is every flagged entry a reviewer (or the freeze) has decided.
func (r Review) Decided() int64 { return r.Approved + r.Rejected }

// Funnel is the offers: every offer issued, those accepted (paid ones
// included), paid, declined, expired, voided (given back or the entry
// rejected) and how many were re-offers of released slots.
type Funnel struct {
	Issued, Accepted, Paid, Declined, Expired, Void, Reoffered int64
}

// Line is an ordered sub-queue's waiting room.
type Line struct {
	lottery.SubQueue
	CourseName        string
	Waiting           int64 // holding a place not yet admitted
	Admitted          int64
	AdmitPerMinute    int
	MinutesToAdmitAll int64 // at the admission rate; 0 when no one waits
}

// Dashboard is an event's numbers at ComputedAt.
type Dashboard struct {
	ComputedAt time.Time
	Entries    int64
	Timeline   []Point
	Daily      bool
	SubQueues  []SubQueueRow
	Risk       [1000 / RiskBuckets]int64
	Review     Review
	Funnel     Funnel
	Taken      lottery.Money
	Refunded   lottery.Money
	Owed       lottery.Money
	Payments   int64
	Lines      []Line
}

// Demand is every sub-queue's demand.
func (d Dashboard) Demand() int64 {
	var n int64
	for _, r := range d.SubQueues {
		n += r.Demand
	}
	return n
}

// Capacity is every sub-queue's slots.
func (d Dashboard) Capacity() int64 {
	var n int64
	for _, r := range d.SubQueues {
		n += int64(r.Capacity)
	}
	return n
}

// Waiting is everyone waiting in a line.
func (d Dashboard) Waiting() int64 {
	var n int64
	for _, l := range d.Lines {
		n += l.Waiting
	}
	return n
}

// Admitted is everyone the lines have admitted.
func (d Dashboard) Admitted() int64 {
	var n int64
	for _, l := range d.Lines {
		n += l.Admitted
	}
	return n
}

// Config tunes the service.
type Config struct {
	// TTL is how long a computed dashboard is shown before it is read
	// again (default 20 s).
	TTL time.Duration
}

// Service computes dashboards through a per-event cache.
type Service struct {
	store Storer
	clock lottery.Clock
	ttl   time.Duration

	mu     sync.Mutex
	cache  map[int64]cached
	flight singleflight.Group
}

type cached struct {
	d     Dashboard
	at    time.Time
	state string // the event's lifecycle state it was computed in (stateOf)
}

// stateOf names where an event is in its lifecycle: a step (publishing
// results issues the offers) shows at once, not after the TTL.
func stateOf(ev lottery.Event) string {
	return fmt.Sprint(ev.Status, ev.UpdatedAt.UnixNano(), ev.ResultsPublishedAt != nil, ev.RevealedAt != nil)
}

// NewService returns a dashboard service reading store.
func NewService(store Storer, clock lottery.Clock, cfg Config) *Service {
	if cfg.TTL <= 0 {
		cfg.TTL = 20 * time.Second
	}
	return &Service{store: store, clock: clock, ttl: cfg.TTL, cache: map[int64]cached{}}
}

// Dashboard returns ev's numbers, at most TTL old. The cache's age is real
// elapsed time, not the service clock (a test clock that stands still must
// not freeze it). The caller has checked the organizer may see ev.
func (s *Service) Dashboard(ctx context.Context, ev lottery.Event) (Dashboard, error) {
	now := time.Now()
	s.mu.Lock()
	c, ok := s.cache[ev.ID]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < s.ttl && c.state == stateOf(ev) {
		return c.d, nil
	}
	v, err, _ := s.flight.Do(strconv.FormatInt(ev.ID, 10)+"|"+stateOf(ev), func() (any, error) {
		counts, err := s.store.DashboardCounts(ctx, ev.ID)
		if err != nil {
			return Dashboard{}, fmt.Errorf("dashboard %s: %w", ev.Slug, err)
		}
		d := Build(ev, counts, s.clock.Now())
		s.mu.Lock()
		s.cache[ev.ID] = cached{d: d, at: time.Now(), state: stateOf(ev)}
		s.mu.Unlock()
		return d, nil
	})
	return v.(Dashboard), err
}

// Build turns an event's counts into its dashboard: names for sub-queues,
// the timeline by hour or day, the backlog, funnel and money. Sub-queues
// come in the event's order; counts of sub-queues the event no longer has
// are left out.
func Build(ev lottery.Event, c Counts, now time.Time) Dashboard {
	d := Dashboard{ComputedAt: now}
	d.Timeline, d.Daily = Timeline(c.Hours, location(ev.TimeZone))
	rows := map[int64]*SubQueueRow{}
	names := map[string]string{}
	for _, co := range ev.Courses {
		names[co.Code] = co.Name
	}
	for _, sq := range ev.SubQueues() {
		d.SubQueues = append(d.SubQueues, SubQueueRow{SubQueue: sq, CourseName: names[sq.Course]})
	}
	for i := range d.SubQueues {
		rows[d.SubQueues[i].ID] = &d.SubQueues[i]
	}
	for _, e := range c.Entries {
		d.Entries += e.N
		if r := rows[e.SubQueueID]; r != nil {
			if InTheRunning(e.Status) {
				r.Demand += e.N
			}
			switch e.Status {
			case lottery.EntryInReview:
				r.InReview += e.N
			case lottery.EntryConfirmed:
				r.Confirmed += e.N
			}
		}
		d.Review.add(e)
	}
	for i, n := range c.Risk {
		d.Risk[min(i, len(d.Risk)-1)] += n
	}
	for _, o := range c.Offers {
		d.Funnel.add(o)
	}
	cur := ev.Currency
	d.Taken, d.Refunded, d.Owed = lottery.Money{Amount: c.Money.Taken, Currency: cur},
		lottery.Money{Amount: c.Money.Refunded, Currency: cur}, lottery.Money{Amount: c.Money.Owed, Currency: cur}
	d.Payments = c.Money.Payments
	lines := map[int64]LineCount{}
	for _, l := range c.Lines {
		lines[l.SubQueueID] = l
	}
	for _, r := range d.SubQueues {
		if r.Mode != lottery.ModeOrdered {
			continue
		}
		l := lines[r.ID]
		rate := l.AdmitPerMinute
		if rate <= 0 {
			rate = r.AdmitPerMinute
		}
		d.Lines = append(d.Lines, NewLine(r.SubQueue, r.CourseName, l.Issued, l.Admitted, rate))
	}
	return d
}

// NewLine is a waiting room's numbers: Waiting is the places issued past
// the last admitted (never negative), and the minutes to admit them all at
// the rate, rounded up.
func NewLine(sq lottery.SubQueue, course string, issued, admitted int64, perMinute int) Line {
	l := Line{SubQueue: sq, CourseName: course, Admitted: admitted, AdmitPerMinute: perMinute, Waiting: max(issued-admitted, 0)}
	if perMinute > 0 {
		l.MinutesToAdmitAll = (l.Waiting + int64(perMinute) - 1) / int64(perMinute)
	}
	return l
}

// InTheRunning reports whether an entry with status st still competes for,
// or holds, a slot: it counts toward a sub-queue's demand.
func InTheRunning(st lottery.EntryStatus) bool {
	switch st {
	case lottery.EntryRejected, lottery.EntryWithdrawn, lottery.EntryDeclined, lottery.EntryExpired, lottery.EntryTransferred, lottery.EntryDeferred:
		return false
	}
	return true
}

// add counts a flagged entry into the backlog: awaiting while in review,
// rejected once rejected, approved once it moved on any other way.
func (r *Review) add(e EntryCount) {
	if e.RiskDecision == "accept" || e.RiskDecision == "" {
		return
	}
	switch e.Status {
	case lottery.EntryInReview:
		r.Awaiting += e.N
	case lottery.EntryRejected:
		r.Rejected += e.N
	default:
		r.Approved += e.N
	}
}

// add counts offers into the funnel: a paid offer was accepted first.
func (f *Funnel) add(o OfferCount) {
	f.Issued += o.N
	if o.Reoffer {
		f.Reoffered += o.N
	}
	switch o.Status {
	case lottery.OfferAccepted:
		f.Accepted += o.N
	case lottery.OfferPaid:
		f.Accepted += o.N
		f.Paid += o.N
	case lottery.OfferDeclined:
		f.Declined += o.N
	case lottery.OfferExpired:
		f.Expired += o.N
	case lottery.OfferVoid:
		f.Void += o.N
	}
}

// DailyAfter is the span past which the timeline counts days, not hours.
const DailyAfter = 72 * time.Hour

// Timeline turns hourly counts into the points of the applications chart:
// one per hour from the first to the last hour with entries (hours with
// none are zero), or, when that spans more than DailyAfter, one per
// calendar day in loc.
func Timeline(hours []HourCount, loc *time.Location) ([]Point, bool) {
	if len(hours) == 0 {
		return nil, false
	}
	first, last := hours[0].Hour, hours[0].Hour
	byHour := map[int64]int64{}
	for _, h := range hours {
		first, last = min(first, h.Hour), max(last, h.Hour)
		byHour[h.Hour] += h.N
	}
	at := func(h int64) time.Time { return time.Unix(h*3600, 0).In(loc) }
	if time.Duration(last-first)*time.Hour <= DailyAfter {
		out := make([]Point, 0, last-first+1)
		for h := first; h <= last; h++ {
			out = append(out, Point{Start: at(h), N: byHour[h]})
		}
		return out, false
	}
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc) }
	byDay := map[time.Time]int64{}
	for h, n := range byHour {
		byDay[day(at(h))] += n
	}
	var out []Point
	for d := day(at(first)); !d.After(day(at(last))); d = d.AddDate(0, 0, 1) {
		out = append(out, Point{Start: d, N: byDay[d]})
	}
	return out, true
}

func location(tz string) *time.Location {
	if loc, err := time.LoadLocation(tz); err == nil && tz != "" {
		return loc
	}
	return time.UTC
}
