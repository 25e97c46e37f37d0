package lottery

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEarnedApplications(t *testing.T) {
	ed := func(id int64, year int, label string) HistoryMatch {
		return HistoryMatch{EditionEventID: id, EditionSlug: "race-" + strconv.Itoa(year), EditionYear: year, EditionLabel: label}
	}
	imp := func(id int64, n int, years ...int) HistoryMatch {
		return HistoryMatch{ImportRowID: id, Applications: n, Years: years}
	}
	tests := []struct {
		name    string
		matches []HistoryMatch
		want    TicketRecord
	}{
		{"nothing found", nil, TicketRecord{}},
		{"two editions newest first", []HistoryMatch{ed(1, 2024, ""), ed(2, 2025, "")},
			TicketRecord{Count: 2, Editions: []Edition{{"race-2025", "2025", 2025}, {"race-2024", "2024", 2024}}}},
		{"one edition matched by three keys counts once", []HistoryMatch{ed(1, 2025, ""), ed(1, 2025, ""), ed(1, 2025, "")},
			TicketRecord{Count: 1, Editions: []Edition{{"race-2025", "2025", 2025}}}},
		{"a label wins over the year", []HistoryMatch{ed(1, 2025, "25th")},
			TicketRecord{Count: 1, Editions: []Edition{{"race-2025", "25th", 2025}}}},
		{"imported rows: the largest, not the sum", []HistoryMatch{imp(7, 2, 2023, 2022), imp(8, 1)},
			TicketRecord{Count: 2, Imported: 2, Years: []int{2023, 2022}}},
		{"imported count without years", []HistoryMatch{imp(7, 3)}, TicketRecord{Count: 3, Imported: 3}},
		{"edition plus import", []HistoryMatch{ed(1, 2025, ""), imp(7, 2, 2022, 2023)},
			TicketRecord{Count: 3, Editions: []Edition{{"race-2025", "2025", 2025}}, Imported: 2, Years: []int{2023, 2022}}},
		{"an imported year that is an edition counts once", []HistoryMatch{ed(1, 2025, ""), imp(7, 2, 2025, 2024)},
			TicketRecord{Count: 2, Editions: []Edition{{"race-2025", "2025", 2025}}, Imported: 1, Years: []int{2024}}},
		{"capped", []HistoryMatch{ed(1, 2025, ""), imp(7, 100)},
			TicketRecord{Count: MaxRecordedApplications, Editions: []Edition{{"race-2025", "2025", 2025}}, Imported: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EarnedApplications(tt.matches)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("EarnedApplications (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTicketsFromRecord(t *testing.T) {
	doubling, none := Event{TicketRule: TicketRuleDoubling}, Event{TicketRule: TicketRuleNone}
	tests := []struct {
		ev       Event
		recorded int
		claimed  *int
		want     TicketCount
		tickets  int
	}{
		{doubling, 0, nil, TicketCount{0, ClaimNone}, 1},
		{doubling, 2, nil, TicketCount{2, ClaimNone}, 4},
		{doubling, 2, new(2), TicketCount{2, ClaimNone}, 4},
		{doubling, 2, new(1), TicketCount{2, ClaimNone}, 4},
		{doubling, 2, new(3), TicketCount{2, ClaimPending}, 4},
		{doubling, 0, new(12), TicketCount{0, ClaimPending}, 1},
		{doubling, 12, nil, TicketCount{12, ClaimNone}, 4096},
		{doubling, 40, nil, TicketCount{40, ClaimNone}, 4096},
		{none, 3, new(5), TicketCount{0, ClaimNone}, 1},
	}
	for _, tt := range tests {
		got := CountTickets(tt.ev.TicketRule, tt.recorded, tt.claimed)
		if got != tt.want || tt.ev.Tickets(got.Counted) != tt.tickets {
			t.Errorf("CountTickets(%s, %d, %v) = %+v (%d tickets), want %+v (%d)", tt.ev.TicketRule, tt.recorded, tt.claimed,
				got, tt.ev.Tickets(got.Counted), tt.want, tt.tickets)
		}
	}
}

func TestClaimDecision(t *testing.T) {
	tests := []struct {
		name      string
		status    EventStatus
		claim     string
		accept    bool
		wantState string
		wantCount int
		wantCode  string
	}{
		{"accept while open", EventPublished, ClaimPending, true, ClaimAccepted, 5, ""},
		{"decline while closed", EventClosed, ClaimPending, false, ClaimDeclined, 2, ""},
		{"frozen", EventFrozen, ClaimPending, true, "", 0, CodeTicketsFrozen},
		{"drawn", EventDrawn, ClaimPending, false, "", 0, CodeTicketsFrozen},
		{"no claim", EventPublished, ClaimNone, true, "", 0, CodeInvalidTransition},
		{"decided already", EventPublished, ClaimAccepted, false, "", 0, CodeInvalidTransition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state, count, err := ClaimDecision(tt.status, tt.claim, 2, 5, tt.accept)
			if tt.wantCode != "" {
				if CodeOf(err) != tt.wantCode {
					t.Fatalf("err %v, want %s", err, tt.wantCode)
				}
				return
			}
			if err != nil || state != tt.wantState || count != tt.wantCount {
				t.Fatalf("got %s %d %v, want %s %d", state, count, err, tt.wantState, tt.wantCount)
			}
		})
	}
}

func TestCheckEdition(t *testing.T) {
	tests := []struct {
		series, label string
		year          int
		field         string
	}{
		{"", "", 0, ""},
		{"race", "", 2026, ""},
		{"race", "26th", 0, ""},
		{"", "", 2026, "series"},
		{"Race!", "", 0, "series"},
		{"race", "", 1800, "edition_year"},
		{"race", "\u200b", 0, "edition_label"},
	}
	for _, tt := range tests {
		err := CheckEdition(tt.series, tt.year, tt.label)
		var got string
		if e, ok := err.(*Error); ok {
			got = e.Field
		}
		if got != tt.field {
			t.Errorf("CheckEdition(%q, %d, %q) = %v, want field %q", tt.series, tt.year, tt.label, err, tt.field)
		}
	}
}

func TestExplainTickets(t *testing.T) {
	doubling := Event{TicketRule: TicketRuleDoubling}
	rec2 := TicketRecord{Count: 2, Editions: []Edition{{"r25", "2025", 2025}, {"r24", "2024", 2024}}}
	tests := []struct {
		name string
		ev   Event
		e    Entry
		want string
	}{
		{"found", doubling, Entry{RecordedApplications: 2, PreviousApplications: 2, Tickets: 4, TicketRecord: rec2},
			"2 earlier applications found: 2025, 2024 → 4 tickets"},
		{"nothing", doubling, Entry{Tickets: 1}, "no earlier applications found → 1 ticket"},
		{"pending", doubling, Entry{RecordedApplications: 2, PreviousApplications: 2, Tickets: 4, TicketRecord: rec2,
			ClaimedApplications: new(3), ClaimStatus: ClaimPending},
			"2 earlier applications found: 2025, 2024; you claimed 3; a reviewer will check it; counting 2 until then → 4 tickets"},
		{"accepted", doubling, Entry{PreviousApplications: 3, Tickets: 8, ClaimedApplications: new(3), ClaimStatus: ClaimAccepted},
			"no earlier applications found; a reviewer accepted your claim of 3 → 8 tickets"},
		{"imported without years", doubling, Entry{RecordedApplications: 1, PreviousApplications: 1, Tickets: 2,
			TicketRecord: TicketRecord{Count: 1, Imported: 1}}, "1 earlier application found → 2 tickets"},
		{"unweighted", Event{TicketRule: TicketRuleNone}, Entry{Tickets: 1}, "every entry holds 1 ticket in this event's draw"},
	}
	for _, tt := range tests {
		if got := ExplainTickets(tt.ev, tt.e).English(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
