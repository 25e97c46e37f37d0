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
//	email        10/h              20/h               applies + joins per (requester, address), after the proof of work
//	otp_email    3/10min, 10/day   6/10min, 20/day    code mails per (requester, address): one requester cannot mail-bomb
//	otp_inbox    10/h, 30/day      20/h, 60/day       code mails per address from anyone: a cap, never a 429 (below)
//	event        2000/s            4000/s             code requests + applies + joins per event: sheds load above what PostgreSQL sustains, not a fairness rule
//	staff_login    10/15min, 40/day  20/15min, 80/day   FAILED staff logins per requesting address (ClientKey): refuses the attacker
//	                                                    (these three count failures only, gate.StaffLoginFailed; a success
//	                                                    spends nothing, so one office network never locks itself out)
//	staff_account  5/min             10/min             failures on one staff account from devices that never signed in to it:
//	                                                    paces guesses (at most 7,200 a day against a 12+ character password
//	                                                    and a TOTP code), the owner waits at most a minute, never 15 minutes
//	staff_device   10/15min          20/15min           failures on one account from one device that signed in to it before
//	                                                    (gate.StaffLogin): strangers cannot spend it, so the owner gets in
//	                                                    while the account is under attack
//
// Who can spend what. A refused request spends nothing (Limiter.Allow), so
// hammering one's own ip or device limit spends no event valve and no one's
// address budget; the valve is drained only by requests its senders' own
// budgets allowed, so one address adds at most its ip budget to it. The
// budgets that protect a person are keyed by the address and the
// requester (its ip key), never by the address alone: a stranger who asks
// for codes or applies with someone's address (dot and +tag spellings fold
// to one address) exhausts only the stranger's own pair, and applies and
// joins count only once their proof of work checks out. Guessing a code is
// bounded elsewhere: 5 tries per code, codes bounded by otp_email and
// otp_inbox. Distributed mail bombing (many requesters, one address) is
// what otp_inbox stops: over it, the code request still answers 202 (no
// 429 that would lock the owner out, nothing revealed) but no code is
// mailed, unless the requesting device has applied with a code sent to that
// address before (abredis.Known). The trade-off: while a distributed attack
// holds an address at its cap, its owner on a device never used for it
// gets no code until the window (at most a day) ends; an owner who applied
// from that device before still does.
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
		r(KindOTPInbox, 10, time.Hour), r(KindOTPInbox, 30, day),
		// A valve above what one database sustains (applies are one
		// transaction each): refusing in Redis is cheaper than timing out.
		r(KindEvent, 2000, time.Second),
		// Staff logins: throttle the attacker, not the owner. Failures only
		// are counted. No per-account rule locks an account for long:
		// anyone can spend it.
		r(KindStaffLogin, 10, 15*time.Minute), r(KindStaffLogin, 40, day),
		r(KindStaffAccount, 5, time.Minute),
		r(KindStaffDevice, 10, 15*time.Minute),
	}
}

// Staff login kinds besides KindStaffLogin (per requesting address).
const (
	KindStaffAccount Kind = "staff_account" // Value: the normalized staff e-mail, from devices not known to the account
	KindStaffDevice  Kind = "staff_device"  // Value: the normalized staff e-mail + "|" + a known device's id
)
