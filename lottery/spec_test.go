package lottery

import (
	"errors"
	"testing"
	"time"
)

func validSpec() EventSpec {
	opens := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	return EventSpec{Slug: "spring-2027", Name: "Spring", TimeZone: "Asia/Seoul", OpensAt: opens, ClosesAt: opens.Add(time.Hour),
		Courses: []CourseSpec{{Code: "full", Name: "Full", DistanceKM: 42.195, PaceGroups: []PaceGroupSpec{
			{Code: "sub-330", Label: "Sub 3:30", PaceMin: "4:00", PaceMax: "4:58", Capacity: 10}}}}}
}

func TestEventSpecBuild(t *testing.T) {
	ev, err := validSpec().Build()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status != EventDraft || ev.OfferHold != 48*time.Hour || ev.MaxGroupSize != 1 || ev.TicketRule != TicketRuleNone {
		t.Errorf("defaults: %+v", ev)
	}
	if sq, ok := ev.SubQueue("full", "sub-330"); !ok || sq.Key != "full:sub-330" || sq.Mode != ModeLottery || sq.Capacity != 10 {
		t.Errorf("sub-queue: %+v %v", sq, ok)
	}
	tests := []struct {
		name  string
		edit  func(s *EventSpec)
		field string
	}{
		{"slug upper case", func(s *EventSpec) { s.Slug = "Spring" }, "slug"},
		{"slug too long", func(s *EventSpec) { s.Slug = string(make([]byte, 65)) }, "slug"},
		{"no name", func(s *EventSpec) { s.Name = " " }, "name"},
		{"bad zone", func(s *EventSpec) { s.TimeZone = "Nowhere/City" }, "time_zone"},
		{"no opens_at", func(s *EventSpec) { s.OpensAt = time.Time{} }, "opens_at"},
		{"closes before opens", func(s *EventSpec) { s.ClosesAt = s.OpensAt.Add(-time.Second) }, "closes_at"},
		{"hold too short", func(s *EventSpec) { s.OfferHold = "30s" }, "offer_hold"},
		{"hold garbage", func(s *EventSpec) { s.OfferHold = "two days" }, "offer_hold"},
		{"group too big", func(s *EventSpec) { s.MaxGroupSize = 17 }, "max_group_size"},
		{"ticket rule", func(s *EventSpec) { s.TicketRule = "random" }, "ticket_rule"},
		{"no courses", func(s *EventSpec) { s.Courses = nil }, "courses"},
		{"course code", func(s *EventSpec) { s.Courses[0].Code = "Full Marathon" }, "courses[0].code"},
		{"duplicate course", func(s *EventSpec) { s.Courses = append(s.Courses, s.Courses[0]) }, "courses[1].code"},
		{"distance", func(s *EventSpec) { s.Courses[0].DistanceKM = 0 }, "courses[0].distance_km"},
		{"no pace groups", func(s *EventSpec) { s.Courses[0].PaceGroups = nil }, "courses[0].pace_groups"},
		{"pace code", func(s *EventSpec) { s.Courses[0].PaceGroups[0].Code = "sub 3:30" }, "courses[0].pace_groups[0].code"},
		{"capacity", func(s *EventSpec) { s.Courses[0].PaceGroups[0].Capacity = -5 }, "courses[0].pace_groups[0].capacity"},
		{"mode", func(s *EventSpec) { s.Courses[0].PaceGroups[0].Mode = "raffle" }, "courses[0].pace_groups[0].mode"},
		{"pre-queue on a drawn group", func(s *EventSpec) { s.Courses[0].PaceGroups[0].PrequeueMinutes = new(30) }, "courses[0].pace_groups[0].prequeue_minutes"},
		{"pre-queue too long", func(s *EventSpec) {
			s.Courses[0].PaceGroups[0].Mode, s.Courses[0].PaceGroups[0].PrequeueMinutes = "ordered", new(10081)
		}, "courses[0].pace_groups[0].prequeue_minutes"},
		{"pre-queue negative", func(s *EventSpec) {
			s.Courses[0].PaceGroups[0].Mode, s.Courses[0].PaceGroups[0].PrequeueMinutes = "ordered", new(-1)
		}, "courses[0].pace_groups[0].prequeue_minutes"},
		{"pace format", func(s *EventSpec) { s.Courses[0].PaceGroups[0].PaceMin = "fast" }, "courses[0].pace_groups[0].pace_min"},
		{"pace order", func(s *EventSpec) { s.Courses[0].PaceGroups[0].PaceMin = "6:00" }, "courses[0].pace_groups[0].pace_max"},
		{"opens in year 0", func(s *EventSpec) { s.OpensAt = time.Date(0, 3, 1, 0, 0, 0, 0, time.UTC) }, "opens_at"},
		{"opens in 1999", func(s *EventSpec) { s.OpensAt = time.Date(1999, 12, 31, 23, 0, 0, 0, time.UTC) }, "opens_at"},
		{"closes in 9999", func(s *EventSpec) { s.ClosesAt = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) }, "closes_at"},
		{"closes in 2201", func(s *EventSpec) { s.ClosesAt = time.Date(2201, 1, 1, 0, 0, 0, 0, time.UTC) }, "closes_at"},
		{"zero-width name", func(s *EventSpec) { s.Name = "\u200b\u200c\u200d" }, "name"},
		{"Hangul filler name", func(s *EventSpec) { s.Name = "\u3164" }, "name"},
		{"zero-width course name", func(s *EventSpec) { s.Courses[0].Name = "\ufeff\u2060" }, "courses[0].name"},
		{"zero-width label", func(s *EventSpec) { s.Courses[0].PaceGroups[0].Label = "\u200b" }, "courses[0].pace_groups[0].label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			s.Courses = append([]CourseSpec(nil), s.Courses...)
			s.Courses[0].PaceGroups = append([]PaceGroupSpec(nil), s.Courses[0].PaceGroups...)
			tt.edit(&s)
			_, err := s.Build()
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidField || e.Field != tt.field {
				t.Errorf("got %v, want invalid_field on %s", err, tt.field)
			}
		})
	}
}

// TestPrequeueDefault: an ordered pace group gets a 15-minute pre-queue
// unless its spec names one (0 included); a drawn group has none.
func TestPrequeueDefault(t *testing.T) {
	tests := []struct {
		name  string
		mode  string
		given *int
		want  int
	}{
		{"ordered, none given", "ordered", nil, DefaultPrequeueMinutes},
		{"ordered, 0 chosen", "ordered", new(0), 0},
		{"ordered, an hour", "ordered", new(60), 60},
		{"drawn, none given", "", nil, 0},
		{"drawn, 0 given", "lottery", new(0), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			s.Courses[0].PaceGroups[0].Mode, s.Courses[0].PaceGroups[0].PrequeueMinutes = tt.mode, tt.given
			ev, err := s.Build()
			if err != nil {
				t.Fatal(err)
			}
			if sq, _ := ev.SubQueue("full", "sub-330"); sq.PrequeueMinutes != tt.want {
				t.Errorf("prequeue minutes = %d, want %d", sq.PrequeueMinutes, tt.want)
			}
		})
	}
	if DefaultPrequeueMinutes != 15 {
		t.Errorf("DefaultPrequeueMinutes = %d, the documented default is 15", DefaultPrequeueMinutes)
	}
}

// TestEventSpecYearsInRange: the edges of the sane range are accepted.
func TestEventSpecYearsInRange(t *testing.T) {
	s := validSpec()
	s.OpensAt = time.Date(MinEventYear, 1, 1, 0, 0, 0, 0, time.UTC)
	s.ClosesAt = time.Date(MaxEventYear, 12, 31, 23, 59, 0, 0, time.UTC)
	if _, err := s.Build(); err != nil {
		t.Fatal(err)
	}
}

func TestCheckJoin(t *testing.T) {
	opens := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	ev := Event{Status: EventPublished, OpensAt: opens, ClosesAt: opens.Add(time.Hour)}
	early := SubQueue{Mode: ModeOrdered, PrequeueMinutes: 30}
	plain := SubQueue{Mode: ModeOrdered}
	tests := []struct {
		name string
		ev   Event
		sq   SubQueue
		at   time.Time
		want error
	}{
		{"before the pre-queue", ev, early, opens.Add(-31 * time.Minute), ErrNotOpen},
		{"pre-queue opens", ev, early, opens.Add(-30 * time.Minute), nil},
		{"in the pre-queue", ev, early, opens.Add(-time.Second), nil},
		{"no pre-queue", ev, plain, opens.Add(-time.Second), ErrNotOpen},
		{"open", ev, plain, opens, nil},
		{"closed", ev, early, opens.Add(time.Hour), ErrClosed},
		{"draft", Event{Status: EventDraft, OpensAt: opens, ClosesAt: opens.Add(time.Hour)}, early, opens.Add(-time.Minute), ErrNotOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.ev.CheckJoin(tt.at, tt.sq); err != tt.want {
				t.Errorf("CheckJoin: %v, want %v", err, tt.want)
			}
		})
	}
}
