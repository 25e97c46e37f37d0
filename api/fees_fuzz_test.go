package api

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/startline/startline/internal/textin"
	"github.com/startline/startline/lottery"
)

// FuzzEventDetailsJSON: any create-event body with race details, prices and
// a refund policy either builds an event whose details are sane or is an
// invalid_field, never anything else.
func FuzzEventDetailsJSON(f *testing.F) {
	f.Add([]byte(`{"slug":"spring","name":"Spring","time_zone":"Asia/Seoul","opens_at":"2027-03-01T09:00:00Z","closes_at":"2027-03-08T09:00:00Z",` +
		`"race_date":"2027-04-18","race_start":"07:30","place":"Yeouido Park","description":"Flat.\n\nFast.","draw_date":"2027-03-10","currency":"KRW",` +
		`"refund_policy":{"tiers":[{"until":"2027-03-31","percent":100},{"until":"2027-04-10T18:00:00+09:00","percent":50}]},` +
		`"courses":[{"code":"half","name":"Half","distance_km":21.1,"pace_groups":[{"code":"open","label":"Open","capacity":10,"price":50000}]}]}`))
	f.Add([]byte(`{"slug":"s","name":"S","opens_at":"2027-03-01T09:00:00Z","closes_at":"2027-03-08T09:00:00Z","draw_date":"2027-03-08T09:00:00Z",` +
		`"refund_policy":{"tiers":[{"until":"9999-12-31","percent":100}]},"courses":[{"code":"a","name":"A","distance_km":1,"pace_groups":[{"code":"b","price":-1}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, ok := fuzzJSON[eventSpecJSON](t, body)
		if !ok {
			return
		}
		spec, err := b.spec()
		if err == nil {
			var ev lottery.Event
			if ev, err = spec.Build(); err == nil {
				checkDetails(t, ev)
				return
			}
		}
		if lottery.CodeOf(err) != lottery.CodeInvalidField {
			t.Fatalf("spec of %q: %v is not invalid_field", body, err)
		}
	})
}

// FuzzEventPatchJSON: any edit body applied to an event is a valid event,
// an invalid_field or terms_fixed.
func FuzzEventPatchJSON(f *testing.F) {
	f.Add([]byte(`{"place":"Olympic Park","prices":{"10k:open":60000},"refund_policy":{"tiers":[]}}`))
	f.Add([]byte(`{"race_date":"","race_start":"25:00","currency":"usd","prices":{"nope":1}}`))
	base, err := lottery.EventSpec{Slug: "spring", Name: "Spring", TimeZone: "Asia/Seoul",
		OpensAt: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), ClosesAt: time.Date(2027, 3, 8, 0, 0, 0, 0, time.UTC),
		Courses: []lottery.CourseSpec{{Code: "10k", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{{Code: "open", Capacity: 1}}}},
		Details: lottery.DetailsSpec{RaceDate: "2027-04-18", RaceStart: "07:30"}}.Build()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, ok := fuzzJSON[eventPatchJSON](t, body)
		if !ok {
			return
		}
		p := lottery.EventPatch{RaceDate: b.RaceDate, RaceStart: b.RaceStart, Place: b.Place, Description: b.Description,
			DrawDate: b.DrawDate, Currency: b.Currency, RefundPolicy: b.RefundPolicy.spec(), Prices: b.Prices}
		for _, now := range []time.Time{base.OpensAt.Add(-time.Hour), base.OpensAt} {
			ev, _, err := p.Apply(base, now)
			switch lottery.CodeOf(err) {
			case lottery.CodeInternal:
				if err == nil {
					checkDetails(t, ev)
					continue
				}
				t.Fatalf("patch %q: %v", body, err)
			case lottery.CodeInvalidField, lottery.CodeTermsFixed:
			default:
				t.Fatalf("patch %q: %v", body, err)
			}
		}
	})
}

func checkDetails(t *testing.T, ev lottery.Event) {
	t.Helper()
	for _, s := range []string{ev.Place, ev.Description} {
		if textin.Check(s) != nil || utf8.RuneCountInString(s) > lottery.MaxDescriptionRunes {
			t.Fatalf("built an event with the detail %q", s)
		}
	}
	for i, tier := range ev.RefundPolicy.Tiers {
		if tier.Percent < 1 || tier.Percent > 100 || (i > 0 && (!tier.Until.After(ev.RefundPolicy.Tiers[i-1].Until) ||
			tier.Percent >= ev.RefundPolicy.Tiers[i-1].Percent)) {
			t.Fatalf("built a refund policy %+v", ev.RefundPolicy)
		}
	}
	for _, sq := range ev.SubQueues() {
		if sq.Price < 0 || sq.Price > lottery.MaxPriceMinor {
			t.Fatalf("built a price %d", sq.Price)
		}
	}
	if ev.Currency == "" || ev.PriceOf("x").Code() == "" {
		t.Fatalf("built an event without a currency")
	}
}
