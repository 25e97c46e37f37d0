package antibot

import (
	"testing"

	"github.com/startline/startline/antibot/ipintel"
)

var (
	korea      = ipintel.Network{Country: "KR"}
	poland     = ipintel.Network{Country: "PL"}
	seoulCloud = ipintel.Network{Country: "KR", Kind: ipintel.Hosting, ASN: 16509, Org: "Amazon.com, Inc."}
	m247       = ipintel.Network{Country: "RO", Kind: ipintel.Hosting, ASN: 9009, Org: "M247 Europe SRL"}
	relay      = ipintel.Network{Country: "US", Kind: ipintel.Relay, ASN: 36183, Org: "Akamai"}
)

func ptr[T any](v T) *T { return &v }

func TestAssessApply(t *testing.T) {
	human := Signals{Webdriver: ptr(false), FillMS: ptr(45000), TimeZone: "Asia/Seoul"}
	tests := []struct {
		name     string
		in       ApplyInput
		decision Decision
		reasons  []string
	}{
		{"human in a browser", ApplyInput{Signals: human, HasSignals: true, UserAgent: "Mozilla/5.0"}, Accept, nil},
		{"no script", ApplyInput{UserAgent: "Mozilla/5.0"}, Review, []string{"no_signals"}},
		{"python script", ApplyInput{UserAgent: "python-requests/2.31"}, Reject, []string{"no_signals", "scripting_user_agent"}},
		{"honeypot", ApplyInput{Honeypot: "http://spam", Signals: human, HasSignals: true, UserAgent: "Mozilla/5.0"}, Review, []string{"honeypot_filled"}},
		{"webdriver", ApplyInput{Signals: Signals{Webdriver: ptr(true), FillMS: ptr(40000)}, HasSignals: true, UserAgent: "Mozilla/5.0"}, Review, []string{"webdriver"}},
		{"fast fill", ApplyInput{Signals: Signals{FillMS: ptr(300)}, HasSignals: true, UserAgent: "Mozilla/5.0"}, Accept, []string{"fast_fill"}},
		{"headless bot", ApplyInput{Signals: Signals{Webdriver: ptr(true), FillMS: ptr(200)}, HasSignals: true, UserAgent: "HeadlessChrome/120"}, Reject, []string{"webdriver", "fast_fill", "headless_user_agent"}},
		{"disposable mail", ApplyInput{Signals: human, HasSignals: true, UserAgent: "Mozilla/5.0", DisposableMail: true}, Review, []string{"disposable_email"}},
		{"bare script", ApplyInput{Honeypot: "x", DisposableMail: true}, Reject, []string{"honeypot_filled", "no_user_agent", "disposable_email", "no_signals"}},
		{"curl with forged signals", ApplyInput{Signals: human, HasSignals: true, UserAgent: "curl/8.5.0"}, Review, []string{"scripting_user_agent"}},
		{"Korean phone, consistent", ApplyInput{Signals: Signals{FillMS: ptr(60000), Languages: []string{"ko-KR", "en"}, Platform: "iPhone"},
			HasSignals: true, UserAgent: "Mozilla/5.0 (iPhone)", AcceptLanguage: "ko-KR,ko;q=0.9,en;q=0.8", UAPlatform: `"iOS"`}, Accept, nil},
		{"spoofed language and platform", ApplyInput{Signals: Signals{FillMS: ptr(60000), Languages: []string{"en-US"}, Platform: "Linux x86_64"},
			HasSignals: true, UserAgent: "Mozilla/5.0", AcceptLanguage: "ko-KR", UAPlatform: `"Windows"`}, Accept, []string{"language_mismatch", "platform_mismatch"}},
		{"phone at home", ApplyInput{Signals: human, HasSignals: true, UserAgent: "Mozilla/5.0", Network: korea}, Accept, nil},
		{"traveller or roaming phone", ApplyInput{Signals: human, HasSignals: true, UserAgent: "Mozilla/5.0", Network: poland},
			Accept, []string{"geo_mismatch"}},
		{"office VPN at home", ApplyInput{Signals: human, HasSignals: true, UserAgent: "Mozilla/5.0", Network: seoulCloud},
			Accept, []string{"hosting_network"}},
		{"phone's signals through a VPN exit abroad", ApplyInput{Signals: human, HasSignals: true, UserAgent: "Mozilla/5.0",
			Network: m247}, Review, []string{"geo_mismatch", "hosting_network"}},
		{"iCloud Private Relay", ApplyInput{Signals: human, HasSignals: true, UserAgent: "Mozilla/5.0", Network: relay}, Accept, nil},
		{"UTC has no country", ApplyInput{Signals: Signals{FillMS: ptr(60000), TimeZone: "UTC"}, HasSignals: true,
			UserAgent: "Mozilla/5.0", Network: poland}, Accept, nil},
		{"no signals, no geography", ApplyInput{UserAgent: "Mozilla/5.0", Network: poland}, Review, []string{"no_signals"}},
		// The web form with JavaScript off: taken, always reviewed, and not
		// pushed to reject by the signals its missing script also lacks.
		{"JavaScript off", ApplyInput{UserAgent: "Mozilla/5.0", NoBrowserCheck: true}, Review, []string{ReasonNoBrowserCheck}},
		{"JavaScript off on a VPN", ApplyInput{UserAgent: "Mozilla/5.0", NoBrowserCheck: true, Network: seoulCloud}, Review,
			[]string{ReasonNoBrowserCheck, "hosting_network"}},
		// A bot that skips the proof but forges a human's signals still lands in review.
		{"no proof, forged signals", ApplyInput{Signals: human, HasSignals: true, UserAgent: "Mozilla/5.0", NoBrowserCheck: true}, Review,
			[]string{ReasonNoBrowserCheck}},
		{"no proof, script", ApplyInput{UserAgent: "python-requests/2.31", NoBrowserCheck: true}, Reject,
			[]string{ReasonNoBrowserCheck, "scripting_user_agent"}},
	}
	s := Scorer{Rules: DefaultRules}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := s.AssessApply(tt.in)
			if a.Decision != tt.decision {
				t.Errorf("decision %s (score %d), want %s", a.Decision, a.Score, tt.decision)
			}
			var codes []string
			sum := 0
			for _, r := range a.Reasons {
				codes = append(codes, r.Code)
				sum += r.Points
				if r.Detail == "" {
					t.Errorf("reason %s has no detail", r.Code)
				}
			}
			if len(codes) != len(tt.reasons) {
				t.Fatalf("reasons %v, want %v", codes, tt.reasons)
			}
			for i := range codes {
				if codes[i] != tt.reasons[i] {
					t.Errorf("reasons %v, want %v", codes, tt.reasons)
				}
			}
			if sum != a.Score || a.RulesVersion != DefaultRules.Version {
				t.Errorf("score %d != sum of reasons %d, or version %q", a.Score, sum, a.RulesVersion)
			}
		})
	}
}

// An event's own rules cannot make skipping the proof free: with no points
// for it, the entry is still reviewed.
func TestNoBrowserCheckAlwaysReviewed(t *testing.T) {
	r := DefaultRules
	r.NoBrowserCheckPts = 0
	a := Scorer{Rules: r}.AssessApply(ApplyInput{Signals: Signals{FillMS: ptr(45000)}, HasSignals: true, UserAgent: "Mozilla/5.0",
		NoBrowserCheck: true})
	if a.Decision != Review || len(a.Reasons) != 1 || a.Reasons[0].Code != ReasonNoBrowserCheck {
		t.Fatalf("assessment %+v, want review for no browser check", a)
	}
}

func TestAssessOTP(t *testing.T) {
	s := Scorer{Rules: DefaultRules}
	tests := []struct {
		name string
		in   OTPInput
		want Decision
	}{
		{"browser", OTPInput{UserAgent: "Mozilla/5.0"}, Accept},
		{"browser, disposable address", OTPInput{UserAgent: "Mozilla/5.0", DisposableMail: true}, Review},
		{"script", OTPInput{UserAgent: "python-requests/2.31"}, Review},
		{"script, disposable address", OTPInput{UserAgent: "curl/8.5", DisposableMail: true}, Reject},
		{"no user agent, disposable address", OTPInput{DisposableMail: true}, Review},
		{"browser through a VPN exit", OTPInput{UserAgent: "Mozilla/5.0", Network: m247}, Accept},
		{"script on a cloud VM", OTPInput{UserAgent: "python-requests/2.31", Network: seoulCloud}, Review},
		{"bare client on a cloud VM, disposable address", OTPInput{DisposableMail: true, Network: seoulCloud}, Reject},
	}
	for _, tt := range tests {
		if got := s.AssessOTP(tt.in); got.Decision != tt.want {
			t.Errorf("%s: %s (score %d), want %s", tt.name, got.Decision, got.Score, tt.want)
		}
	}
}

func TestAssessQueueJoin(t *testing.T) {
	s := Scorer{Rules: DefaultRules}
	browser := QueueJoinInput{UserAgent: "Mozilla/5.0 (iPhone)", AcceptLanguage: "ko-KR", DeviceCookie: true}
	with := func(f func(*QueueJoinInput)) QueueJoinInput { in := browser; f(&in); return in }
	tests := []struct {
		name      string
		in        QueueJoinInput
		want      Decision
		wantScore int
	}{
		{"browser", browser, Accept, 0},
		{"browser without its cookie", with(func(in *QueueJoinInput) { in.DeviceCookie = false }), Accept, 15},
		{"browser through a VPN exit", with(func(in *QueueJoinInput) { in.Network = m247 }), Accept, 25},
		{"browser, disposable address", with(func(in *QueueJoinInput) { in.DisposableMail = true }), Review, 60},
		{"headless browser", with(func(in *QueueJoinInput) { in.UserAgent = "HeadlessChrome/120" }), Review, 60},
		{"script", QueueJoinInput{UserAgent: "python-requests/2.31"}, Review, 80},
		{"script on a cloud VM", QueueJoinInput{UserAgent: "curl/8.5", Network: seoulCloud}, Reject, 105},
		{"bare client, disposable address", QueueJoinInput{DisposableMail: true}, Reject, 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.AssessQueueJoin(tt.in)
			if got.Decision != tt.want || got.Score != tt.wantScore {
				t.Errorf("%s with score %d (%v), want %s with %d", got.Decision, got.Score, got.Reasons, tt.want, tt.wantScore)
			}
			if got.RulesVersion != DefaultRules.Version+"/queue" {
				t.Errorf("rules version %q", got.RulesVersion)
			}
		})
	}
}
