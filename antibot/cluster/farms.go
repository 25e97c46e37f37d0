package cluster

// Farm links (issue 15): a farm that buys real mailboxes, phone numbers and
// addresses and copies a real browser looks like a crowd of real runners
// entry by entry. What it cannot vary cheaply is what its entries share: a
// card, a block of phone numbers, one building, one browser setup arriving
// in one sitting, a few custom mail domains. The functions here find those
// groups; each group becomes a link of its own kind, so the cluster graph
// joins the farm's entries, and FarmBump scores the cluster's shape.
//
// Every function is pure and returns groups as sorted index lists into its
// input, sorted by their first index.

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The farm link kinds. Their values are group names made by the caller
// (GroupLinks); the rules that make the groups bound their size, so these
// kinds are never hot (see FarmOptions).
const (
	KindCard       LinkKind = "card"         // one card fingerprint (entry_cards)
	KindAddress    LinkKind = "address"      // one pickup/shipping address, unit included
	KindUnitSeries LinkKind = "address_unit" // one building, units differing (AddressUnits)
	KindEnvBurst   LinkKind = "env_burst"    // one browser setup arriving together (EnvironmentBursts)
	KindPhoneRun   LinkKind = "phone_run"    // phone numbers in sequence (PhoneRun)
	KindRareDomain LinkKind = "rare_domain"  // one uncommon mail domain, many times (RareDomainCrowd)
)

// FarmKinds lists the farm link kinds in the order reviewers see them.
var FarmKinds = []LinkKind{KindCard, KindPhoneRun, KindRareDomain, KindUnitSeries, KindEnvBurst, KindAddress}

// FarmOptions returns o with the farm kinds never hot: their groups are
// already what the rules allow, and a farm of 40 on one building must link.
func FarmOptions(o Options) Options {
	per := make(map[LinkKind]int, len(o.PerKind)+len(FarmKinds))
	for k, v := range o.PerKind {
		per[k] = v
	}
	for _, k := range FarmKinds {
		if _, set := per[k]; !set {
			per[k] = -1
		}
	}
	o.PerKind = per
	return o
}

// Thresholds of the group rules. Each is set from what legitimate crowds
// produce (cmd/botsim -offline measures it): random mobile numbers almost
// never make a run of five, a building rarely holds four runners in
// different units of one event, five identical setups within minutes beyond
// what the setup's share of the event predicts is not a rush.
const (
	MinPhoneRun     = 5 // distinct numbers in one run
	PhoneRunGap     = 4 // largest step between neighbours of a run
	MinUnits        = 4 // distinct units of one building
	MinBurst        = 5 // identical setups in one window, beyond expectation
	BurstWindow     = 10 * time.Minute
	MinDomainCrowd  = 5 // entries on one uncommon domain
	HouseholdCard   = 4 // a household shares a card among at most this many
	HouseholdPeople = 5 // ... and an address among at most this many
)

// PhoneRun finds runs of phone numbers in sequence: numbers of the same
// length whose neighbours, in numeric order, differ by at most maxGap, at
// least minRun distinct numbers long (a bought block: 010-1234-5601, 5603,
// 5604...). Equal numbers are one step of the run, so a parent's number
// typed again for a child never makes a run. Numbers are compared on their
// digits only; one with fewer than 7 digits is ignored.
func PhoneRun(numbers []string, minRun, maxGap int) [][]int {
	type num struct {
		len int
		v   uint64
		i   int
	}
	ns := make([]num, 0, len(numbers))
	for i, s := range numbers {
		d := digits(s)
		if len(d) < 7 || len(d) > 19 {
			continue
		}
		v, err := strconv.ParseUint(d, 10, 64)
		if err != nil {
			continue
		}
		ns = append(ns, num{len(d), v, i})
	}
	slices.SortFunc(ns, func(a, b num) int {
		if a.len != b.len {
			return a.len - b.len
		}
		if a.v != b.v {
			if a.v < b.v {
				return -1
			}
			return 1
		}
		return a.i - b.i
	})
	var out [][]int
	flush := func(run []num) {
		distinct := 0
		for j := range run {
			if j == 0 || run[j].v != run[j-1].v {
				distinct++
			}
		}
		if distinct >= max(minRun, 2) {
			g := make([]int, len(run))
			for j, n := range run {
				g[j] = n.i
			}
			out = append(out, g)
		}
	}
	start := 0
	for j := 1; j <= len(ns); j++ {
		if j < len(ns) && ns[j].len == ns[j-1].len && ns[j].v-ns[j-1].v <= uint64(maxGap) {
			continue
		}
		flush(ns[start:j])
		start = j
	}
	return sortGroups(out)
}

// digits keeps the ASCII digits of s.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// NormalizeAddress folds case, punctuation and spacing so two ways of typing
// one address compare equal ("Apt. 5, 12 Main St" and "apt 5 12 main st").
func NormalizeAddress(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '#' || r == '-':
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// unitMarkers precede a unit number in English addresses.
var unitMarkers = map[string]bool{"apt": true, "apartment": true, "unit": true, "suite": true, "ste": true,
	"room": true, "rm": true, "flat": true, "no": true}

// SplitUnit splits a normalized address into its building and its unit:
// "1203호" (Korean), "apt 5", "unit 12", "#305" and the like. An address
// without a unit marker is all building and no unit.
func SplitUnit(addr string) (building, unit string) {
	words := strings.Fields(addr)
	rest := make([]string, 0, len(words))
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case unit == "" && strings.HasSuffix(w, "호") && len(w) > len("호") && isUnitNumber(strings.TrimSuffix(w, "호")):
			unit = strings.TrimSuffix(w, "호")
			continue
		case unit == "" && strings.HasPrefix(w, "#") && len(w) > 1 && isUnitNumber(w[1:]):
			unit = w[1:]
			continue
		case unit == "" && unitMarkers[w] && i+1 < len(words) && isUnitNumber(strings.TrimPrefix(words[i+1], "#")):
			unit = strings.TrimPrefix(words[i+1], "#")
			i++
			continue
		case unit == "" && w == "호" && len(rest) > 0 && isUnitNumber(rest[len(rest)-1]):
			unit = rest[len(rest)-1]
			rest = rest[:len(rest)-1]
			continue
		}
		rest = append(rest, w)
	}
	return strings.Join(rest, " "), unit
}

// isUnitNumber: digits, optionally with a letter or dash ("12b", "3-1").
func isUnitNumber(s string) bool {
	hasDigit := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			hasDigit = true
		case r == '-' || (r >= 'a' && r <= 'z'):
		default:
			return false
		}
	}
	return hasDigit && len(s) <= 8
}

// AddressUnits groups addresses (already normalized) by building: same
// returns the groups of two or more entries at one full address (a
// household, or a farm's pickup point), units the buildings where at least
// minUnits distinct units appear (one building, the unit varied per entry).
// Empty addresses are ignored.
func AddressUnits(addrs []string, minUnits int) (same, units [][]int) {
	full := map[string][]int{}
	type bld struct {
		idx   []int
		units map[string]bool
	}
	blds := map[string]*bld{}
	for i, a := range addrs {
		if a == "" {
			continue
		}
		full[a] = append(full[a], i)
		b, u := SplitUnit(a)
		if u == "" || b == "" {
			continue
		}
		x := blds[b]
		if x == nil {
			x = &bld{units: map[string]bool{}}
			blds[b] = x
		}
		x.idx = append(x.idx, i)
		x.units[u] = true
	}
	for _, g := range full {
		if len(g) >= 2 {
			same = append(same, g)
		}
	}
	for _, x := range blds {
		if len(x.units) >= max(minUnits, 2) {
			units = append(units, x.idx)
		}
	}
	return sortGroups(same), sortGroups(units)
}

// Env is one entry's browser setup and when it arrived. Key is the setup
// (EnvKey); an empty Key is ignored.
type Env struct {
	Key string
	At  time.Time
}

// EnvKey joins the signals a copied browser repeats exactly: user agent,
// screen, time zone, language list and platform. A missing user agent or
// screen gives "" (nothing to compare).
func EnvKey(userAgent, screen, timeZone string, languages []string, platform string) string {
	if userAgent == "" || screen == "" {
		return ""
	}
	return strings.Join([]string{userAgent, screen, timeZone, strings.Join(languages, ","), platform}, "\x00")
}

// EnvironmentBursts finds setups arriving together: within some window of
// length window, at least minCount entries of one setup, improbably many
// (a Poisson tail below BurstP) for what the setup's share of the event
// predicts for all the arrivals in that window. The share is the larger of
// the setup's share outside the window (with a small prior) and its share
// of the whole event, so an opening rush of one popular phone, whose share
// in the rush is its share everywhere, is no burst. The bound is strict
// because every window of every setup is a test: with a 3σ bound, 10,000
// simulated runners made a dozen bursts of five or six. A farm arriving
// inside a rush of its own copied setup hides; the other rules are for
// that. Each group is the setup's entries in its most improbable window.
func EnvironmentBursts(envs []Env, window time.Duration, minCount int) [][]int {
	type arr struct {
		t int64
		i int
	}
	byKey := map[string][]arr{}
	all := make([]int64, 0, len(envs))
	for i, e := range envs {
		if e.Key == "" {
			continue
		}
		t := e.At.UnixNano()
		byKey[e.Key] = append(byKey[e.Key], arr{t, i})
		all = append(all, t)
	}
	slices.Sort(all)
	total := float64(len(all))
	w := window.Nanoseconds()
	var out [][]int
	for _, as := range byKey {
		if len(as) < max(minCount, 2) {
			continue
		}
		slices.SortFunc(as, func(a, b arr) int {
			if a.t != b.t {
				if a.t < b.t {
					return -1
				}
				return 1
			}
			return a.i - b.i
		})
		kTotal := float64(len(as))
		bestP, bestLo, bestHi := BurstP, -1, -1
		hi := 0
		for lo := range as {
			for hi < len(as) && as[hi].t-as[lo].t <= w {
				hi++
			}
			k := hi - lo
			if k < minCount {
				continue
			}
			n := float64(countIn(all, as[lo].t, as[lo].t+w))
			pOut := (kTotal - float64(k) + priorMismatched) / (total - n + priorEntries)
			if pv := PoissonTail(k, n*max(pOut, kTotal/total)); pv < bestP {
				bestP, bestLo, bestHi = pv, lo, hi
			}
		}
		if bestLo < 0 {
			continue
		}
		g := make([]int, 0, bestHi-bestLo)
		for _, a := range as[bestLo:bestHi] {
			g = append(g, a.i)
		}
		slices.Sort(g)
		out = append(out, g)
	}
	return sortGroups(out)
}

// BurstP is the chance below which a setup's arrivals in one window are a
// burst rather than luck.
const BurstP = 1e-7

// PoissonTail is P(X ≥ k) for X ~ Poisson(lambda), summed upward from k so
// tiny tails keep their precision.
func PoissonTail(k int, lambda float64) float64 {
	if k <= 0 {
		return 1
	}
	if lambda <= 0 {
		return 0
	}
	lg, _ := math.Lgamma(float64(k) + 1)
	term := math.Exp(-lambda + float64(k)*math.Log(lambda) - lg)
	sum := term
	for j := k + 1; j < k+10000; j++ {
		term *= lambda / float64(j)
		sum += term
		if term < sum*1e-12 {
			break
		}
	}
	return min(sum, 1)
}

// countIn counts the sorted times in [lo, hi].
func countIn(sorted []int64, lo, hi int64) int {
	a := sort.Search(len(sorted), func(i int) bool { return sorted[i] >= lo })
	b := sort.Search(len(sorted), func(i int) bool { return sorted[i] > hi })
	return b - a
}

// CommonMailDomains are providers so many people use that a crowd on one
// means nothing. Every other domain (a company's, a university's, a farm's
// own) is uncommon.
var CommonMailDomains = map[string]bool{
	"gmail.com": true, "naver.com": true, "daum.net": true, "hanmail.net": true, "kakao.com": true, "nate.com": true,
	"outlook.com": true, "hotmail.com": true, "live.com": true, "msn.com": true, "yahoo.com": true, "yahoo.co.kr": true,
	"icloud.com": true, "me.com": true, "mac.com": true, "proton.me": true, "protonmail.com": true, "aol.com": true,
	"gmx.com": true, "gmx.de": true, "web.de": true, "mail.com": true, "zoho.com": true, "hanmir.com": true,
	"korea.com": true, "empal.com": true, "dreamwiz.com": true, "lycos.co.kr": true,
}

// MailDomain is the lower-cased domain of an address or e-mail key.
func MailDomain(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(addr[at+1:]))
}

// RareDomainCrowd groups the entries of each uncommon domain seen at least
// min times. A university or company domain makes such a crowd too, so the
// crowd alone never flags (FarmBump wants another kind with it).
func RareDomainCrowd(domains []string, common map[string]bool, min int) [][]int {
	by := map[string][]int{}
	for i, d := range domains {
		if d == "" || common[d] || Reserved(d) {
			continue
		}
		by[d] = append(by[d], i)
	}
	var out [][]int
	for _, g := range by {
		if len(g) >= max(min, 2) {
			out = append(out, g)
		}
	}
	return sortGroups(out)
}

// Reserved says whether a mail domain is reserved for documentation and
// testing (RFC 2606, RFC 6761): it receives no mail, so no runner and no
// farm can confirm an entry with it, and the demo data and test fixtures
// that use it are no crowd.
func Reserved(domain string) bool {
	switch domain {
	case "example.com", "example.net", "example.org":
		return true
	}
	for _, tld := range []string{".test", ".example", ".invalid", ".localhost"} {
		if strings.HasSuffix(domain, tld) || domain == tld[1:] {
			return true
		}
	}
	return strings.HasSuffix(domain, ".example.com") || strings.HasSuffix(domain, ".example.org") ||
		strings.HasSuffix(domain, ".example.net")
}

// GroupLinks turns groups of indexes into one link per member, of kind k,
// valued by the group's first index, so each group links its members.
// links[i] gets the link of every group holding i.
func GroupLinks(links [][]Link, k LinkKind, groups [][]int) {
	for _, g := range groups {
		v := string(k) + ":" + strconv.Itoa(g[0])
		for _, i := range g {
			links[i] = append(links[i], Link{Kind: k, Value: v})
		}
	}
}

// sortGroups sorts each group and the groups by their first index.
func sortGroups(gs [][]int) [][]int {
	for _, g := range gs {
		slices.Sort(g)
	}
	slices.SortFunc(gs, func(a, b []int) int { return a[0] - b[0] })
	return gs
}

// FarmShape is what FarmBump reads of a cluster: its size and, per farm
// kind, the largest group of that kind inside it (0: none).
type FarmShape struct {
	Size    int
	Largest map[LinkKind]int
}

// FarmRules are FarmBump's thresholds. CardMax is the most entries one card
// may carry before the card alone is a farm: the larger of the event's
// entries per card and a household's (HouseholdCard), so a family paying
// for three never flags.
type FarmRules struct {
	CardMax    int
	AddressMax int // entries at one full address before it counts (a household is fewer)
	MinSize    int // smallest cluster the combination rule applies to
	Points     int // a rule's bump; each further kind adds ExtraPoints
	Extra      int
}

// DefaultFarmRules: a card on more than a household's entries, or a
// cluster of five or more held by two kinds of farm link of which one is a
// phone run or a setup burst, earns 50 points (the review threshold).
var DefaultFarmRules = FarmRules{CardMax: HouseholdCard, AddressMax: HouseholdPeople, MinSize: 5, Points: 50, Extra: 10}

// FarmBump is the score a cluster's shape adds to each of its members, and
// the kinds that earned it (in FarmKinds order; empty when none did).
//
// The rules, by shape:
//   - card crowd: one card carries more than CardMax entries. Money is what
//     a farm cannot multiply cheaply; a household shares a card among a
//     few, never a dozen.
//   - farm combination: the cluster has at least MinSize entries and at
//     least two farm kinds present, one of them a phone run or a setup
//     burst. Uncommon domains (a campus, a company), one building with
//     many units (a dormitory) and shared addresses and cards (households)
//     are what communities have; a block of numbers or one setup arriving
//     in one sitting is not, and neither alone is enough.
//
// Each kind beyond the second adds Extra points.
func FarmBump(s FarmShape, r FarmRules) (points int, kinds []LinkKind) {
	present := func(k LinkKind) bool {
		n := s.Largest[k]
		switch k {
		case KindCard:
			return n > r.CardMax
		case KindAddress:
			return n > r.AddressMax
		}
		return n >= 2
	}
	for _, k := range FarmKinds {
		if present(k) {
			kinds = append(kinds, k)
		}
	}
	strong := present(KindPhoneRun) || present(KindEnvBurst)
	switch {
	case present(KindCard):
		points = r.Points
	case s.Size >= r.MinSize && len(kinds) >= 2 && strong:
		points = r.Points
	default:
		return 0, nil
	}
	if len(kinds) > 2 {
		points += (len(kinds) - 2) * r.Extra
	}
	return points, kinds
}
