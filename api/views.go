package api

import (
	"encoding/json"
	"time"

	"github.com/startline/startline/lottery"
)

type eventJSON struct {
	Slug       string    `json:"slug"`
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	OpensAt    time.Time `json:"opens_at"`
	ClosesAt   time.Time `json:"closes_at"`
	TimeZone   string    `json:"time_zone"`
	Commitment string    `json:"commitment"`
	OfferHold  string    `json:"offer_hold"`
	// DisputeWindow (API.md) is the time from freeze to the earliest
	// reveal; RevealNotBefore is when it ends, once frozen.
	DisputeWindow   string         `json:"dispute_window"`
	RevealNotBefore *time.Time     `json:"reveal_not_before,omitempty"`
	MaxGroupSize    int            `json:"max_group_size"`
	TicketRule      string         `json:"ticket_rule"`
	Series          string         `json:"series,omitempty"`
	EditionYear     int            `json:"edition_year,omitempty"`
	EditionLabel    string         `json:"edition_label,omitempty"`
	Courses         []courseJSON   `json:"courses"`
	SubQueues       []subqueueJSON `json:"subqueues"`

	UnreviewedPolicy   string     `json:"unreviewed_policy"`
	FrozenAt           *time.Time `json:"frozen_at,omitempty"`
	BeaconRound        string     `json:"beacon_round,omitempty"`
	SeedSecret         string     `json:"seed_secret,omitempty"`
	Beacon             string     `json:"beacon,omitempty"`
	RevealedAt         *time.Time `json:"revealed_at,omitempty"`
	ResultsPublishedAt *time.Time `json:"results_published_at,omitempty"`
	formSpecJSON                  // the registration questions and documents (questions.go)
	detailsJSON
	// CardOnFile: applications need card_setup_id (cards.go, issue 15).
	CardOnFile bool `json:"card_on_file"`
}

type courseJSON struct {
	Code       string          `json:"code"`
	Name       string          `json:"name"`
	DistanceKM float64         `json:"distance_km"`
	PaceGroups []paceGroupJSON `json:"pace_groups"`
}

type paceGroupJSON struct {
	Key      string `json:"key"`
	Code     string `json:"code"`
	Label    string `json:"label"`
	PaceMin  string `json:"pace_min,omitempty"`
	PaceMax  string `json:"pace_max,omitempty"`
	Capacity int    `json:"capacity"`
	Mode     string `json:"mode"`
	// AdmitPerMinute is the waiting room's rate; ordered pace groups only.
	AdmitPerMinute int `json:"admit_per_minute,omitempty"`
	// PrequeueMinutes is how early the waiting room opens; ordered only.
	PrequeueMinutes int `json:"prequeue_minutes,omitempty"`
	// Price is the entry fee in minor units of the event's currency.
	Price int64 `json:"price"`
}

type subqueueJSON struct {
	Key            string `json:"key"`
	Course         string `json:"course"`
	PaceGroup      string `json:"pace_group"`
	Label          string `json:"label"`
	Capacity       int    `json:"capacity"`
	Mode           string `json:"mode"`
	AdmitPerMinute int    `json:"admit_per_minute,omitempty"`
	// PrequeueMinutes: the waiting room takes joins this long before
	// opens_at and places them in random order at the opening.
	PrequeueMinutes int `json:"prequeue_minutes,omitempty"`
	// Entries (API.md: the count so far) and the odds fields are the
	// stored snapshot (lottery/drawstats): refreshed at most once a minute,
	// final at freeze; absent before the first one.
	Entries *int `json:"entries,omitempty"`
	oddsFields
	Price priceJSON `json:"price"`
}

func eventView(e lottery.Event, now time.Time) eventJSON {
	v := eventJSON{Slug: e.Slug, Name: e.Name, Status: string(e.Phase(now)), OpensAt: e.OpensAt, ClosesAt: e.ClosesAt,
		TimeZone: e.TimeZone, Commitment: e.Commitment, OfferHold: lottery.FormatHold(e.OfferHold), MaxGroupSize: e.MaxGroupSize,
		TicketRule: e.TicketRule, Series: e.SeriesSlug, EditionYear: e.EditionYear, EditionLabel: e.EditionLabel,
		Courses: []courseJSON{}, SubQueues: []subqueueJSON{},
		UnreviewedPolicy: e.UnreviewedPolicy, FrozenAt: e.FrozenAt, BeaconRound: e.BeaconRound, SeedSecret: e.SeedSecret,
		Beacon: e.Beacon, RevealedAt: e.RevealedAt, ResultsPublishedAt: e.ResultsPublishedAt,
		DisputeWindow: formatWindow(e.DisputeWindow), detailsJSON: detailsView(e), CardOnFile: e.CardOnFile()}
	if end, ok := lottery.RevealNotBefore(e); ok {
		v.RevealNotBefore = &end
	}
	v.formSpecJSON = formView(e.Form)
	for _, c := range e.Courses {
		cj := courseJSON{Code: c.Code, Name: c.Name, DistanceKM: c.DistanceKM}
		for _, p := range c.PaceGroups {
			key := lottery.SubQueueKey(c.Code, p.Code)
			admit := 0
			if p.Mode == lottery.ModeOrdered {
				admit = p.AdmitPerMinute
			}
			cj.PaceGroups = append(cj.PaceGroups, paceGroupJSON{Key: key, Code: p.Code, Label: p.Label,
				PaceMin: lottery.FormatPace(p.PaceMinS), PaceMax: lottery.FormatPace(p.PaceMaxS), Capacity: p.Capacity,
				Mode: string(p.Mode), AdmitPerMinute: admit, PrequeueMinutes: p.PrequeueMinutes, Price: p.Price})
			v.SubQueues = append(v.SubQueues, subqueueJSON{Key: key, Course: c.Code, PaceGroup: p.Code, Label: p.Label,
				Capacity: p.Capacity, Mode: string(p.Mode), AdmitPerMinute: admit, PrequeueMinutes: p.PrequeueMinutes,
				Price: moneyJSON(e.PriceOf(key))})
		}
		v.Courses = append(v.Courses, cj)
	}
	return v
}

// eventSpecJSON is the organizer's create-event body (API.md).
type eventSpecJSON struct {
	Slug      string `json:"slug"`
	Name      string `json:"name"`
	TimeZone  string `json:"time_zone"`
	OpensAt   string `json:"opens_at"`
	ClosesAt  string `json:"closes_at"`
	OfferHold string `json:"offer_hold"`
	// DisputeWindow: "" takes the default (24h); "0s" means none.
	DisputeWindow string `json:"dispute_window"`
	MaxGroupSize  int    `json:"max_group_size"`
	TicketRule    string `json:"ticket_rule"`
	Series        string `json:"series"`
	EditionYear   int    `json:"edition_year"`
	EditionLabel  string `json:"edition_label"`
	Unreviewed    string `json:"unreviewed_policy"`
	RiskRules     *struct {
		ReviewAt  int `json:"review_at"`
		RejectAt  int `json:"reject_at"`
		MinFillMS int `json:"min_fill_ms"`
	} `json:"risk_rules"`
	Courses []struct {
		Code       string  `json:"code"`
		Name       string  `json:"name"`
		DistanceKM float64 `json:"distance_km"`
		PaceGroups []struct {
			Code     string `json:"code"`
			Label    string `json:"label"`
			PaceMin  string `json:"pace_min"`
			PaceMax  string `json:"pace_max"`
			Capacity int    `json:"capacity"`
			Mode     string `json:"mode"`
			// AdmitPerMinute is the waiting room's rate for an ordered pace group.
			AdmitPerMinute int `json:"admit_per_minute"`
			// PrequeueMinutes opens an ordered pace group's waiting room early.
			PrequeueMinutes *int `json:"prequeue_minutes"`
			// Price is the entry fee in the currency's minor units (API.md).
			Price int64 `json:"price"`
		} `json:"pace_groups"`
	} `json:"courses"`
	// The registration form (questions.go); not embedded, so a type error
	// names its JSON path.
	Questions []questionJSON `json:"questions"`
	Privacy   *privacyJSON   `json:"privacy"`
	Waiver    *waiverJSON    `json:"waiver"`
	detailsSpecJSON
}

func (b eventSpecJSON) spec() (lottery.EventSpec, error) {
	opens, err := time.Parse(time.RFC3339, b.OpensAt)
	if err != nil {
		return lottery.EventSpec{}, lottery.Fieldf("opens_at", "give an RFC 3339 time, e.g. 2027-03-01T09:00:00+09:00")
	}
	closes, err := time.Parse(time.RFC3339, b.ClosesAt)
	if err != nil {
		return lottery.EventSpec{}, lottery.Fieldf("closes_at", "give an RFC 3339 time, e.g. 2027-03-08T18:00:00+09:00")
	}
	s := lottery.EventSpec{Slug: b.Slug, Name: b.Name, TimeZone: b.TimeZone, OpensAt: opens,
		ClosesAt: closes, OfferHold: b.OfferHold, DisputeWindow: b.DisputeWindow, MaxGroupSize: b.MaxGroupSize, TicketRule: b.TicketRule,
		UnreviewedPolicy: b.Unreviewed, Series: b.Series, EditionYear: b.EditionYear, EditionLabel: b.EditionLabel,
		Form:    formSpecJSON{Questions: b.Questions, Privacy: b.Privacy, Waiver: b.Waiver}.spec(),
		Details: b.detailsSpecJSON.spec()}
	if b.RiskRules != nil {
		s.RiskRules = &lottery.RiskRulesSpec{ReviewAt: b.RiskRules.ReviewAt, RejectAt: b.RiskRules.RejectAt,
			MinFillMS: b.RiskRules.MinFillMS}
	}
	for _, c := range b.Courses {
		cs := lottery.CourseSpec{Code: c.Code, Name: c.Name, DistanceKM: c.DistanceKM}
		for _, p := range c.PaceGroups {
			cs.PaceGroups = append(cs.PaceGroups, lottery.PaceGroupSpec{Code: p.Code, Label: p.Label, PaceMin: p.PaceMin,
				PaceMax: p.PaceMax, Capacity: p.Capacity, Mode: p.Mode, AdmitPerMinute: p.AdmitPerMinute, PrequeueMinutes: p.PrequeueMinutes,
				Price: p.Price})
		}
		s.Courses = append(s.Courses, cs)
	}
	return s, nil
}

// jsonOrNull embeds stored JSON as is (nil when empty).
func jsonOrNull(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}

// formatWindow renders a dispute window the way organizers write it ("24h",
// "90m", "0s" for none).
func formatWindow(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	return lottery.FormatHold(d)
}
