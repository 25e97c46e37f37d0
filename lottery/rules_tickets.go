package lottery

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/startline/startline/internal/textin"
)

// Series is a race's editions, year after year: earlier editions' records
// earn a runner tickets in later ones (TicketRuleDoubling).
type Series struct {
	ID    int64
	Slug  string
	Name  string
	OrgID int64 // the organization that runs the race
}

// Claim states of an entry's ticket claim.
const (
	ClaimNone     = "none"     // no claim, or one the record already covers
	ClaimPending  = "pending"  // above the record, waiting for a reviewer
	ClaimAccepted = "accepted" // a reviewer accepted it: tickets follow the claim
	ClaimDeclined = "declined" // a reviewer declined it: tickets follow the record
)

// ReasonTicketClaim is the review reason of an entry whose runner claims
// more earlier applications than the record shows.
const ReasonTicketClaim = "ticket_claim"

// HistoryMatch is one piece of a runner's record found for an application:
// an earlier Startline edition of the series in which a person with one of
// the entry's identity keys took part in the draw and never got a place
// (EditionEventID set), or an imported history row (ImportRowID set, with
// its count and years).
type HistoryMatch struct {
	EditionEventID int64
	EditionSlug    string
	EditionLabel   string // "2025"; the year as text when no label was set
	EditionYear    int
	ImportRowID    int64
	Applications   int   // an imported row's count; an edition counts 1
	Years          []int // an imported row's years, when the file gave them
}

// TicketRecord is how an entry's recorded count was reached: what the
// status page explains and the review page shows beside a claim.
type TicketRecord struct {
	Count    int       `json:"count"`
	Editions []Edition `json:"editions,omitempty"` // earlier Startline editions, newest first
	Imported int       `json:"imported,omitempty"` // applications from the imported history
	Years    []int     `json:"imported_years,omitempty"`
}

// Edition names one earlier edition that counted.
type Edition struct {
	Slug  string `json:"slug"`
	Label string `json:"label"`
	Year  int    `json:"year,omitempty"`
}

// Labels lists every counted application's name for the status page:
// editions' labels, then the imported years (newest first), then "" for
// imported applications without a year.
func (r TicketRecord) Labels() []string {
	var out []string
	for _, e := range r.Editions {
		out = append(out, e.Label)
	}
	for _, y := range r.Years {
		out = append(out, strconv.Itoa(y))
	}
	return out
}

// MaxRecordedApplications caps a recorded or claimed count (entries'
// previous_applications column); 12 already reaches fairdraw's 4096 tickets.
const MaxRecordedApplications = 100

// EarnedApplications is the rule for an entry's recorded count from the
// matches of its identity keys: each earlier Startline edition counts once
// however many keys matched it; the imported history counts the largest
// matching row (one person's row, found through several keys or repeated
// in a file, is not added up), its years kept for the explanation. An
// imported year that is also a matched edition's year is not counted
// twice. The total is capped at MaxRecordedApplications.
func EarnedApplications(matches []HistoryMatch) TicketRecord {
	var rec TicketRecord
	seen := map[int64]bool{}
	editionYears := map[int]bool{}
	var best *HistoryMatch
	for i := range matches {
		m := &matches[i]
		if m.EditionEventID != 0 {
			if seen[m.EditionEventID] {
				continue
			}
			seen[m.EditionEventID] = true
			label := m.EditionLabel
			if label == "" && m.EditionYear != 0 {
				label = strconv.Itoa(m.EditionYear)
			}
			if label == "" {
				label = m.EditionSlug
			}
			rec.Editions = append(rec.Editions, Edition{Slug: m.EditionSlug, Label: label, Year: m.EditionYear})
			if m.EditionYear != 0 {
				editionYears[m.EditionYear] = true
			}
			continue
		}
		if m.ImportRowID != 0 && m.Applications > 0 && (best == nil || m.Applications > best.Applications ||
			(m.Applications == best.Applications && m.ImportRowID < best.ImportRowID)) {
			best = m
		}
	}
	slices.SortStableFunc(rec.Editions, func(a, b Edition) int {
		return cmp.Or(cmp.Compare(b.Year, a.Year), strings.Compare(a.Label, b.Label))
	})
	if best != nil {
		rec.Imported = best.Applications
		for _, y := range best.Years {
			if editionYears[y] {
				rec.Imported-- // the same application, recorded twice
				continue
			}
			rec.Years = append(rec.Years, y)
		}
		slices.Sort(rec.Years)
		slices.Reverse(rec.Years)
		rec.Years = slices.Compact(rec.Years)
		rec.Imported = max(rec.Imported, len(rec.Years))
	}
	rec.Count = min(len(rec.Editions)+rec.Imported, MaxRecordedApplications)
	return rec
}

// TicketCount is what an entry's tickets are counted from and its claim
// state.
type TicketCount struct {
	Counted int    // the count Event.Tickets is applied to
	Claim   string // ClaimNone or ClaimPending
}

// CountTickets is the rule at apply: the record counts; a claim above it
// (only meaningful under the doubling rule) is pending review and does not
// count until accepted. A claim at or below the record changes nothing.
func CountTickets(rule string, recorded int, claimed *int) TicketCount {
	if rule != TicketRuleDoubling {
		return TicketCount{Counted: 0, Claim: ClaimNone}
	}
	if claimed != nil && *claimed > recorded {
		return TicketCount{Counted: recorded, Claim: ClaimPending}
	}
	return TicketCount{Counted: recorded, Claim: ClaimNone}
}

// ClaimDecision is the rule for a reviewer's ruling on a pending claim,
// given the event's status: only a pending claim may be decided, and only
// before freeze (tickets are fixed then: CodeTicketsFrozen). It returns the
// new claim state and the count the tickets follow.
func ClaimDecision(status EventStatus, claim string, recorded, claimed int, accept bool) (string, int, error) {
	switch status {
	case EventPublished, EventClosed:
	default:
		return "", 0, ErrTicketsFrozen
	}
	if claim != ClaimPending {
		return "", 0, &Error{Code: CodeInvalidTransition, Field: "decision", Message: "this entry has no claim waiting for a decision"}
	}
	if accept {
		return ClaimAccepted, claimed, nil
	}
	return ClaimDeclined, recorded, nil
}

// CheckEdition is the rule for an event's place in a series: a series slug
// like an event's, a year from 1900 to 2200 (or none) and a label of at most
// 64 visible characters; a year or label needs a series.
func CheckEdition(series string, year int, label string) error {
	label = strings.TrimSpace(label)
	if series == "" {
		if year != 0 || label != "" {
			return Fieldf("series", "give the series this edition belongs to")
		}
		return nil
	}
	if !slugRe.MatchString(series) {
		return Fieldf("series", "use 1 to 64 lowercase letters, digits and dashes")
	}
	if year != 0 && (year < 1900 || year > 2200) {
		return Fieldf("edition_year", "give a year from 1900 to 2200")
	}
	if len([]rune(label)) > 64 || (label != "" && !textin.Visible(label)) {
		return Fieldf("edition_label", "give a label of at most 64 characters")
	}
	return nil
}

// CheckSeries is the rule for a new series: a slug like an event's and a
// name of 1 to 200 characters.
func CheckSeries(s Series) (Series, error) {
	s.Name = strings.TrimSpace(s.Name)
	if !slugRe.MatchString(s.Slug) {
		return Series{}, Fieldf("slug", "use 1 to 64 lowercase letters, digits and dashes")
	}
	if s.Name == "" || len(s.Name) > 200 || !textin.Visible(s.Name) {
		return Series{}, Fieldf("name", "give a name of 1 to 200 characters")
	}
	return s, nil
}

// TicketsExplained is how an entry's tickets were counted, for its status
// page and JSON ("2 earlier applications found: 2025, 2024 → 4 tickets").
type TicketsExplained struct {
	Weighted bool     // the event's rule weights the draw (doubling)
	Found    int      // the recorded count
	Labels   []string // the counted editions and imported years; fewer than Found when a file gave no years
	Counted  int      // the count the tickets follow
	Tickets  int
	Claimed  int    // the runner's claim above the record; 0 without one
	Claim    string // ClaimNone, ClaimPending, ClaimAccepted, ClaimDeclined
}

// ExplainTickets describes e's tickets under ev's rule.
func ExplainTickets(ev Event, e Entry) TicketsExplained {
	x := TicketsExplained{Weighted: ev.TicketRule == TicketRuleDoubling, Found: e.RecordedApplications,
		Labels: e.TicketRecord.Labels(), Counted: e.PreviousApplications, Tickets: e.Tickets, Claim: cmp.Or(e.ClaimStatus, ClaimNone)}
	if e.ClaimedApplications != nil && x.Claim != ClaimNone {
		x.Claimed = *e.ClaimedApplications
	}
	return x
}

// English is the explanation in English, for the API.
func (x TicketsExplained) English() string {
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	if !x.Weighted {
		return "every entry holds 1 ticket in this event's draw"
	}
	var s string
	switch {
	case x.Found == 0:
		s = "no earlier applications found"
	case len(x.Labels) > 0:
		s = plural(x.Found, "earlier application", "earlier applications") + " found: " + strings.Join(x.Labels, ", ")
	default:
		s = plural(x.Found, "earlier application", "earlier applications") + " found"
	}
	switch x.Claim {
	case ClaimPending:
		return s + "; you claimed " + strconv.Itoa(x.Claimed) + "; a reviewer will check it; counting " +
			strconv.Itoa(x.Counted) + " until then → " + plural(x.Tickets, "ticket", "tickets")
	case ClaimAccepted:
		return s + "; a reviewer accepted your claim of " + strconv.Itoa(x.Claimed) + " → " + plural(x.Tickets, "ticket", "tickets")
	case ClaimDeclined:
		return s + "; a reviewer declined your claim of " + strconv.Itoa(x.Claimed) + " → " + plural(x.Tickets, "ticket", "tickets")
	}
	return s + " → " + plural(x.Tickets, "ticket", "tickets")
}
