package lottery

import (
	"slices"
	"time"

	"github.com/startline/startline/antibot"
)

// Rejection categories: what a rejected runner is told about why, in plain
// words (lottery/mails "reason.<lang>"), never the risk reasons themselves,
// which would teach a bot what to change.
const (
	RejectAutomated = "automated" // the request looked scripted
	RejectLinked    = "linked"    // linked to other entries (clusters, duplicates)
	RejectNetwork   = "network"   // browser and network details do not fit together
	RejectEmail     = "email"     // a disposable address
	RejectClaim     = "claim"     // a ticket claim the record does not back
	RejectOther     = "other"     // anything else: the event's entry rules
)

// reasonCategory maps each risk reason code to its category; the order of
// categories decides which one an entry with several reasons is told.
var reasonCategory = map[string]string{
	"honeypot_filled": RejectAutomated, "webdriver": RejectAutomated, "fast_fill": RejectAutomated,
	"scripting_user_agent": RejectAutomated, "headless_user_agent": RejectAutomated, "no_user_agent": RejectAutomated,
	"no_signals": RejectAutomated, "queue_join_flagged": RejectAutomated,
	"linked_cluster":  RejectLinked,
	"hosting_network": RejectNetwork, antibot.ReasonGeoMismatch: RejectNetwork, "language_mismatch": RejectNetwork,
	"platform_mismatch": RejectNetwork, "no_accept_language": RejectNetwork, "no_device_cookie": RejectNetwork,
	"disposable_email": RejectEmail,
	ReasonTicketClaim:  RejectClaim,
}

var categoryOrder = []string{RejectAutomated, RejectLinked, RejectEmail, RejectNetwork, RejectClaim}

// RejectionCategory is the one category a rejected entry's runner is told:
// the first of automated, linked, email, network, claim that any of its
// reasons falls in, else other.
func RejectionCategory(reasons []antibot.Reason) string {
	seen := map[string]bool{}
	for _, r := range reasons {
		seen[reasonCategory[r.Code]] = true
	}
	for _, c := range categoryOrder {
		if seen[c] {
			return c
		}
	}
	return RejectOther
}

// IsRejectionCategory reports whether c is one of the categories above.
func IsRejectionCategory(c string) bool {
	return c == RejectOther || slices.Contains(categoryOrder, c)
}

// ReminderLead is how long before a hold ends its runner is reminded: a
// quarter of the hold, at most a day (a 48 h hold is reminded 12 h before
// its end, a week's hold a day before). lottery/postgres
// QueueOfferReminders applies it in SQL.
func ReminderLead(hold time.Duration) time.Duration {
	return min(24*time.Hour, hold/4)
}
