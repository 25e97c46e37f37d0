package dashboard

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
)

func TestTimeline(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	h := func(s string) int64 { // an RFC 3339 instant as hours since the epoch
		tm, _ := time.Parse(time.RFC3339, s)
		return tm.Unix() / 3600
	}
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm.In(seoul) }
	for _, tc := range []struct {
		name      string
		hours     []HourCount
		want      []Point
		wantDaily bool
	}{
		{"none", nil, nil, false},
		{"one hour", []HourCount{{h("2027-03-01T01:00:00Z"), 5}}, []Point{{at("2027-03-01T01:00:00Z"), 5}}, false},
		{"gaps are zero, out of order in", []HourCount{{h("2027-03-01T04:00:00Z"), 2}, {h("2027-03-01T01:00:00Z"), 5}},
			[]Point{{at("2027-03-01T01:00:00Z"), 5}, {at("2027-03-01T02:00:00Z"), 0}, {at("2027-03-01T03:00:00Z"), 0}, {at("2027-03-01T04:00:00Z"), 2}}, false},
		// 14:00 and 15:00 UTC on 1 March are 23:00 on the 1st and 00:00 on
		// the 2nd in Seoul: days are the event's calendar days.
		{"long window by day in the event's zone", []HourCount{{h("2027-03-01T14:00:00Z"), 1}, {h("2027-03-01T15:00:00Z"), 2}, {h("2027-03-05T15:00:00Z"), 4}},
			[]Point{{time.Date(2027, 3, 1, 0, 0, 0, 0, seoul), 1}, {time.Date(2027, 3, 2, 0, 0, 0, 0, seoul), 2},
				{time.Date(2027, 3, 3, 0, 0, 0, 0, seoul), 0}, {time.Date(2027, 3, 4, 0, 0, 0, 0, seoul), 0},
				{time.Date(2027, 3, 5, 0, 0, 0, 0, seoul), 0}, {time.Date(2027, 3, 6, 0, 0, 0, 0, seoul), 4}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, daily := Timeline(tc.hours, seoul)
			if daily != tc.wantDaily {
				t.Errorf("daily %v, want %v", daily, tc.wantDaily)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("timeline (-want +got):\n%s", d)
			}
		})
	}
}

func testEvent() lottery.Event {
	return lottery.Event{ID: 7, Slug: "spring", TimeZone: "Asia/Seoul", Currency: "krw", Courses: []lottery.Course{
		{Code: "full", Name: "Full Marathon", PaceGroups: []lottery.PaceGroup{{ID: 1, Code: "open", Label: "Open", Capacity: 10, Mode: lottery.ModeLottery}}},
		{Code: "10k", Name: "10K", PaceGroups: []lottery.PaceGroup{{ID: 2, Code: "fast", Label: "Fast", Capacity: 5, Mode: lottery.ModeOrdered, AdmitPerMinute: 60}}},
	}}
}

func TestBuild(t *testing.T) {
	c := Counts{
		Entries: []EntryCount{
			{1, lottery.EntryReceived, "accept", 20}, {1, lottery.EntryInReview, "review", 3}, {1, lottery.EntryRejected, "reject", 2},
			{1, lottery.EntryReceived, "review", 4}, {1, lottery.EntryConfirmed, "accept", 6}, {1, lottery.EntryWithdrawn, "accept", 1},
			{2, lottery.EntryOffered, "accept", 5}, {2, lottery.EntryExpired, "accept", 2}, {99, lottery.EntryReceived, "accept", 1},
		},
		Risk: []int64{10, 0, 0, 0, 0, 0, 0, 0, 0, 3, 2},
		Offers: []OfferCount{{1, lottery.OfferPaid, false, 6}, {1, lottery.OfferAccepted, false, 1}, {1, lottery.OfferDeclined, false, 1},
			{1, lottery.OfferExpired, false, 2}, {1, lottery.OfferPending, true, 3}, {2, lottery.OfferVoid, false, 1}},
		Money: MoneyCount{Payments: 6, Taken: 300000, Refunded: 50000, Owed: 25000},
		Lines: []LineCount{{SubQueueID: 2, Issued: 130, Admitted: 10, AdmitPerMinute: 50}},
	}
	d := Build(testEvent(), c, time.Unix(0, 0))
	if d.Entries != 44 {
		t.Errorf("entries %d, want 44", d.Entries)
	}
	type row struct {
		Name                        string
		Demand, InReview, Confirmed int64
	}
	var got []row
	for _, r := range d.SubQueues {
		got = append(got, row{r.CourseName + " · " + r.Label, r.Demand, r.InReview, r.Confirmed})
	}
	want := []row{{"Full Marathon · Open", 33, 3, 6}, {"10K · Fast", 5, 0, 0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sub-queues (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Review{Awaiting: 3, Approved: 4, Rejected: 2}, d.Review); diff != "" {
		t.Errorf("review (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Funnel{Issued: 14, Accepted: 7, Paid: 6, Declined: 1, Expired: 2, Void: 1, Reoffered: 3}, d.Funnel); diff != "" {
		t.Errorf("funnel (-want +got):\n%s", diff)
	}
	if d.Risk[0] != 10 || d.Risk[9] != 5 {
		t.Errorf("risk buckets %v: 1000 belongs to the last", d.Risk)
	}
	if d.Taken.String() != "₩300,000" || d.Refunded.String() != "₩50,000" || d.Owed.String() != "₩25,000" {
		t.Errorf("money %s %s %s", d.Taken, d.Refunded, d.Owed)
	}
	if d.Demand() != 38 || d.Capacity() != 15 || d.Waiting() != 120 || d.Admitted() != 10 {
		t.Errorf("totals: demand %d capacity %d waiting %d admitted %d", d.Demand(), d.Capacity(), d.Waiting(), d.Admitted())
	}
	if len(d.Lines) != 1 || d.Lines[0].Waiting != 120 || d.Lines[0].AdmitPerMinute != 50 || d.Lines[0].MinutesToAdmitAll != 3 || d.Lines[0].Label != "Fast" {
		t.Errorf("lines %+v", d.Lines)
	}
}

func TestNewLine(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		issued, admitted         int64
		rate                     int
		wantWaiting, wantMinutes int64
	}{
		{"empty", 0, 0, 60, 0, 0},
		{"all admitted", 10, 10, 60, 0, 0},
		{"rounded up", 121, 0, 60, 121, 3},
		{"admitted ahead of a rolled-back place", 5, 6, 60, 0, 0},
		{"no rate", 10, 0, 0, 10, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLine(lottery.SubQueue{}, "", tc.issued, tc.admitted, tc.rate)
			if l.Waiting != tc.wantWaiting || l.MinutesToAdmitAll != tc.wantMinutes {
				t.Errorf("waiting %d minutes %d, want %d %d", l.Waiting, l.MinutesToAdmitAll, tc.wantWaiting, tc.wantMinutes)
			}
		})
	}
}

type countingStore struct {
	calls int
	err   error
}

func (s *countingStore) DashboardCounts(context.Context, int64) (Counts, error) {
	s.calls++
	return Counts{Entries: []EntryCount{{1, lottery.EntryReceived, "accept", int64(s.calls)}}}, s.err
}

// TestServiceCaches: a second read within the TTL is the cached dashboard;
// after it, the store is read again; an error is not cached.
func TestServiceCaches(t *testing.T) {
	st := &countingStore{}
	s := NewService(st, lottery.SystemClock{}, Config{TTL: 50 * time.Millisecond})
	ctx := context.Background()
	a, _ := s.Dashboard(ctx, testEvent())
	b, _ := s.Dashboard(ctx, testEvent())
	if st.calls != 1 || a.Entries != b.Entries {
		t.Fatalf("calls %d, entries %d then %d", st.calls, a.Entries, b.Entries)
	}
	time.Sleep(60 * time.Millisecond)
	if c, _ := s.Dashboard(ctx, testEvent()); st.calls != 2 || c.Entries != 2 {
		t.Fatalf("after the TTL: calls %d entries %d", st.calls, c.Entries)
	}
	time.Sleep(60 * time.Millisecond)
	st.err = lottery.ErrUnavailable
	if _, err := s.Dashboard(ctx, testEvent()); !errors.Is(err, lottery.ErrUnavailable) {
		t.Fatalf("error %v", err)
	}
	st.err = nil
	if _, err := s.Dashboard(ctx, testEvent()); err != nil || st.calls != 4 {
		t.Fatalf("error cached: %v, calls %d", err, st.calls)
	}
}

// A lifecycle step shows at once: the cache holds one state of the event.
func TestServiceCacheFollowsTheLifecycle(t *testing.T) {
	st := &countingStore{}
	s := NewService(st, lottery.SystemClock{}, Config{TTL: time.Hour})
	ctx := context.Background()
	ev := testEvent()
	s.Dashboard(ctx, ev)
	s.Dashboard(ctx, ev)
	if st.calls != 1 {
		t.Fatalf("same state: %d reads, want 1", st.calls)
	}
	now := time.Now()
	ev.ResultsPublishedAt = &now
	s.Dashboard(ctx, ev)
	if st.calls != 2 {
		t.Fatalf("results published: %d reads, want 2", st.calls)
	}
}
