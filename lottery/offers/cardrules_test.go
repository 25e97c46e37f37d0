package offers_test

import (
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
)

var t0 = time.Date(2027, 3, 9, 9, 0, 0, 0, time.UTC)

func TestChargeCutoff(t *testing.T) {
	for _, tc := range []struct {
		hold, left time.Duration // left: the runner's time to pay after the cutoff
	}{{48 * time.Hour, 6 * time.Hour}, {24 * time.Hour, 6 * time.Hour}, {8 * time.Hour, 2 * time.Hour}, {time.Hour, 15 * time.Minute}} {
		if got := t0.Add(tc.hold).Sub(offers.ChargeCutoff(t0, t0.Add(tc.hold))); got != tc.left {
			t.Errorf("hold %s: %s left after the cutoff, want %s", tc.hold, got, tc.left)
		}
	}
}

func TestDeclineBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 30 * time.Minute, 2: time.Hour, 3: 2 * time.Hour, 4: 4 * time.Hour, 9: 4 * time.Hour} {
		if got := offers.DeclineBackoff(n); got != want {
			t.Errorf("DeclineBackoff(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestNextCharge(t *testing.T) {
	soft := lottery.CardDecline{Code: "insufficient_funds", Retry: true}
	hard := lottery.CardDecline{Code: "generic_decline"}
	cutoff := t0.Add(42 * time.Hour)
	for _, tc := range []struct {
		name          string
		now           time.Time
		attempts, max int
		d             lottery.CardDecline
		busy          bool
		want          time.Time
		again         bool
	}{
		{"soft decline: retried after the backoff", t0, 1, 3, soft, false, t0.Add(30 * time.Minute), true},
		{"second soft decline: longer", t0, 2, 3, soft, false, t0.Add(time.Hour), true},
		{"attempts used up", t0, 3, 3, soft, false, time.Time{}, false},
		{"final decline", t0, 1, 3, hard, false, time.Time{}, false},
		{"authentication required is final", t0, 1, 3, lottery.CardDecline{Code: "authentication_required"}, false, time.Time{}, false},
		{"busy: short, no attempt used", t0, 0, 1, lottery.CardDecline{}, true, t0.Add(offers.BusyRetryAfter), true},
		{"busy past the cutoff falls back", cutoff.Add(-time.Second), 0, 3, lottery.CardDecline{}, true, time.Time{}, false},
		{"a retry never lands past the cutoff", cutoff.Add(-10 * time.Minute), 1, 3, soft, false, cutoff, true},
		{"at the cutoff: fall back", cutoff, 1, 3, soft, false, time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, again := offers.NextCharge(tc.now, cutoff, tc.attempts, tc.max, tc.d, tc.busy)
			if again != tc.again || !got.Equal(tc.want) {
				t.Errorf("NextCharge = %s, %v; want %s, %v", got, again, tc.want, tc.again)
			}
		})
	}
}

func TestClaimOf(t *testing.T) {
	cutoff := t0.Add(time.Hour)
	for _, tc := range []struct {
		name   string
		offer  lottery.OfferStatus
		entry  lottery.EntryStatus
		now    time.Time
		refund bool
		want   offers.ClaimAction
	}{
		{"pending offer: charge", lottery.OfferPending, lottery.EntryOffered, t0, false, offers.ClaimCharge},
		{"accepted offer: charge", lottery.OfferAccepted, lottery.EntryOffered, t0, false, offers.ClaimCharge},
		{"paid on the page: moot", lottery.OfferPaid, lottery.EntryConfirmed, t0, false, offers.ClaimMoot},
		{"declined by the runner: moot", lottery.OfferDeclined, lottery.EntryDeclined, t0, false, offers.ClaimMoot},
		{"expired: moot", lottery.OfferExpired, lottery.EntryExpired, t0, false, offers.ClaimMoot},
		{"in review: wait", lottery.OfferPending, lottery.EntryInReview, t0, false, offers.ClaimWait},
		{"past the cutoff: fall back", lottery.OfferPending, lottery.EntryOffered, cutoff, false, offers.ClaimFallback},
		{"refund owed: replay", lottery.OfferDeclined, lottery.EntryDeclined, t0, true, offers.ClaimReplay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := offers.ClaimOf(tc.offer, tc.entry, tc.now, cutoff, tc.refund); got != tc.want {
				t.Errorf("ClaimOf = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestTakeCharges: the bucket starts with one second's worth (at least
// one), refills at the rate, never above the burst; over any span T it
// grants at most burst + rate·T.
func TestTakeCharges(t *testing.T) {
	type step struct {
		after time.Duration
		want  int
		got   int
	}
	for _, tc := range []struct {
		name      string
		perMinute int
		steps     []step
	}{
		{"60 a minute: one now, one a second", 60, []step{{0, 5, 1}, {0, 5, 0}, {500 * time.Millisecond, 5, 0}, {500 * time.Millisecond, 5, 1}}},
		{"1200 a minute: 20 at once, 20 a second", 1200, []step{{0, 100, 20}, {time.Second, 100, 20}, {100 * time.Millisecond, 100, 2}}},
		{"idle never banks more than the burst", 1200, []step{{0, 0, 0}, {time.Hour, 100, 20}}},
		{"1 a minute: one, then a minute later", 1, []step{{0, 5, 1}, {30 * time.Second, 5, 0}, {30 * time.Second, 5, 1}}},
		{"want caps the grant", 6000, []step{{0, 3, 3}, {0, 1000, 97}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b offers.ChargeBucket
			now := t0
			for i, s := range tc.steps {
				now = now.Add(s.after)
				var n int
				n, b = offers.TakeCharges(b, now, tc.perMinute, s.want)
				if n != s.got {
					t.Errorf("step %d: granted %d, want %d", i, n, s.got)
				}
			}
		})
	}
	// The cap over a span: a take every 10 ms for 3 s at 600 a minute.
	var b offers.ChargeBucket
	total := 0
	for now := t0; now.Before(t0.Add(3 * time.Second)); now = now.Add(10 * time.Millisecond) {
		var n int
		n, b = offers.TakeCharges(b, now, 600, 1000)
		total += n
	}
	if limit := int(offers.ChargeBurst(600)) + 600*3/60; total > limit {
		t.Errorf("granted %d over 3 s at 600/min, cap %d", total, limit)
	}
}
