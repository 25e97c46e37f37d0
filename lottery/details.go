package lottery

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/startline/startline/internal/textin"
)

// Race details and terms of sale (issue 13): what runners read about the
// race itself (date, start time, place, description, when the draw is
// expected) and what they pay and get back (currency, the refund policy).
// An organizer sets them in the event spec and edits them with EventPatch.

// Bounds of the free-text details.
const (
	MaxPlaceRunes       = 200
	MaxDescriptionRunes = 4000
	MaxRefundTiers      = 5
	// MaxPriceMinor bounds a pace group's price (the subqueues column's check).
	MaxPriceMinor int64 = 100_000_000_000
)

// Currencies an event may charge in: ISO 4217 codes the payment providers
// take, lower case as stored.
var currencies = map[string]bool{"krw": true, "usd": true, "eur": true, "gbp": true, "jpy": true, "cny": true,
	"hkd": true, "sgd": true, "twd": true, "aud": true, "cad": true, "chf": true, "nzd": true, "thb": true, "vnd": true,
	"php": true, "myr": true, "idr": true, "inr": true, "sek": true, "nok": true, "dkk": true}

// DefaultCurrency is the currency of an event whose spec names none.
const DefaultCurrency = "krw"

// RefundTier is one step of a refund policy: a slot given back before
// Until is refunded Percent of what was paid. Date is the organizer's
// "YYYY-MM-DD" when the tier was given as a day (it then runs through the
// end of that day in the event's time zone, and Until is the next midnight).
type RefundTier struct {
	Until   time.Time
	Date    string
	Percent int
}

// RefundPolicy is an event's refund rule: tiers in time order with falling
// percentages ("100% until 1 April, 50% until 1 May"); after the last tier,
// and for an event with no tiers at all, nothing is refunded.
type RefundPolicy struct {
	Tiers []RefundTier
}

// RefundPolicySpec is an organizer's refund policy: each tier's until is a
// date ("2027-04-01", through the end of that day in the event's time zone)
// or an RFC 3339 time.
type RefundPolicySpec struct {
	Tiers []RefundTierSpec
}

// RefundTierSpec is one tier of a RefundPolicySpec.
type RefundTierSpec struct {
	Until   string
	Percent int
}

// RefundDue is the refund a runner who paid paid gets by giving the slot
// back at at under the policy: the percentage of the first tier whose end
// is still ahead, rounded down to the currency's minor unit, and that
// percentage (0 after the last tier or with no tiers).
func RefundDue(p RefundPolicy, paid int64, at time.Time) (amount int64, percent int) {
	if paid <= 0 {
		return 0, 0
	}
	for _, t := range p.Tiers {
		if at.Before(t.Until) {
			return paid * int64(t.Percent) / 100, t.Percent
		}
	}
	return 0, 0
}

// DetailsSpec is the race details and terms part of an event spec, as the
// organizer wrote them; empty strings leave a detail unset.
type DetailsSpec struct {
	RaceDate     string // "YYYY-MM-DD"
	RaceStart    string // "HH:MM", local to the event's time zone
	Place        string
	Description  string // plain text; a blank line separates paragraphs
	DrawDate     string // "YYYY-MM-DD" or RFC 3339: when results are expected
	Currency     string // ISO 4217, any case; "" is DefaultCurrency
	RefundPolicy *RefundPolicySpec
}

var (
	dateRe  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	clockRe = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)
)

// applyDetails validates d against the event's time zone and window and
// sets the event's details; it returns the field error of the first bad one.
func applyDetails(e *Event, d DetailsSpec) error {
	loc := location(e.TimeZone)
	cur := strings.ToLower(strings.TrimSpace(d.Currency))
	if cur == "" {
		cur = DefaultCurrency
	}
	if !currencies[cur] {
		return Fieldf("currency", "use an ISO 4217 currency code such as \"KRW\" or \"USD\"")
	}
	closesDay := e.ClosesAt.In(loc).Format(time.DateOnly)
	var raceEnd time.Time // the end of the race day, for the checks below
	if d.RaceDate != "" {
		day, err := parseDay(d.RaceDate, loc)
		if err != nil {
			return Fieldf("race_date", "give the race day as YYYY-MM-DD")
		}
		if d.RaceDate < closesDay {
			return Fieldf("race_date", "the race cannot be before registration closes (%s)", closesDay)
		}
		raceEnd = day.AddDate(0, 0, 1)
	}
	if d.RaceStart != "" {
		if !clockRe.MatchString(d.RaceStart) {
			return Fieldf("race_start", "give the start time as HH:MM (24-hour clock, the event's time zone)")
		}
		if d.RaceDate == "" {
			return Fieldf("race_start", "give race_date too: a start time needs its day")
		}
	}
	place := strings.TrimSpace(d.Place)
	if utf8.RuneCountInString(place) > MaxPlaceRunes || strings.ContainsAny(place, "\r\n\t") ||
		textin.Check(place) != nil || (place != "" && !textin.Visible(place)) {
		return Fieldf("place", "give a place of at most %d characters on one line", MaxPlaceRunes)
	}
	desc := strings.TrimSpace(strings.ReplaceAll(d.Description, "\r\n", "\n"))
	if utf8.RuneCountInString(desc) > MaxDescriptionRunes || textin.Check(desc) != nil ||
		(desc != "" && !textin.Visible(desc)) {
		return Fieldf("description", "give plain text of at most %d characters", MaxDescriptionRunes)
	}
	e.DrawDate, e.DrawAt = "", nil
	if d.DrawDate != "" {
		switch {
		case dateRe.MatchString(d.DrawDate):
			if _, err := parseDay(d.DrawDate, loc); err != nil {
				return Fieldf("draw_date", "give a date (YYYY-MM-DD) or an RFC 3339 time")
			}
			if d.DrawDate < closesDay {
				return Fieldf("draw_date", "the draw comes after registration closes (%s)", closesDay)
			}
			if d.RaceDate != "" && d.DrawDate > d.RaceDate {
				return Fieldf("draw_date", "the draw must come before the race")
			}
			e.DrawDate = d.DrawDate
		default:
			at, err := time.Parse(time.RFC3339, d.DrawDate)
			if err != nil || !saneYear(at) {
				return Fieldf("draw_date", "give a date (YYYY-MM-DD) or an RFC 3339 time")
			}
			if at.Before(e.ClosesAt) {
				return Fieldf("draw_date", "the draw comes after registration closes")
			}
			if !raceEnd.IsZero() && !at.Before(raceEnd) {
				return Fieldf("draw_date", "the draw must come before the race")
			}
			at = at.UTC()
			e.DrawAt = &at
		}
	}
	policy, err := parseRefundPolicy(d.RefundPolicy, loc, raceEnd)
	if err != nil {
		return err
	}
	e.Currency, e.RaceDate, e.RaceStart, e.Place, e.Description, e.RefundPolicy = cur, d.RaceDate, d.RaceStart, place, desc, policy
	return nil
}

// parseDay reads "YYYY-MM-DD" as midnight in loc, in the years events may use.
func parseDay(s string, loc *time.Location) (time.Time, error) {
	if !dateRe.MatchString(s) {
		return time.Time{}, fmt.Errorf("not a date")
	}
	t, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil || !saneYear(t) {
		return time.Time{}, fmt.Errorf("not a date")
	}
	return t, nil
}

func parseRefundPolicy(s *RefundPolicySpec, loc *time.Location, raceEnd time.Time) (RefundPolicy, error) {
	var p RefundPolicy
	if s == nil {
		return p, nil
	}
	if len(s.Tiers) > MaxRefundTiers {
		return p, Fieldf("refund_policy.tiers", "give at most %d tiers", MaxRefundTiers)
	}
	for i, ts := range s.Tiers {
		path := fmt.Sprintf("refund_policy.tiers[%d]", i)
		t := RefundTier{Percent: ts.Percent}
		if dateRe.MatchString(ts.Until) {
			day, err := parseDay(ts.Until, loc)
			if err != nil {
				return p, Fieldf(path+".until", "give a date (YYYY-MM-DD) or an RFC 3339 time")
			}
			t.Until, t.Date = day.AddDate(0, 0, 1).UTC(), ts.Until
		} else {
			at, err := time.Parse(time.RFC3339, ts.Until)
			if err != nil || !saneYear(at) {
				return p, Fieldf(path+".until", "give a date (YYYY-MM-DD) or an RFC 3339 time")
			}
			t.Until = at.UTC()
		}
		if t.Percent < 1 || t.Percent > 100 {
			return p, Fieldf(path+".percent", "give a percentage from 1 to 100")
		}
		if i > 0 {
			prev := p.Tiers[i-1]
			if !t.Until.After(prev.Until) {
				return p, Fieldf(path+".until", "tiers go in time order: each ends after the one before")
			}
			if t.Percent >= prev.Percent {
				return p, Fieldf(path+".percent", "a later tier refunds less than the one before")
			}
		}
		if !raceEnd.IsZero() && t.Until.After(raceEnd) {
			return p, Fieldf(path+".until", "refund tiers end by the race day")
		}
		p.Tiers = append(p.Tiers, t)
	}
	return p, nil
}

// location loads an event's time zone (validated when the event was
// built); UTC when it does not load.
func location(tz string) *time.Location {
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}

// Details returns the event's details as a spec, the form EventPatch
// overlays and validates again.
func (e Event) Details() DetailsSpec {
	d := DetailsSpec{RaceDate: e.RaceDate, RaceStart: e.RaceStart, Place: e.Place, Description: e.Description,
		DrawDate: e.DrawDateText(), Currency: e.Currency}
	if len(e.RefundPolicy.Tiers) > 0 {
		d.RefundPolicy = &RefundPolicySpec{}
		for _, t := range e.RefundPolicy.Tiers {
			until := t.Date
			if until == "" {
				until = t.Until.Format(time.RFC3339)
			}
			d.RefundPolicy.Tiers = append(d.RefundPolicy.Tiers, RefundTierSpec{Until: until, Percent: t.Percent})
		}
	}
	return d
}

// DrawDateText is the expected draw as the organizer gave it: a date, an
// RFC 3339 time in the event's time zone, or "" when not announced.
func (e Event) DrawDateText() string {
	if e.DrawAt != nil {
		return e.DrawAt.In(location(e.TimeZone)).Format(time.RFC3339)
	}
	return e.DrawDate
}

// RaceStartsAt is the race's start as an instant (the start time on the race
// day in the event's time zone); false when the day or time is not set.
func (e Event) RaceStartsAt() (time.Time, bool) {
	if e.RaceDate == "" || e.RaceStart == "" {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(time.DateOnly+" 15:04", e.RaceDate+" "+e.RaceStart, location(e.TimeZone))
	return t, err == nil
}

// Paragraphs splits the description at blank lines, for pages.
func (e Event) Paragraphs() []string {
	var out []string
	for _, p := range strings.Split(e.Description, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// TermsOpen reports whether an event's terms of sale may still change at
// now: while it is a draft or published before its window opens.
func (e Event) TermsOpen(now time.Time) bool {
	return e.Status == EventDraft || (e.Status == EventPublished && now.Before(e.OpensAt))
}

// EventPatch is an organizer's edit of an event's details and terms: nil
// fields stay as they are, an empty string clears a detail. Prices maps a
// sub-queue key ("10k:open") to its new price in minor units.
type EventPatch struct {
	RaceDate     *string
	RaceStart    *string
	Place        *string
	Description  *string
	DrawDate     *string
	Currency     *string
	RefundPolicy *RefundPolicySpec
	Prices       map[string]int64
}

// Terms reports whether the patch changes terms of sale (prices, currency,
// refund policy), which TermsOpen guards.
func (p EventPatch) Terms() bool {
	return p.Currency != nil || p.RefundPolicy != nil || len(p.Prices) > 0
}

// Apply returns the event with the patch applied and validated, and the
// names of the fields it changed (for the audit log); a field error names
// the first bad field, ErrTermsFixed a change of terms after the opening.
func (p EventPatch) Apply(e Event, now time.Time) (Event, []string, error) {
	if p.Terms() && !e.TermsOpen(now) {
		field := "prices"
		switch {
		case p.Currency != nil:
			field = "currency"
		case p.RefundPolicy != nil:
			field = "refund_policy"
		}
		return Event{}, nil, &Error{Code: CodeTermsFixed, Field: field, Message: ErrTermsFixed.Message}
	}
	d := e.Details()
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&d.RaceDate, p.RaceDate)
	set(&d.RaceStart, p.RaceStart)
	set(&d.Place, p.Place)
	set(&d.Description, p.Description)
	set(&d.DrawDate, p.DrawDate)
	set(&d.Currency, p.Currency)
	if p.RefundPolicy != nil {
		d.RefundPolicy = p.RefundPolicy
	}
	out := e
	out.Courses = make([]Course, len(e.Courses))
	for i, c := range e.Courses {
		c.PaceGroups = append([]PaceGroup(nil), c.PaceGroups...)
		out.Courses[i] = c
	}
	if err := applyDetails(&out, d); err != nil {
		return Event{}, nil, err
	}
	for key, price := range p.Prices {
		found := false
		for i := range out.Courses {
			for j := range out.Courses[i].PaceGroups {
				pg := &out.Courses[i].PaceGroups[j]
				if SubQueueKey(out.Courses[i].Code, pg.Code) == key {
					found, pg.Price = true, price
				}
			}
		}
		if !found {
			return Event{}, nil, Fieldf("prices."+key, "the event has no such course and pace group")
		}
		if price < 0 || price > MaxPriceMinor {
			return Event{}, nil, Fieldf("prices."+key, "give a price from 0 to %d in minor units", MaxPriceMinor)
		}
	}
	var changed []string
	diff := func(name string, a, b any) {
		if fmt.Sprint(a) != fmt.Sprint(b) {
			changed = append(changed, name)
		}
	}
	diff("race_date", e.RaceDate, out.RaceDate)
	diff("race_start", e.RaceStart, out.RaceStart)
	diff("place", e.Place, out.Place)
	diff("description", e.Description, out.Description)
	diff("draw_date", e.DrawDateText(), out.DrawDateText())
	diff("currency", e.Currency, out.Currency)
	diff("refund_policy", e.RefundPolicy.Tiers, out.RefundPolicy.Tiers)
	for _, a := range e.SubQueues() {
		if b := out.PriceOf(a.Key); b.Amount != a.Price {
			changed = append(changed, "prices."+a.Key)
		}
	}
	return out, changed, nil
}
