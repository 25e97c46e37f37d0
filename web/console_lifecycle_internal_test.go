package web

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
)

// TestAuditDetails: a log record's details in plain words, in each language.
func TestAuditDetails(t *testing.T) {
	ev := lottery.Event{Currency: "krw", Courses: []lottery.Course{{Code: "half", Name: "Half Marathon",
		PaceGroups: []lottery.PaceGroup{{Code: "open", Label: "Open"}}}}}
	tests := []struct {
		lang    string
		details map[string]any
		want    []detailLine
	}{
		{"en", map[string]any{"subqueue": "half:open", "from": 600.0, "to": 1200.0},
			[]detailLine{{"Before", "600"}, {"Pace group", "Half Marathon · Open"}, {"After", "1,200"}}},
		{"ko", map[string]any{"refund_minor": 20000.0, "beacon": "", "reason": "event cancelled"},
			[]detailLine{{"비컨", "—"}, {"사유", "event cancelled"}, {"환불액", "₩20,000"}}},
		{"en", map[string]any{"implicit": true, "unknown_key": []any{"a"}},
			[]detailLine{{"implicit", "yes"}, {"unknown key", `["a"]`}}},
		{"en", nil, []detailLine{}},
	}
	for _, tt := range tests {
		got := auditDetails(translator(tt.lang), ev, tt.details)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s %v (-want +got):\n%s", tt.lang, tt.details, diff)
		}
	}
}

// TestNextActions: the overview offers the steps the event's state allows,
// and the reveal during the dispute window (its confirmation says when).
func TestNextActions(t *testing.T) {
	now := lifecycleTime("2027-03-10T00:00:00Z")
	frozen := lifecycleTime("2027-03-09T12:00:00Z")
	tests := []struct {
		name string
		ev   lottery.Event
		want []string
	}{
		{"draft", lottery.Event{Status: lottery.EventDraft}, []string{"publish", "cancel"}},
		{"published, before the window", lottery.Event{Status: lottery.EventPublished, OpensAt: now.Add(time.Hour), ClosesAt: now.Add(2 * time.Hour)},
			[]string{"unpublish", "close", "cancel"}},
		{"frozen, dispute window open", lottery.Event{Status: lottery.EventFrozen, FrozenAt: &frozen, DisputeWindow: 24 * time.Hour},
			[]string{"reveal", "cancel"}},
		{"cancelled", lottery.Event{Status: lottery.EventCancelled}, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, nextActions(tt.ev, now)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func lifecycleTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
