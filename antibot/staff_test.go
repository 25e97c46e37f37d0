package antibot_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/ipintel"
)

func TestAssessStaffLogin(t *testing.T) {
	const browser = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15"
	var (
		seoul  = ipintel.Network{Country: "KR"}
		lisbon = ipintel.Network{Country: "PT"}
		cloud  = ipintel.Network{Country: "KR", Kind: ipintel.Hosting, ASN: 16509, Org: "Amazon.com, Inc."}
		vpnFar = ipintel.Network{Country: "RO", Kind: ipintel.Hosting, ASN: 9009, Org: "M247 Europe SRL"}
		relay  = ipintel.Network{Country: "US", Kind: ipintel.Relay, ASN: 36183, Org: "Akamai"}
		home   = []string{"KR"}
	)
	type reason struct {
		Code   string
		Points int
	}
	tests := []struct {
		name     string
		in       antibot.StaffLoginInput
		decision antibot.Decision
		reasons  []reason
	}{
		{"browser at home", antibot.StaffLoginInput{UserAgent: browser, Network: seoul, KnownCountries: home},
			antibot.Accept, nil},
		{"first login, any country", antibot.StaffLoginInput{UserAgent: browser, Network: lisbon, FirstLogin: true},
			antibot.Accept, nil},
		{"unknown country is never new", antibot.StaffLoginInput{UserAgent: browser, KnownCountries: home},
			antibot.Accept, nil},
		{"travelling", antibot.StaffLoginInput{UserAgent: browser, Network: lisbon, KnownCountries: home},
			antibot.Accept, []reason{{"new_country", 30}}},
		{"earlier logins of unknown country", antibot.StaffLoginInput{UserAgent: browser, Network: seoul},
			antibot.Accept, []reason{{"new_country", 30}}},
		{"relay's country is not a location", antibot.StaffLoginInput{UserAgent: browser, Network: relay, KnownCountries: home},
			antibot.Accept, nil},
		{"office VPN", antibot.StaffLoginInput{UserAgent: browser, Network: cloud, KnownCountries: home},
			antibot.Accept, []reason{{"hosting_network", 25}}},
		{"two typos", antibot.StaffLoginInput{UserAgent: browser, Network: seoul, KnownCountries: home, RecentFailures: 2},
			antibot.Accept, nil},
		{"three failures", antibot.StaffLoginInput{UserAgent: browser, Network: seoul, KnownCountries: home, RecentFailures: 3},
			antibot.Accept, []reason{{"recent_failures", 20}}},
		{"nine failures", antibot.StaffLoginInput{UserAgent: browser, Network: seoul, KnownCountries: home, RecentFailures: 9},
			antibot.Accept, []reason{{"recent_failures", 20}}},
		{"ten failures", antibot.StaffLoginInput{UserAgent: browser, Network: seoul, KnownCountries: home, RecentFailures: 10},
			antibot.Review, []reason{{"recent_failures", 60}}},
		{"VPN abroad", antibot.StaffLoginInput{UserAgent: browser, Network: vpnFar, KnownCountries: home},
			antibot.Review, []reason{{"hosting_network", 25}, {"new_country", 30}}},
		{"no user agent", antibot.StaffLoginInput{Network: seoul, KnownCountries: home},
			antibot.Accept, []reason{{"no_user_agent", 30}}},
		{"curl", antibot.StaffLoginInput{UserAgent: "curl/8.0", Network: seoul, KnownCountries: home},
			antibot.Review, []reason{{"scripting_user_agent", 50}}},
		{"curl after three failures", antibot.StaffLoginInput{UserAgent: "curl/8.0", Network: seoul, KnownCountries: home,
			RecentFailures: 3}, antibot.Review, []reason{{"scripting_user_agent", 50}, {"recent_failures", 20}}},
		{"curl after ten failures", antibot.StaffLoginInput{UserAgent: "curl/8.0", Network: seoul, KnownCountries: home,
			RecentFailures: 10}, antibot.Reject, []reason{{"scripting_user_agent", 50}, {"recent_failures", 60}}},
		{"script through a data centre abroad", antibot.StaffLoginInput{UserAgent: "python-requests/2.31", Network: vpnFar,
			KnownCountries: home}, antibot.Reject,
			[]reason{{"scripting_user_agent", 50}, {"hosting_network", 25}, {"new_country", 30}}},
		{"known device after ten failures", antibot.StaffLoginInput{UserAgent: browser, Network: seoul, KnownCountries: home,
			RecentFailures: 10, KnownDevice: true}, antibot.Accept, nil},
		{"known device, VPN abroad, under attack", antibot.StaffLoginInput{UserAgent: browser, Network: vpnFar,
			KnownCountries: home, RecentFailures: 50, KnownDevice: true}, antibot.Review,
			[]reason{{"hosting_network", 25}, {"new_country", 30}}},
		{"known device, a script hammering", antibot.StaffLoginInput{UserAgent: "curl/8.0", Network: seoul,
			KnownCountries: home, RecentFailures: 10, KnownDevice: true}, antibot.Review, []reason{{"scripting_user_agent", 50}}},
		{"everything", antibot.StaffLoginInput{Network: vpnFar, KnownCountries: home, RecentFailures: 50}, antibot.Reject,
			[]reason{{"no_user_agent", 30}, {"hosting_network", 25}, {"new_country", 30}, {"recent_failures", 60}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := antibot.DefaultStaffRules.AssessStaffLogin(tt.in)
			if a.Decision != tt.decision {
				t.Errorf("decision %s (score %d), want %s", a.Decision, a.Score, tt.decision)
			}
			var got []reason
			sum := 0
			for _, r := range a.Reasons {
				got = append(got, reason{r.Code, r.Points})
				sum += r.Points
				if r.Detail == "" {
					t.Errorf("reason %s has no detail", r.Code)
				}
			}
			if diff := cmp.Diff(tt.reasons, got); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if sum != a.Score {
				t.Errorf("score %d, sum of reasons %d", a.Score, sum)
			}
			if a.RulesVersion != "staff-login-v1" {
				t.Errorf("rules version %q", a.RulesVersion)
			}
		})
	}
}

func TestAssessStaffLoginDetails(t *testing.T) {
	a := antibot.DefaultStaffRules.AssessStaffLogin(antibot.StaffLoginInput{UserAgent: "curl/8.0",
		Network:        ipintel.Network{Country: "RO", Kind: ipintel.Hosting, ASN: 9009, Org: "M247 Europe SRL"},
		KnownCountries: []string{"KR", "JP"}, RecentFailures: 12})
	want := map[string][]string{
		"scripting_user_agent": {"curl"},
		"hosting_network":      {"RO", "hosting", "M247 Europe SRL"},
		"new_country":          {"RO", "KR, JP"},
		"recent_failures":      {"12"},
	}
	if len(a.Reasons) != len(want) {
		t.Fatalf("reasons %+v", a.Reasons)
	}
	for _, r := range a.Reasons {
		for _, w := range want[r.Code] {
			if !strings.Contains(r.Detail, w) {
				t.Errorf("%s detail %q does not name %q", r.Code, r.Detail, w)
			}
		}
	}
}

func TestStaffRulesThresholds(t *testing.T) {
	// The thresholds are data: a stricter rule set reviews what the default accepts.
	strict := antibot.DefaultStaffRules
	strict.Version, strict.ReviewAt, strict.RejectAt, strict.FailuresAt = "strict", 20, 50, 1
	tests := []struct {
		name     string
		in       antibot.StaffLoginInput
		decision antibot.Decision
		score    int
	}{
		{"clean", antibot.StaffLoginInput{UserAgent: "Mozilla/5.0", FirstLogin: true}, antibot.Accept, 0},
		{"one failure", antibot.StaffLoginInput{UserAgent: "Mozilla/5.0", FirstLogin: true, RecentFailures: 1}, antibot.Review, 20},
		{"curl", antibot.StaffLoginInput{UserAgent: "curl/8.0", FirstLogin: true}, antibot.Reject, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := strict.AssessStaffLogin(tt.in)
			if a.Decision != tt.decision || a.Score != tt.score || a.RulesVersion != "strict" {
				t.Errorf("got %s %d %q, want %s %d", a.Decision, a.Score, a.RulesVersion, tt.decision, tt.score)
			}
		})
	}
}
