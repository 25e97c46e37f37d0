package lottery

import (
	"testing"
	"time"
)

func TestNextStatusUnpublishCancel(t *testing.T) {
	opens := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	before, during, after := opens.Add(-2*time.Hour), opens.Add(time.Minute), opens.Add(2*time.Hour)
	results := opens
	drawnGroup := []Course{{Code: "10k", PaceGroups: []PaceGroup{{Code: "a", Mode: ModeLottery}}}}
	// An ordered group whose pre-queue opens 3 hours before the window.
	prequeued := []Course{{Code: "5k", PaceGroups: []PaceGroup{{Code: "walk", Mode: ModeOrdered, PrequeueMinutes: 180}}}}
	ev := func(st EventStatus, courses []Course) Event {
		return Event{Status: st, OpensAt: opens, ClosesAt: opens.Add(time.Hour), Courses: courses}
	}
	tests := []struct {
		name   string
		ev     Event
		action string
		at     time.Time
		want   EventStatus
		ok     bool
	}{
		{"unpublish before the window", ev(EventPublished, drawnGroup), ActionUnpublish, before, EventDraft, true},
		{"unpublish at opens_at", ev(EventPublished, drawnGroup), ActionUnpublish, opens, "", false},
		{"unpublish while open", ev(EventPublished, drawnGroup), ActionUnpublish, during, "", false},
		{"unpublish once the pre-queue opened", ev(EventPublished, prequeued), ActionUnpublish, before, "", false},
		{"unpublish before the pre-queue", ev(EventPublished, prequeued), ActionUnpublish, opens.Add(-4 * time.Hour), EventDraft, true},
		{"unpublish a draft", ev(EventDraft, drawnGroup), ActionUnpublish, before, "", false},
		{"unpublish closed", ev(EventClosed, drawnGroup), ActionUnpublish, before, "", false},
		{"cancel draft", ev(EventDraft, drawnGroup), ActionCancel, before, EventCancelled, true},
		{"cancel published", ev(EventPublished, drawnGroup), ActionCancel, before, EventCancelled, true},
		{"cancel while open", ev(EventPublished, drawnGroup), ActionCancel, during, EventCancelled, true},
		{"cancel closed", ev(EventClosed, drawnGroup), ActionCancel, after, EventCancelled, true},
		{"cancel frozen", ev(EventFrozen, drawnGroup), ActionCancel, after, EventCancelled, true},
		{"cancel drawn, results not published", ev(EventDrawn, drawnGroup), ActionCancel, after, EventCancelled, true},
		{"cancel drawn, results published", func() Event { e := ev(EventDrawn, drawnGroup); e.ResultsPublishedAt = &results; return e }(),
			ActionCancel, after, "", false},
		{"cancel settled", ev(EventSettled, drawnGroup), ActionCancel, after, "", false},
		{"cancel twice", ev(EventCancelled, drawnGroup), ActionCancel, after, "", false},
		{"publish cancelled", ev(EventCancelled, drawnGroup), ActionPublish, before, "", false},
		{"close cancelled", ev(EventCancelled, drawnGroup), ActionClose, during, "", false},
		{"freeze cancelled", ev(EventCancelled, drawnGroup), ActionFreeze, after, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ev.NextStatus(tt.action, tt.at)
			if (err == nil) != tt.ok {
				t.Fatalf("NextStatus err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && CodeOf(err) != CodeInvalidTransition {
				t.Errorf("code = %s, want %s", CodeOf(err), CodeInvalidTransition)
			}
			if got != tt.want {
				t.Errorf("NextStatus = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCancelledEventRefusesEntries(t *testing.T) {
	opens := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	e := Event{Status: EventCancelled, OpensAt: opens, ClosesAt: opens.Add(time.Hour)}
	if got := e.Phase(opens.Add(time.Minute)); got != EventCancelled {
		t.Errorf("Phase = %s, want cancelled", got)
	}
	if err := e.CheckOpen(opens.Add(time.Minute)); err == nil {
		t.Error("CheckOpen = nil for a cancelled event, want a refusal")
	}
	if !e.Public() {
		t.Error("a cancelled event must stay public, so its page can say so")
	}
}
