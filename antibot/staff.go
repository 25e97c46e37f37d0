package antibot

import (
	"fmt"
	"slices"
	"strings"

	"github.com/startline/startline/antibot/ipintel"
)

// StaffRules holds the points and thresholds of the staff login scorer. Like
// Rules they are data, and each decision records the version it used.
type StaffRules struct {
	Version         string
	ReviewAt        int // score at or above which a login gets a short session and an alert
	RejectAt        int // score at or above which a login is refused even with the right credentials
	ScriptUAPts     int // an HTTP library's user agent (curl, python-requests…)
	NoUserAgentPts  int
	HostingPts      int // a cloud, hosting or VPN network
	NewCountryPts   int // a country the account never logged in from
	FailuresPts     int // FailuresAt or more failed logins in the last hour
	ManyFailuresPts int // ManyFailuresAt or more failed logins in the last hour (instead of FailuresPts)
	FailuresAt      int
	ManyFailuresAt  int
}

// DefaultStaffRules are the staff login rules used when none are configured.
// A browser from a new country, a VPN or after a few typos stays below
// review; a script is reviewed, and a script hammering an account, or a
// script through a data centre abroad, is refused.
var DefaultStaffRules = StaffRules{Version: "staff-login-v1", ReviewAt: 50, RejectAt: 100, ScriptUAPts: 50,
	NoUserAgentPts: 30, HostingPts: 25, NewCountryPts: 30, FailuresPts: 20, ManyFailuresPts: 60, FailuresAt: 3,
	ManyFailuresAt: 10}

// StaffLoginInput is everything the scorer sees about one staff login attempt.
type StaffLoginInput struct {
	UserAgent string
	// Network is what ipintel knows of the client's address.
	Network ipintel.Network
	// RecentFailures counts the account's failed logins in the last hour, before this one.
	RecentFailures int
	// KnownDevice is set when the request carries the signed device cookie
	// of a device that signed in to this account before. Its login does not
	// score the account's recent failures: anyone can fail logins on an
	// address, and that must not lock its owner out.
	KnownDevice bool
	// KnownCountries are the countries of the account's earlier successful logins.
	KnownCountries []string
	// FirstLogin is set when the account never logged in successfully.
	FirstLogin bool
}

// AssessStaffLogin scores a staff login attempt on an existing account. It
// looks only at the request and the account's history, never at the
// credentials, so the decision reveals nothing about the password.
func (r StaffRules) AssessStaffLogin(in StaffLoginInput) Assessment {
	a := Assessment{RulesVersion: r.Version, Reasons: []Reason{}}
	if in.UserAgent == "" {
		a.add("no_user_agent", r.NoUserAgentPts, "the request had no User-Agent")
	}
	if lib := scriptingAgent(in.UserAgent); lib != "" {
		a.add("scripting_user_agent", r.ScriptUAPts, "the User-Agent is the HTTP library "+lib)
	}
	a.addNetwork(Rules{HostingPts: r.HostingPts}, in.Network)
	// A relay's registry country says nothing about where its user is.
	if c := in.Network.Country; !in.FirstLogin && c != "" && in.Network.Kind != ipintel.Relay &&
		!slices.Contains(in.KnownCountries, c) {
		a.add("new_country", r.NewCountryPts, "first login from "+c+" (earlier logins: "+countryList(in.KnownCountries)+")")
	}
	switch n := in.RecentFailures; {
	case in.KnownDevice:
	case n >= r.ManyFailuresAt:
		a.add("recent_failures", r.ManyFailuresPts, fmt.Sprintf("%d failed logins in the last hour (>= %d)", n, r.ManyFailuresAt))
	case n >= r.FailuresAt:
		a.add("recent_failures", r.FailuresPts, fmt.Sprintf("%d failed logins in the last hour (>= %d)", n, r.FailuresAt))
	}
	a.decide(Rules{ReviewAt: r.ReviewAt, RejectAt: r.RejectAt})
	return a
}

func countryList(cs []string) string {
	if len(cs) == 0 {
		return "country unknown"
	}
	return strings.Join(cs, ", ")
}
