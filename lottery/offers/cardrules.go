package offers

import (
	"time"

	"github.com/startline/startline/lottery"
)

// Card on file (issue 15): the rules that decide when a saved card is
// charged, tried again or given up on. Pure functions of plain values; the
// store loads, calls them and writes.

// CardChargeState is where an offer's off-session charge stands
// (card_charges.state).
type CardChargeState string

// Charge states, as stored.
const (
	ChargeQueued   CardChargeState = "queued"   // waiting for its turn under the rate
	ChargeRetry    CardChargeState = "retry"    // a soft decline or a busy provider: tried again at NextAt
	ChargeCharged  CardChargeState = "charged"  // captured: the offer is paid
	ChargeFallback CardChargeState = "fallback" // given up: the runner pays on the page
)

// BusyRetryAfter is how soon a charge the provider was too busy to take is
// tried again: short, since nothing was decided and the meter spreads the
// retries anyway.
const BusyRetryAfter = 15 * time.Second

// ChargeCutoff is the last moment a card may be charged for an offer: a
// quarter of the hold, at most six hours, is always left for the runner to
// pay on the page after a charge that failed.
func ChargeCutoff(issuedAt, expiresAt time.Time) time.Time {
	margin := expiresAt.Sub(issuedAt) / 4
	if margin > 6*time.Hour {
		margin = 6 * time.Hour
	}
	return expiresAt.Add(-margin)
}

// DeclineBackoff is the wait after the n-th soft decline (n >= 1): 30
// minutes, doubling, at most 4 hours. Funds arrive in hours, not seconds.
func DeclineBackoff(n int) time.Duration {
	d := 30 * time.Minute
	for i := 1; i < n && d < 4*time.Hour; i++ {
		d *= 2
	}
	return min(d, 4*time.Hour)
}

// NextCharge decides what follows a charge that did not capture: when to
// try again, or fall back (false) to the pay link. attempts counts the
// declines so far, this one included (a busy provider declined nothing
// and uses up no attempt). A final decline, the last attempt, or a retry
// that would land past the cutoff falls back; a retry is never later than
// the cutoff.
func NextCharge(now, cutoff time.Time, attempts, maxAttempts int, d lottery.CardDecline, busy bool) (time.Time, bool) {
	if !now.Before(cutoff) {
		return time.Time{}, false
	}
	if busy {
		next := now.Add(BusyRetryAfter)
		if next.After(cutoff) {
			return time.Time{}, false
		}
		return next, true
	}
	if !d.Retry || attempts >= maxAttempts {
		return time.Time{}, false
	}
	next := now.Add(DeclineBackoff(attempts))
	if next.After(cutoff) {
		next = cutoff
	}
	return next, true
}

// ClaimAction is what a charge pass does with a due charge row.
type ClaimAction int

// Claim actions.
const (
	ClaimCharge   ClaimAction = iota // charge the card now
	ClaimMoot                        // the offer was paid, declined or ended first: never charge
	ClaimWait                        // the entry is in review: wait, using no attempt
	ClaimFallback                    // the hold is nearly over: send the pay link instead
	ClaimReplay                      // a capture whose refund is owed: ask again with the same key, then refund
)

// ClaimOf decides a due row's fate under its offer's lock: only a live
// offer (pending or accepted, before its cutoff) whose entry is not in
// review is charged. refundOwed marks a row whose capture landed after
// the offer ended and whose refund the provider has not confirmed.
func ClaimOf(offer lottery.OfferStatus, entry lottery.EntryStatus, now, cutoff time.Time, refundOwed bool) ClaimAction {
	live := offer == lottery.OfferPending || offer == lottery.OfferAccepted
	switch {
	case refundOwed:
		return ClaimReplay
	case !live:
		return ClaimMoot
	case !now.Before(cutoff):
		return ClaimFallback
	case entry == lottery.EntryInReview:
		return ClaimWait
	}
	return ClaimCharge
}

// ChargeBucket is a token bucket metering one event's charges: Tokens
// available at At.
type ChargeBucket struct {
	Tokens float64
	At     time.Time
}

// ChargeBurst is how many charges an event may make at once: one second's
// worth of its rate, at least one. The provider sees a steady stream, not
// a minute's worth in one burst.
func ChargeBurst(perMinute int) float64 {
	return max(1, float64(perMinute)/60)
}

// TakeCharges takes up to want tokens from an event's bucket at now, which
// refills at perMinute a minute up to ChargeBurst (a zero bucket is full).
// Over any span T the charges granted are at most
// ChargeBurst + perMinute·T/60s.
func TakeCharges(b ChargeBucket, now time.Time, perMinute, want int) (int, ChargeBucket) {
	burst := ChargeBurst(perMinute)
	if b.At.IsZero() {
		b = ChargeBucket{Tokens: burst, At: now}
	}
	if now.After(b.At) {
		b.Tokens = min(burst, b.Tokens+now.Sub(b.At).Seconds()*float64(perMinute)/60)
		b.At = now
	}
	n := min(want, int(b.Tokens))
	if n < 0 {
		n = 0
	}
	b.Tokens -= float64(n)
	return n, b
}
