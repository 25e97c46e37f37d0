// Package antibot scores requests for bot behaviour and explains each score:
// every assessment carries the reasons and the signal values behind them, so
// a reviewer can see why an entry was flagged. It is pure: counters and
// stores live in adapters (antibot/redis).
package antibot

import (
	"fmt"
	"strings"

	"github.com/startline/startline/antibot/ipintel"
)

// Decision is what the service does with a request.
type Decision string

// Decisions, in rising severity.
const (
	Accept Decision = "accept"
	Review Decision = "review"
	Reject Decision = "reject"
)

// Reason is one rule that fired, with the signal value that made it fire.
type Reason struct {
	Code   string `json:"code"`
	Points int    `json:"points"`
	Detail string `json:"detail"`
}

// Assessment is the outcome of scoring one request.
type Assessment struct {
	Score        int      `json:"score"`
	Decision     Decision `json:"decision"`
	Reasons      []Reason `json:"reasons"`
	RulesVersion string   `json:"rules_version"`
}

// Signals are what the form's script and the request tell about the client.
// Every field is optional: a client that sends none is simply riskier.
type Signals struct {
	Webdriver   *bool    `json:"webdriver,omitempty"`
	FillMS      *int     `json:"fill_ms,omitempty"`
	TimeZone    string   `json:"timezone,omitempty"`
	Languages   []string `json:"languages,omitempty"`
	Screen      string   `json:"screen,omitempty"`
	Platform    string   `json:"platform,omitempty"`
	Fingerprint string   `json:"fingerprint,omitempty"`
	Touch       *bool    `json:"touch,omitempty"`
}

// ApplyInput is everything the scorer sees about one application.
type ApplyInput struct {
	Honeypot       string
	Signals        Signals
	HasSignals     bool
	AcceptLanguage string
	UserAgent      string
	// UAPlatform is the Sec-CH-UA-Platform client hint, when the browser sent it.
	UAPlatform     string
	DisposableMail bool
	// Network is what ipintel knows of the client's address.
	Network ipintel.Network
	// NoBrowserCheck says the application came without the proof of work
	// (the web form with JavaScript off): it is taken, but never accepted
	// without a person's review.
	NoBrowserCheck bool
}

// Rules holds the thresholds of the apply scorer. They are data so an event
// can override them and each decision records the version it used.
type Rules struct {
	Version         string
	ReviewAt        int // score at or above which an entry goes to review
	RejectAt        int // score at or above which an entry is rejected outright
	MinFillMS       int // faster form fills than this are scored as automated
	HoneypotPoints  int
	WebdriverPoints int
	FastFillPoints  int
	NoSignalsPoints int
	DisposablePts   int
	NoUserAgentPts  int
	MismatchPts     int // a signal contradicting the request (language, platform)
	ScriptUAPoints  int // an HTTP library's user agent (curl, python-requests…)
	GeoMismatchPts  int // the device's time zone is in another country than its network
	HostingPts      int // the request came from a cloud, hosting or VPN network
	// NoBrowserCheckPts scores a form sent without the proof of work
	// (ReasonNoBrowserCheck). Whatever its points, such an entry is
	// reviewed, never accepted (AssessApply).
	NoBrowserCheckPts int
}

// DefaultRules are the rules used when an event sets none.
// The form's script always sends signals (the proof of work needs
// JavaScript anyway), so a client that sends none is a script: review.
// A geographic mismatch or a hosting network alone stays below review
// (travellers, roaming phones and office VPNs are people); both together
// are a proxy replaying a phone's signals. The cluster sweep adds the
// shape: one fingerprint seen through many mismatched networks.
var DefaultRules = Rules{Version: "apply-v3", ReviewAt: 50, RejectAt: 100, MinFillMS: 2500,
	HoneypotPoints: 70, WebdriverPoints: 60, FastFillPoints: 40, NoSignalsPoints: 50, DisposablePts: 60,
	NoUserAgentPts: 30, MismatchPts: 15, ScriptUAPoints: 50, GeoMismatchPts: 30, HostingPts: 25, NoBrowserCheckPts: 50}

// Scorer scores applications under a rule set.
type Scorer struct{ Rules Rules }

// AssessApply scores one application. A human filling the form in a browser
// scores 0; each automation tell adds points.
func (s Scorer) AssessApply(in ApplyInput) Assessment {
	r := s.Rules
	a := Assessment{RulesVersion: r.Version, Reasons: []Reason{}}
	add := a.add
	if in.Honeypot != "" {
		add("honeypot_filled", r.HoneypotPoints, "the hidden website field was filled")
	}
	if in.UserAgent == "" {
		add("no_user_agent", r.NoUserAgentPts, "the request had no User-Agent")
	}
	if in.DisposableMail {
		add("disposable_email", r.DisposablePts, "the e-mail domain is a disposable-mail provider")
	}
	if in.NoBrowserCheck {
		// The script that solves the proof also sends the signals, so
		// their absence is the same tell: counted once, as this.
		add(ReasonNoBrowserCheck, r.NoBrowserCheckPts, "the form was sent without the browser check (JavaScript off)")
	}
	if !in.HasSignals && !in.NoBrowserCheck {
		add("no_signals", r.NoSignalsPoints, "the client sent no device signals")
	} else if in.HasSignals {
		if in.Signals.Webdriver != nil && *in.Signals.Webdriver {
			add("webdriver", r.WebdriverPoints, "navigator.webdriver was true")
		}
		if in.Signals.FillMS != nil && *in.Signals.FillMS < r.MinFillMS {
			add("fast_fill", r.FastFillPoints, fmt.Sprintf("form filled in %d ms (< %d ms)", *in.Signals.FillMS, r.MinFillMS))
		}
	}
	if in.HasSignals && len(in.Signals.Languages) > 0 && in.AcceptLanguage != "" &&
		!strings.Contains(strings.ToLower(in.AcceptLanguage), primaryTag(in.Signals.Languages[0])) {
		add("language_mismatch", r.MismatchPts, fmt.Sprintf("navigator.languages starts with %q, Accept-Language is %q",
			in.Signals.Languages[0], in.AcceptLanguage))
	}
	if hint := strings.Trim(in.UAPlatform, `"`); hint != "" && in.HasSignals && in.Signals.Platform != "" &&
		!platformMatches(hint, in.Signals.Platform) {
		add("platform_mismatch", r.MismatchPts, fmt.Sprintf("client hint says %q, navigator.platform says %q",
			hint, in.Signals.Platform))
	}
	if lib := scriptingAgent(in.UserAgent); lib != "" {
		add("scripting_user_agent", r.ScriptUAPoints, "the User-Agent is the HTTP library "+lib)
	}
	if strings.Contains(strings.ToLower(in.UserAgent), "headless") {
		add("headless_user_agent", r.WebdriverPoints, "the User-Agent names a headless browser")
	}
	if in.HasSignals {
		if c := GeoMismatch(in.Signals.TimeZone, in.Network); c != "" {
			add(ReasonGeoMismatch, r.GeoMismatchPts, fmt.Sprintf("the device's time zone %s is in %s, its network in %s",
				in.Signals.TimeZone, c, in.Network.Country))
		}
	}
	a.addNetwork(r, in.Network)
	a.decide(r)
	if in.NoBrowserCheck && a.Decision == Accept {
		a.Decision = Review // skipping the proof never buys an unreviewed entry, whatever an event's rules say
	}
	return a
}

// ReasonNoBrowserCheck is the reason code of an application sent without
// the proof of work: the web form with JavaScript off. Such an entry is
// taken but always reviewed.
const ReasonNoBrowserCheck = "no_browser_check"

// ReasonGeoMismatch is the reason code of a time zone contradicting the
// network's country; the cluster sweep looks for it.
const ReasonGeoMismatch = "geo_mismatch"

// GeoMismatch returns the time zone's country when it contradicts the
// network's, else "". Relays (iCloud Private Relay, WARP) and unknown
// zones or networks never contradict anything.
func GeoMismatch(timeZone string, n ipintel.Network) string {
	c := ipintel.ZoneCountry(timeZone)
	if c == "" || n.Country == "" || n.Kind == ipintel.Relay || c == n.Country {
		return ""
	}
	return c
}

// addAgent scores a missing user agent or an HTTP library's.
func (a *Assessment) addAgent(r Rules, ua string) {
	if ua == "" {
		a.add("no_user_agent", r.NoUserAgentPts, "the request had no User-Agent")
	}
	if lib := scriptingAgent(ua); lib != "" {
		a.add("scripting_user_agent", r.ScriptUAPoints, "the User-Agent is the HTTP library "+lib)
	}
}

// addNetwork scores a hosting network: a data centre, cloud or VPN exit.
func (a *Assessment) addNetwork(r Rules, n ipintel.Network) {
	if n.Kind == ipintel.Hosting {
		a.add("hosting_network", r.HostingPts, "the request came from a hosting network ("+n.String()+")")
	}
}

// add records a rule that fired.
func (a *Assessment) add(code string, pts int, detail string) {
	a.Score += pts
	a.Reasons = append(a.Reasons, Reason{Code: code, Points: pts, Detail: detail})
}

// decide sets the decision from the score under the rules' thresholds.
func (a *Assessment) decide(r Rules) {
	switch {
	case a.Score >= r.RejectAt:
		a.Decision = Reject
	case a.Score >= r.ReviewAt:
		a.Decision = Review
	default:
		a.Decision = Accept
	}
	a.Score = min(a.Score, 1000)
}

// primaryTag is the language of a BCP 47 tag, lower-cased ("ko" of "ko-KR").
func primaryTag(tag string) string {
	t, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	return t
}

// platformMatches compares a Sec-CH-UA-Platform value ("Windows", "macOS",
// "Android", "iOS", "Linux", "Chrome OS") with navigator.platform
// ("Win32", "MacIntel", "Linux armv8l", "iPhone"...).
func platformMatches(hint, platform string) bool {
	h, p := strings.ToLower(hint), strings.ToLower(platform)
	switch {
	case strings.HasPrefix(h, "windows"):
		return strings.HasPrefix(p, "win")
	case h == "macos":
		return strings.HasPrefix(p, "mac")
	case h == "android", h == "linux", h == "chrome os", h == "chromeos":
		return strings.Contains(p, "linux") || strings.Contains(p, "android") || strings.Contains(p, "cros")
	case h == "ios":
		return strings.HasPrefix(p, "iphone") || strings.HasPrefix(p, "ipad") || strings.HasPrefix(p, "ipod")
	}
	return true // a platform we do not know: no opinion
}

// scriptingAgents are HTTP libraries and tools, not browsers.
var scriptingAgents = []string{"curl/", "wget/", "python-requests", "python-urllib", "aiohttp", "httpx", "go-http-client",
	"okhttp", "java/", "apache-httpclient", "node-fetch", "axios/", "libwww-perl", "ruby", "postmanruntime", "scrapy"}

func scriptingAgent(ua string) string {
	l := strings.ToLower(ua)
	for _, a := range scriptingAgents {
		if strings.Contains(l, a) {
			return strings.TrimSuffix(a, "/")
		}
	}
	return ""
}

// OTPInput is what the scorer sees of a request for an e-mail code.
type OTPInput struct {
	UserAgent      string
	DisposableMail bool
	Network        ipintel.Network
}

// AssessOTP scores a code request. Only a reject stops it (the code is not
// mailed; the answer is the same 202, so nothing is revealed): a browser
// never reaches reject on these signals alone.
func (s Scorer) AssessOTP(in OTPInput) Assessment {
	r := s.Rules
	a := Assessment{RulesVersion: r.Version + "/otp", Reasons: []Reason{}}
	add := a.add
	a.addAgent(r, in.UserAgent)
	if in.DisposableMail {
		add("disposable_email", r.DisposablePts, "the e-mail domain is a disposable-mail provider")
	}
	a.addNetwork(r, in.Network)
	a.decide(r)
	return a
}

// QueueJoinInput is what the scorer sees of a waiting-room join. A join
// carries no form signals (it happens before the form), so it is scored on
// the request and the e-mail address; the apply that follows is scored in
// full, and a flagged join sends that entry to review.
type QueueJoinInput struct {
	UserAgent      string
	AcceptLanguage string
	DeviceCookie   bool // the client kept the signed sl_device cookie from its challenge
	DisposableMail bool
	Network        ipintel.Network
}

// AssessQueueJoin scores a join. Review keeps the ticket in line but marks
// it, reject refuses it a place: a browser that fetched its challenge
// reaches neither on these signals alone.
func (s Scorer) AssessQueueJoin(in QueueJoinInput) Assessment {
	r := s.Rules
	a := Assessment{RulesVersion: r.Version + "/queue", Reasons: []Reason{}}
	add := a.add
	a.addAgent(r, in.UserAgent)
	if strings.Contains(strings.ToLower(in.UserAgent), "headless") {
		add("headless_user_agent", r.WebdriverPoints, "the User-Agent names a headless browser")
	}
	if in.AcceptLanguage == "" {
		add("no_accept_language", r.MismatchPts, "the request had no Accept-Language (every browser sends one)")
	}
	if !in.DeviceCookie {
		add("no_device_cookie", r.MismatchPts, "the client did not keep the device cookie set with its challenge")
	}
	if in.DisposableMail {
		add("disposable_email", r.DisposablePts, "the e-mail domain is a disposable-mail provider")
	}
	a.addNetwork(r, in.Network)
	a.decide(r)
	return a
}
