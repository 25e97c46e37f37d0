package redis

import (
	"time"

	"github.com/ulule/limiter/v3"
)

// DefaultRules are Startline's limits for the runner routes. The windows are
// fixed (ulule counts per window and resets at its end), so a client that
// spends a whole budget at the end of one window and another at the start of
// the next gets twice the limit within one window length: the "burst"
// column is that worst case, and the limits are chosen so it is still
// harmless. Registration is a window, not a click race, so a 429 with
// Retry-After costs a real runner nothing but a short wait.
//
//	kind         limit             burst at an edge   why
//	ip           20/min, 300/h     40/min, 600/h      per IPv4 or IPv6 /64 (ClientKey); generous for carrier-grade NAT
//	device       10/min, 50/h      20/min, 100/h      per sl_device cookie: one person, a few retries
//	email        10/h              20/h               apply attempts per address (codes have their own 5 tries)
//	otp_email    3/10min, 10/day   6/10min, 20/day    mails sent per address: stops mail bombing
//	event        2000/s            4000/s             code requests + applies + joins per event: sheds load above what PostgreSQL sustains, not a fairness rule
//	staff_login  5/15min, 20/day   10/15min, 40/day   password+TOTP guesses per staff address
//
// The longer rules bound what the short ones' edge effect can add up to: one
// address block gets at most 300 applies per hourly window (600 across one
// window boundary), however its minute windows are timed. A window starts at
// a key's first request, not on the clock, so windows of different keys do
// not reset together.
func DefaultRules() []Rule {
	r := func(k Kind, limit int64, period time.Duration) Rule {
		return Rule{Kind: k, Rate: limiter.Rate{Limit: limit, Period: period}}
	}
	const day = 24 * time.Hour
	return []Rule{
		r(KindIP, 20, time.Minute), r(KindIP, 300, time.Hour),
		r(KindDevice, 10, time.Minute), r(KindDevice, 50, time.Hour),
		r(KindEmail, 10, time.Hour),
		r(KindOTPEmail, 3, 10*time.Minute), r(KindOTPEmail, 10, day),
		// A valve above what one database sustains (applies are one
		// transaction each): refusing in Redis is cheaper than timing out.
		r(KindEvent, 2000, time.Second),
		r(KindStaffLogin, 5, 15*time.Minute), r(KindStaffLogin, 20, day),
	}
}
