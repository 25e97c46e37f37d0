package lottery

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRefundDue(t *testing.T) {
	kst := time.FixedZone("KST", 9*3600)
	policy := RefundPolicy{Tiers: []RefundTier{
		{Until: time.Date(2027, 4, 2, 0, 0, 0, 0, kst), Date: "2027-04-01", Percent: 100},
		{Until: time.Date(2027, 5, 2, 0, 0, 0, 0, kst), Date: "2027-05-01", Percent: 50},
		{Until: time.Date(2027, 5, 20, 12, 0, 0, 0, kst), Percent: 33},
	}}
	tests := []struct {
		name        string
		policy      RefundPolicy
		paid        int64
		at          time.Time
		want        int64
		wantPercent int
	}{
		{"no policy: no refund", RefundPolicy{}, 50000, time.Date(2027, 3, 1, 0, 0, 0, 0, kst), 0, 0},
		{"first tier: full", policy, 50000, time.Date(2027, 3, 1, 0, 0, 0, 0, kst), 50000, 100},
		{"last second of the first tier's day", policy, 50000, time.Date(2027, 4, 1, 23, 59, 59, 0, kst), 50000, 100},
		{"the next day: second tier", policy, 50000, time.Date(2027, 4, 2, 0, 0, 0, 0, kst), 25000, 50},
		{"third tier rounds down to the minor unit", policy, 50001, time.Date(2027, 5, 10, 0, 0, 0, 0, kst), 16500, 33},
		{"after the last tier: nothing", policy, 50000, time.Date(2027, 5, 20, 12, 0, 0, 0, kst), 0, 0},
		{"free place: nothing", policy, 0, time.Date(2027, 3, 1, 0, 0, 0, 0, kst), 0, 0},
		{"cents", policy, 4599, time.Date(2027, 4, 15, 0, 0, 0, 0, kst), 2299, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, pct := RefundDue(tt.policy, tt.paid, tt.at)
			if got != tt.want || pct != tt.wantPercent {
				t.Errorf("RefundDue = %d, %d%%; want %d, %d%%", got, pct, tt.want, tt.wantPercent)
			}
		})
	}
}

func detailsSpec() EventSpec {
	return EventSpec{Slug: "spring", Name: "Spring", TimeZone: "Asia/Seoul",
		OpensAt: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), ClosesAt: time.Date(2027, 3, 8, 0, 0, 0, 0, time.UTC),
		Courses: []CourseSpec{{Code: "10k", Name: "10K", DistanceKM: 10, PaceGroups: []PaceGroupSpec{{Code: "open", Capacity: 10, Price: 50000}}}},
		Details: DetailsSpec{RaceDate: "2027-04-18", RaceStart: "07:30", Place: "Yeouido Park, Seoul",
			Description: "Flat and fast.\r\n\r\nBag drop at gate 2.", DrawDate: "2027-03-10", Currency: "KRW",
			RefundPolicy: &RefundPolicySpec{Tiers: []RefundTierSpec{{Until: "2027-03-31", Percent: 100},
				{Until: "2027-04-10T18:00:00+09:00", Percent: 50}}}}}
}

func TestDetailsBuild(t *testing.T) {
	ev, err := detailsSpec().Build()
	if err != nil {
		t.Fatal(err)
	}
	kst, _ := time.LoadLocation("Asia/Seoul")
	want := RefundPolicy{Tiers: []RefundTier{
		{Until: time.Date(2027, 4, 1, 0, 0, 0, 0, kst).UTC(), Date: "2027-03-31", Percent: 100},
		{Until: time.Date(2027, 4, 10, 9, 0, 0, 0, time.UTC), Percent: 50}}}
	if diff := cmp.Diff(want, ev.RefundPolicy); diff != "" {
		t.Errorf("refund policy (-want +got):\n%s", diff)
	}
	if ev.Currency != "krw" || ev.PriceOf("10k:open").String() != "₩50,000" {
		t.Errorf("currency %q, price %s", ev.Currency, ev.PriceOf("10k:open"))
	}
	if got := ev.Paragraphs(); len(got) != 2 || got[1] != "Bag drop at gate 2." {
		t.Errorf("paragraphs = %q", got)
	}
	if at, ok := ev.RaceStartsAt(); !ok || !at.Equal(time.Date(2027, 4, 17, 22, 30, 0, 0, time.UTC)) {
		t.Errorf("race starts at %v %v", at, ok)
	}
	if ev.DrawDate != "2027-03-10" || ev.DrawAt != nil {
		t.Errorf("draw %q %v", ev.DrawDate, ev.DrawAt)
	}
	// No refund policy given: none, stated as no tiers.
	s := detailsSpec()
	s.Details = DetailsSpec{}
	if ev, err = s.Build(); err != nil || len(ev.RefundPolicy.Tiers) != 0 || ev.Currency != DefaultCurrency {
		t.Errorf("bare spec: %v %+v %q", err, ev.RefundPolicy, ev.Currency)
	}
}

func TestDetailsFieldErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*EventSpec)
		field string
	}{
		{"currency", func(s *EventSpec) { s.Details.Currency = "XYZ" }, "currency"},
		{"race date shape", func(s *EventSpec) { s.Details.RaceDate = "18/04/2027" }, "race_date"},
		{"race date not a day", func(s *EventSpec) { s.Details.RaceDate = "2027-02-30" }, "race_date"},
		{"race before close", func(s *EventSpec) { s.Details.RaceDate = "2027-03-01" }, "race_date"},
		{"start time", func(s *EventSpec) { s.Details.RaceStart = "7:30" }, "race_start"},
		{"start hour", func(s *EventSpec) { s.Details.RaceStart = "24:00" }, "race_start"},
		{"start without day", func(s *EventSpec) { s.Details.RaceDate = "" }, "race_start"},
		{"place too long", func(s *EventSpec) { s.Details.Place = strings.Repeat("가", MaxPlaceRunes+1) }, "place"},
		{"place on two lines", func(s *EventSpec) { s.Details.Place = "Seoul\nKorea" }, "place"},
		{"description too long", func(s *EventSpec) { s.Details.Description = strings.Repeat("a", MaxDescriptionRunes+1) }, "description"},
		{"description control", func(s *EventSpec) { s.Details.Description = "bad\x00" }, "description"},
		{"draw date", func(s *EventSpec) { s.Details.DrawDate = "soon" }, "draw_date"},
		{"draw before close", func(s *EventSpec) { s.Details.DrawDate = "2027-03-05" }, "draw_date"},
		{"draw time before close", func(s *EventSpec) { s.Details.DrawDate = "2027-03-07T12:00:00Z" }, "draw_date"},
		{"draw after race", func(s *EventSpec) { s.Details.DrawDate = "2027-04-19" }, "draw_date"},
		{"tier percent 0", func(s *EventSpec) { s.Details.RefundPolicy.Tiers[0].Percent = 0 }, "refund_policy.tiers[0].percent"},
		{"tier percent 101", func(s *EventSpec) { s.Details.RefundPolicy.Tiers[0].Percent = 101 }, "refund_policy.tiers[0].percent"},
		{"tier until", func(s *EventSpec) { s.Details.RefundPolicy.Tiers[0].Until = "next week" }, "refund_policy.tiers[0].until"},
		{"tiers out of order", func(s *EventSpec) { s.Details.RefundPolicy.Tiers[1].Until = "2027-03-20" }, "refund_policy.tiers[1].until"},
		{"later tier refunds more", func(s *EventSpec) { s.Details.RefundPolicy.Tiers[1].Percent = 100 }, "refund_policy.tiers[1].percent"},
		{"tier after the race", func(s *EventSpec) { s.Details.RefundPolicy.Tiers[1].Until = "2027-04-20" }, "refund_policy.tiers[1].until"},
		{"too many tiers", func(s *EventSpec) {
			s.Details.RefundPolicy.Tiers = make([]RefundTierSpec, MaxRefundTiers+1)
		}, "refund_policy.tiers"},
		{"negative price", func(s *EventSpec) { s.Courses[0].PaceGroups[0].Price = -1 }, "courses[0].pace_groups[0].price"},
		{"price too high", func(s *EventSpec) { s.Courses[0].PaceGroups[0].Price = MaxPriceMinor + 1 }, "courses[0].pace_groups[0].price"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := detailsSpec()
			tt.edit(&s)
			_, err := s.Build()
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidField || e.Field != tt.field {
				t.Errorf("Build() = %v, want invalid_field on %s", err, tt.field)
			}
		})
	}
}

func TestEventPatch(t *testing.T) {
	ev, err := detailsSpec().Build()
	if err != nil {
		t.Fatal(err)
	}
	ev.Status = EventPublished
	before := ev.OpensAt.Add(-time.Hour)
	str := func(s string) *string { return &s }
	tests := []struct {
		name        string
		patch       EventPatch
		now         time.Time
		wantChanged []string
		wantCode    string
		wantField   string
	}{
		{"place any time", EventPatch{Place: str("Olympic Park")}, ev.ClosesAt, []string{"place"}, "", ""},
		{"clear the start time", EventPatch{RaceStart: str("")}, ev.ClosesAt, []string{"race_start"}, "", ""},
		{"prices before opening", EventPatch{Prices: map[string]int64{"10k:open": 60000}}, before, []string{"prices.10k:open"}, "", ""},
		{"prices once open", EventPatch{Prices: map[string]int64{"10k:open": 60000}}, ev.OpensAt, nil, CodeTermsFixed, "prices"},
		{"currency once open", EventPatch{Currency: str("usd")}, ev.OpensAt, nil, CodeTermsFixed, "currency"},
		{"refund policy once open", EventPatch{RefundPolicy: &RefundPolicySpec{}}, ev.OpensAt, nil, CodeTermsFixed, "refund_policy"},
		{"no refunds before opening", EventPatch{RefundPolicy: &RefundPolicySpec{}}, before, []string{"refund_policy"}, "", ""},
		{"unknown sub-queue", EventPatch{Prices: map[string]int64{"5k:open": 1}}, before, nil, CodeInvalidField, "prices.5k:open"},
		{"bad race day", EventPatch{RaceDate: str("2027-04-31")}, before, nil, CodeInvalidField, "race_date"},
		{"same value changes nothing", EventPatch{Place: str("Yeouido Park, Seoul")}, before, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, changed, err := tt.patch.Apply(ev, tt.now)
			if tt.wantCode != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != tt.wantCode || e.Field != tt.wantField {
					t.Fatalf("Apply = %v, want %s on %s", err, tt.wantCode, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantChanged, changed); diff != "" {
				t.Errorf("changed (-want +got):\n%s", diff)
			}
			if ev.PriceOf("10k:open").Amount != 50000 {
				t.Error("Apply changed the event it was given")
			}
			_ = out
		})
	}
}
