package lottery

import (
	"errors"
	"testing"
	"time"

	"github.com/startline/startline/antibot"
)

func TestPhase(t *testing.T) {
	opens := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	ev := Event{Status: EventPublished, OpensAt: opens, ClosesAt: opens.Add(time.Hour)}
	tests := []struct {
		name   string
		status EventStatus
		at     time.Time
		want   EventStatus
		open   error
	}{
		{"draft", EventDraft, opens.Add(time.Minute), EventDraft, ErrNotOpen},
		{"published, before window", EventPublished, opens.Add(-time.Nanosecond), EventPublished, ErrNotOpen},
		{"published, at opens_at", EventPublished, opens, EventOpen, nil},
		{"published, just before closes_at", EventPublished, opens.Add(time.Hour - time.Nanosecond), EventOpen, nil},
		{"published, at closes_at", EventPublished, opens.Add(time.Hour), EventClosed, ErrClosed},
		{"closed early", EventClosed, opens.Add(time.Minute), EventClosed, ErrClosed},
		{"frozen", EventFrozen, opens.Add(time.Minute), EventFrozen, ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev.Status = tt.status
			if got := ev.Phase(tt.at); got != tt.want {
				t.Errorf("Phase = %s, want %s", got, tt.want)
			}
			if err := ev.CheckOpen(tt.at); !errors.Is(err, tt.open) && !(err == nil && tt.open == nil) {
				t.Errorf("CheckOpen = %v, want %v", err, tt.open)
			}
		})
	}
}

func TestTickets(t *testing.T) {
	tests := []struct {
		rule     string
		previous int
		want     int
	}{
		{TicketRuleNone, 0, 1}, {TicketRuleNone, 5, 1},
		{TicketRuleDoubling, 0, 1}, {TicketRuleDoubling, 1, 2}, {TicketRuleDoubling, 3, 8},
		{TicketRuleDoubling, 11, 2048}, {TicketRuleDoubling, 12, 4096}, {TicketRuleDoubling, 100, 4096},
	}
	for _, tt := range tests {
		ev := Event{TicketRule: tt.rule}
		if got := ev.Tickets(tt.previous); got != tt.want {
			t.Errorf("%s, %d previous: got %d tickets, want %d", tt.rule, tt.previous, got, tt.want)
		}
	}
}

func TestNextStatus(t *testing.T) {
	opens := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	during, after := opens.Add(time.Minute), opens.Add(2*time.Hour)
	revealed := opens
	tests := []struct {
		name   string
		ev     Event
		action string
		at     time.Time
		want   EventStatus
		ok     bool
	}{
		{"publish draft", Event{Status: EventDraft}, ActionPublish, during, EventPublished, true},
		{"publish twice", Event{Status: EventPublished}, ActionPublish, during, "", false},
		{"close published", Event{Status: EventPublished}, ActionClose, during, EventClosed, true},
		{"close draft", Event{Status: EventDraft}, ActionClose, during, "", false},
		{"close closed", Event{Status: EventClosed}, ActionClose, during, "", false},
		{"freeze while open", Event{Status: EventPublished}, ActionFreeze, during, "", false},
		{"freeze after window", Event{Status: EventPublished}, ActionFreeze, after, EventFrozen, true},
		{"freeze closed", Event{Status: EventClosed}, ActionFreeze, during, EventFrozen, true},
		{"freeze frozen", Event{Status: EventFrozen}, ActionFreeze, after, "", false},
		{"reveal frozen", Event{Status: EventFrozen}, ActionReveal, after, EventFrozen, true},
		{"reveal twice", Event{Status: EventFrozen, RevealedAt: &revealed}, ActionReveal, after, "", false},
		{"reveal closed", Event{Status: EventClosed}, ActionReveal, after, "", false},
		{"draw unrevealed", Event{Status: EventFrozen}, ActionDraw, after, "", false},
		{"draw revealed", Event{Status: EventFrozen, RevealedAt: &revealed}, ActionDraw, after, EventFrozen, true},
		{"draw drawn", Event{Status: EventDrawn, RevealedAt: &revealed}, ActionDraw, after, "", false},
		{"publish results undrawn", Event{Status: EventFrozen}, ActionPublishResults, after, "", false},
		{"publish results", Event{Status: EventDrawn}, ActionPublishResults, after, EventDrawn, true},
		{"publish results twice", Event{Status: EventDrawn, ResultsPublishedAt: &revealed}, ActionPublishResults, after, "", false},
		{"settle before the results", Event{Status: EventDrawn}, ActionSettle, after, "", false},
		{"settle after the results", Event{Status: EventDrawn, ResultsPublishedAt: &revealed}, ActionSettle, after, EventSettled, true},
		{"settle twice", Event{Status: EventSettled, ResultsPublishedAt: &revealed}, ActionSettle, after, "", false},
		{"settle frozen", Event{Status: EventFrozen}, ActionSettle, after, "", false},
		{"publish results after settling", Event{Status: EventSettled, ResultsPublishedAt: &revealed}, ActionPublishResults, after, "", false},
		{"unknown", Event{Status: EventDraft}, "teleport", during, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ev.OpensAt, tt.ev.ClosesAt = opens, opens.Add(time.Hour)
			got, err := tt.ev.NextStatus(tt.action, tt.at)
			if tt.ok && (err != nil || got != tt.want) {
				t.Errorf("got %s %v, want %s", got, err, tt.want)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidTransition) {
				t.Errorf("got %s %v, want invalid_transition", got, err)
			}
		})
	}
}

func TestParsePace(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"", 0, true}, {"5:30", 330, true}, {"4:05", 245, true},
		{"5:3", 0, false}, {"5", 0, false}, {"a:bc", 0, false}, {"0:00", 0, false}, {"5:60", 0, false},
	}
	for _, tt := range tests {
		got, err := parsePace(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parsePace(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	if got := FormatPace(330); got != "5:30" {
		t.Errorf("FormatPace(330) = %q", got)
	}
	if got := FormatHold(48 * time.Hour); got != "48h" {
		t.Errorf("FormatHold(48h) = %q", got)
	}
}

func TestKeys(t *testing.T) {
	k, err := NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewKeys([]byte("short")); err == nil {
		t.Error("short master key accepted")
	}
	tok := k.ReceiptToken("entry-1")
	if !k.CheckReceipt("entry-1", tok) || k.CheckReceipt("entry-2", tok) || k.CheckReceipt("entry-1", tok+"x") {
		t.Error("receipt token check wrong")
	}
	sealed, err := k.Seal([]byte("seed"), "seed:spring")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.Open(sealed, "seed:spring"); err != nil || string(got) != "seed" {
		t.Errorf("Open = %q, %v", got, err)
	}
	if _, err := k.Open(sealed, "seed:autumn"); err == nil {
		t.Error("sealed value opened under another label")
	}
	other, _ := NewKeys([]byte("another-master-key-of-32-bytes!!"))
	if other.ReceiptToken("entry-1") == tok {
		t.Error("receipt token does not depend on the key")
	}
}

// TestEventScorer: an event's own risk rules, when set, replace the
// service's for every check of that event.
func TestEventScorer(t *testing.T) {
	def := antibot.Scorer{Rules: antibot.DefaultRules}
	strict := antibot.DefaultRules
	strict.Version, strict.ReviewAt, strict.RejectAt = "event-strict", 1, 2
	tests := []struct {
		name  string
		rules *antibot.Rules
		want  string // rules version the scorer uses
	}{
		{"no override", nil, antibot.DefaultRules.Version},
		{"override", &strict, "event-strict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := Event{RiskRules: tt.rules}
			sc := ev.Scorer(def)
			if sc.Rules.Version != tt.want {
				t.Errorf("Scorer().Rules.Version = %q, want %q", sc.Rules.Version, tt.want)
			}
			a := sc.AssessApply(antibot.ApplyInput{Honeypot: "x"})
			if a.RulesVersion != tt.want {
				t.Errorf("assessment under rules %q, want %q", a.RulesVersion, tt.want)
			}
		})
	}
}
