package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

// Identity is what one application says about a person.
type Identity struct {
	Name      string `json:"name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	BirthDate string `json:"birth_date"`
	Course    string `json:"course"`
	PaceGroup string `json:"pace_group"`
}

// Device is one browser profile: what its requests and its form script
// report. Two applications with the same Device index share one cookie jar.
type Device struct {
	UserAgent   string
	Platform    string
	Screen      string
	Touch       bool
	Fingerprint string
	Languages   []string
	AcceptLang  string
	TimeZone    string
	Webdriver   bool
	// Hints are the client-hint headers Chromium browsers send with every
	// request (Sec-CH-UA, Sec-CH-UA-Mobile, Sec-CH-UA-Platform); Safari and
	// Firefox send none.
	Hints map[string]string
}

// chromiumHints returns the low-entropy client hints of a Chromium browser.
func chromiumHints(brands, platform string, mobile bool) map[string]string {
	m := "?0"
	if mobile {
		m = "?1"
	}
	return map[string]string{"Sec-CH-UA": brands, "Sec-CH-UA-Mobile": m, "Sec-CH-UA-Platform": `"` + platform + `"`}
}

// Person is one legitimate runner.
type Person struct {
	Identity
	FillMS    int    // how long they took over the form (reported, never slept)
	IP        string // client address sent as X-Forwarded-For
	Device    int    // index into Population.Devices
	Household int    // index into Population.Households
	IdemKey   string // Idempotency-Key their browser sends
	// SharesPhone marks a child entered with a parent's mobile number.
	SharesPhone bool
	// Abroad marks a runner applying from a network in another country.
	Abroad bool
}

// Population is the legitimate crowd. Households are the units run in
// order: everyone in one household shares its IP, and people sharing a device
// are always in the same household.
type Population struct {
	People     []Person
	Devices    []Device
	Households [][]int // person indexes; a person living alone is a household of one
	// SharedIPPeople and SharedDevicePeople count people behind a shared
	// address or on a shared device, for the report.
	SharedIPPeople     int
	SharedDevicePeople int
	// SharedPhonePeople counts children entered with a parent's number.
	SharedPhonePeople int
	// AbroadPeople counts runners applying from abroad.
	AbroadPeople int
}

// SubQueue is one course and pace group of the event.
type SubQueue struct {
	Key       string
	Course    string
	PaceGroup string
	Capacity  int
	// AdmitPerMinute is the waiting room's admission rate (ordered only).
	AdmitPerMinute int
}

// generator draws realistic, distinct identities. It remembers every name,
// mailbox, phone and address it has handed out so a whole run (legitimate
// crowd and attackers) never reuses one by accident.
type generator struct {
	r         *rand.Rand
	subqueues []SubQueue
	now       time.Time
	names     map[string]bool
	mailboxes map[string]bool // mailboxKey of each address
	phones    map[string]bool
	ips       map[string]bool
	uniqueFP  bool   // every device its own fingerprint (no identical hardware)
	fpSalt    string // makes this run's render classes its own
}

func newGenerator(r *rand.Rand, subqueues []SubQueue, now time.Time, uniqueFP bool) *generator {
	return &generator{r: r, subqueues: subqueues, now: now, names: map[string]bool{}, mailboxes: map[string]bool{},
		phones: map[string]bool{}, ips: map[string]bool{}, uniqueFP: uniqueFP, fpSalt: fmt.Sprint(r.Uint64())}
}

// withRand returns a generator that shares g's memory of used values but
// draws from r, so each scenario's identities depend only on its own stream.
func (g *generator) withRand(r *rand.Rand) *generator {
	c := *g
	c.r = r
	return &c
}

type romanized struct{ hangul, roman string }

// Korean surnames, roughly by frequency, with common romanizations.
var surnames = []struct {
	hangul string
	romans []string
	weight int
}{
	{"김", []string{"kim", "gim"}, 215}, {"이", []string{"lee", "yi", "rhee"}, 147}, {"박", []string{"park", "pak", "bak"}, 84},
	{"최", []string{"choi", "choe"}, 47}, {"정", []string{"jung", "jeong", "chung"}, 43}, {"강", []string{"kang", "gang"}, 24},
	{"조", []string{"cho", "jo"}, 21}, {"윤", []string{"yoon", "yun"}, 20}, {"장", []string{"jang", "chang"}, 19},
	{"임", []string{"lim", "im"}, 17}, {"한", []string{"han"}, 15}, {"오", []string{"oh", "o"}, 15}, {"서", []string{"seo", "suh"}, 14},
	{"신", []string{"shin", "sin"}, 14}, {"권", []string{"kwon", "gwon"}, 14}, {"황", []string{"hwang"}, 14},
	{"안", []string{"ahn", "an"}, 13}, {"송", []string{"song"}, 13}, {"류", []string{"ryu", "yoo"}, 12},
	{"전", []string{"jeon", "jun"}, 11}, {"홍", []string{"hong"}, 11}, {"고", []string{"ko", "go"}, 9}, {"문", []string{"moon", "mun"}, 9},
	{"양", []string{"yang"}, 8}, {"손", []string{"son", "sohn"}, 8}, {"배", []string{"bae"}, 8}, {"백", []string{"baek", "paik"}, 7},
	{"허", []string{"heo", "huh"}, 6}, {"남", []string{"nam"}, 5}, {"노", []string{"noh", "roh"}, 5},
}

var givenNames = []romanized{
	{"민준", "minjun"}, {"서준", "seojun"}, {"도윤", "doyun"}, {"예준", "yejun"}, {"시우", "siwoo"}, {"하준", "hajun"},
	{"주원", "juwon"}, {"지호", "jiho"}, {"지후", "jihu"}, {"준우", "junwoo"}, {"현우", "hyunwoo"}, {"준서", "junseo"},
	{"도현", "dohyun"}, {"건우", "gunwoo"}, {"우진", "woojin"}, {"선우", "sunwoo"}, {"서진", "seojin"}, {"민재", "minjae"},
	{"현준", "hyunjun"}, {"연우", "yeonwoo"}, {"정우", "jungwoo"}, {"승우", "seungwoo"}, {"승현", "seunghyun"},
	{"준혁", "junhyuk"}, {"은우", "eunwoo"}, {"지환", "jihwan"}, {"승민", "seungmin"}, {"성민", "sungmin"}, {"영호", "youngho"},
	{"상훈", "sanghoon"}, {"동현", "donghyun"}, {"재석", "jaeseok"}, {"영수", "youngsoo"}, {"광수", "kwangsoo"},
	{"정훈", "junghoon"}, {"성호", "sungho"}, {"대현", "daehyun"}, {"태민", "taemin"}, {"진혁", "jinhyuk"}, {"용준", "yongjun"},
	{"서연", "seoyeon"}, {"서윤", "seoyun"}, {"지우", "jiwoo"}, {"서현", "seohyun"}, {"민서", "minseo"}, {"하은", "haeun"},
	{"하윤", "hayoon"}, {"윤서", "yoonseo"}, {"지유", "jiyu"}, {"지민", "jimin"}, {"채원", "chaewon"}, {"수아", "sua"},
	{"지아", "jia"}, {"지윤", "jiyoon"}, {"은서", "eunseo"}, {"다은", "daeun"}, {"예은", "yeeun"}, {"수빈", "subin"},
	{"예린", "yerin"}, {"지원", "jiwon"}, {"수민", "sumin"}, {"미영", "miyoung"}, {"은정", "eunjung"}, {"혜진", "hyejin"},
	{"지영", "jiyoung"}, {"수진", "sujin"}, {"현정", "hyunjung"}, {"미경", "mikyung"}, {"정은", "jungeun"}, {"유진", "yujin"},
	{"민지", "minji"}, {"은지", "eunji"}, {"혜원", "hyewon"}, {"보라", "bora"}, {"나연", "nayeon"}, {"소연", "soyeon"},
	{"다현", "dahyun"}, {"가은", "gaeun"}, {"선영", "sunyoung"}, {"경희", "kyunghee"},
}

// Residents and visitors who write their name in Latin letters.
var (
	foreignFirst = []string{"Emily", "Daniel", "Sarah", "Michael", "Olivia", "James", "Hannah", "David", "Sophie", "Lucas",
		"Chloe", "Thomas", "Anna", "Ryan", "Grace", "Kevin", "Laura", "Mark", "Julia", "Ethan", "Linh", "Minh", "Wei", "Yuki"}
	foreignLast = []string{"Johnson", "Smith", "Brown", "Miller", "Wilson", "Taylor", "Anderson", "Martin", "Lee", "Walker",
		"Nguyen", "Tran", "Wang", "Chen", "Tanaka", "Sato", "Garcia", "Müller", "Dubois", "O'Brien"}
)

// Mail providers runners in Korea use, by rough share.
var legitDomains = []struct {
	domain string
	weight int
}{
	{"gmail.com", 34}, {"naver.com", 30}, {"daum.net", 5}, {"hanmail.net", 4}, {"kakao.com", 3},
	{"outlook.com", 4}, {"hotmail.com", 2}, {"icloud.com", 4}, {"nate.com", 2}, {"company", 12},
}

// Employers' domains for runners who use their work address.
var companyDomains = []string{"samsung.com", "lgensol.com", "sk.com", "hyundai.com", "kakaocorp.com", "navercorp.com",
	"coupang.com", "kt.com", "posco.com", "cj.net", "snu.ac.kr", "korea.ac.kr", "yonsei.ac.kr", "lotte.net"}

// dotlessDomains are providers whose user names cannot contain dots.
var dotlessDomains = map[string]bool{"naver.com": true, "daum.net": true, "hanmail.net": true, "kakao.com": true, "nate.com": true}

// mailboxKey folds an address to the mailbox it reaches, conservatively
// (lowercase, googlemail → gmail, Gmail dots, +tags dropped everywhere), so
// the generator never hands two people the same inbox.
func mailboxKey(addr string) string {
	addr = strings.ToLower(strings.TrimSpace(addr))
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return addr
	}
	if domain == "googlemail.com" {
		domain = "gmail.com"
	}
	local, _, _ = strings.Cut(local, "+")
	if domain == "gmail.com" {
		local = strings.ReplaceAll(local, ".", "")
	}
	return local + "@" + domain
}

func (g *generator) pick(n int) int { return g.r.IntN(n) }

func (g *generator) chance(p float64) bool { return g.r.Float64() < p }

// person draws a fresh identity. surname forces a Korean surname (children
// of a household); ageMin/ageMax bound the age.
func (g *generator) person(surname string, ageMin, ageMax int, domainOverride string) Identity {
	var id Identity
	var sur, given string // romanized, for the mail address
	birth := g.birthDate(ageMin, ageMax)
	for try := 0; ; try++ {
		if surname == "" && g.chance(0.07) {
			f, l := foreignFirst[g.pick(len(foreignFirst))], foreignLast[g.pick(len(foreignLast))]
			id.Name = f + " " + l
			given, sur = strings.ToLower(f), strings.ToLower(asciiOnly(l))
		} else {
			s := g.surname(surname)
			gn := givenNames[g.pick(len(givenNames))]
			id.Name = s.hangul + gn.hangul
			if g.chance(0.04) { // some write it with a space
				id.Name = s.hangul + " " + gn.hangul
			}
			sur, given = s.romans[g.pick(len(s.romans))], gn.roman
		}
		// Names stay unique while the name space lasts (about 2,500 Korean
		// names); after that, real populations repeat names too.
		if !g.names[id.Name] || try >= 40 {
			break
		}
	}
	g.names[id.Name] = true
	id.BirthDate = birth.Format(time.DateOnly)
	id.Email = g.email(given, sur, birth, domainOverride)
	id.Phone = g.phone()
	sq := g.subqueue()
	id.Course, id.PaceGroup = sq.Course, sq.PaceGroup
	return id
}

func asciiOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		case r == 'ü':
			b.WriteString("ue")
		}
	}
	return b.String()
}

func (g *generator) surname(forced string) struct {
	hangul string
	romans []string
	weight int
} {
	if forced != "" {
		for _, s := range surnames {
			if s.hangul == forced {
				return s
			}
		}
	}
	total := 0
	for _, s := range surnames {
		total += s.weight
	}
	n := g.pick(total)
	for _, s := range surnames {
		if n < s.weight {
			return s
		}
		n -= s.weight
	}
	return surnames[0]
}

// birthDate draws a date for an age in [ageMin, ageMax], peaking in the
// thirties and forties like real race fields.
func (g *generator) birthDate(ageMin, ageMax int) time.Time {
	span := float64(ageMax - ageMin)
	// Sum of two uniforms: triangular, centred in the range.
	age := float64(ageMin) + span*(g.r.Float64()+g.r.Float64())/2
	days := int(age * 365.25)
	d := g.now.AddDate(0, 0, -days)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

// email builds an address as real people choose them, unique per mailbox.
func (g *generator) email(given, sur string, birth time.Time, domain string) string {
	if domain == "" {
		domain = g.domain()
	}
	dotless := dotlessDomains[domain]
	sep := "."
	if dotless {
		sep = "_"
	}
	yy := fmt.Sprintf("%02d", birth.Year()%100)
	var local string
	switch g.pick(8) {
	case 0:
		local = given + sep + sur
	case 1:
		local = sur + given + yy
	case 2:
		local = given + sur + fmt.Sprint(g.pick(1000))
	case 3:
		local = given + fmt.Sprintf("%02d%02d", birth.Month(), birth.Day())
	case 4:
		local = sur + sep + given + fmt.Sprint(birth.Year())
	case 5:
		local = given + "run" + yy
	case 6:
		local = string(given[0]) + sur + fmt.Sprint(g.pick(100))
	default:
		local = given + sep + sur + yy
	}
	if strings.HasSuffix(domain, ".ac.kr") || g.isCompany(domain) {
		local = given + sep + sur
		if dotless {
			local = given + sur
		}
	}
	addr := local + "@" + domain
	for try := 0; g.mailboxes[mailboxKey(addr)]; try++ {
		addr = fmt.Sprintf("%s%d@%s", local, g.pick(10_000)+try, domain)
	}
	g.mailboxes[mailboxKey(addr)] = true
	switch {
	case domain == "gmail.com" && g.chance(0.01): // a runner who tags their sign-ups
		addr = strings.Replace(addr, "@", "+race@", 1)
	case g.chance(0.03): // a phone keyboard capitalised the first letter
		addr = strings.ToUpper(addr[:1]) + addr[1:]
	}
	return addr
}

func (g *generator) isCompany(domain string) bool {
	for _, d := range companyDomains {
		if d == domain {
			return true
		}
	}
	return false
}

func (g *generator) domain() string {
	total := 0
	for _, d := range legitDomains {
		total += d.weight
	}
	n := g.pick(total)
	for _, d := range legitDomains {
		if n < d.weight {
			if d.domain == "company" {
				return companyDomains[g.pick(len(companyDomains))]
			}
			return d.domain
		}
		n -= d.weight
	}
	return "gmail.com"
}

// phone draws a unique Korean mobile number written the way people type it.
func (g *generator) phone() string {
	for {
		a, b := 2000+g.pick(8000), g.pick(10000)
		key := fmt.Sprintf("%04d%04d", a, b)
		if g.phones[key] || (a >= 5970 && a <= 5999) { // 010-597x..599x are unassigned (libphonenumber)
			continue
		}
		g.phones[key] = true
		switch n := g.pick(20); {
		case n < 10:
			return fmt.Sprintf("010-%04d-%04d", a, b)
		case n < 16:
			return fmt.Sprintf("010%04d%04d", a, b)
		case n < 19:
			return fmt.Sprintf("+82 10-%04d-%04d", a, b)
		default:
			return fmt.Sprintf("+8210%04d%04d", a, b)
		}
	}
}

// subqueue picks a sub-queue weighted by capacity, as demand roughly follows it.
func (g *generator) subqueue() SubQueue {
	total := 0
	for _, s := range g.subqueues {
		total += max(s.Capacity, 1)
	}
	n := g.pick(max(total, 1))
	for _, s := range g.subqueues {
		if n < max(s.Capacity, 1) {
			return s
		}
		n -= max(s.Capacity, 1)
	}
	return g.subqueues[0]
}

// shortestCourse is the slowest pace group of the shortest course (the
// "open" 5K a family runs), by the course code's number when it has one.
func (g *generator) shortestCourse() (SubQueue, bool) {
	best, bestKM := SubQueue{}, 1e9
	for _, s := range g.subqueues {
		var km float64
		if _, err := fmt.Sscanf(s.Course, "%fk", &km); err != nil {
			continue
		}
		if km < bestKM || (km == bestKM && s.Capacity > best.Capacity) {
			best, bestKM = s, km
		}
	}
	return best, bestKM < 1e9
}

// Address blocks of Korean ISPs and mobile carriers (for runners) and of
// hosting and proxy networks (for attackers); drawn addresses are unique.
var (
	koreanPrefixes = []string{"1.224.0.0/11", "14.32.0.0/11", "27.160.0.0/12", "39.112.0.0/12", "49.160.0.0/12",
		"58.120.0.0/13", "59.0.0.0/11", "61.72.0.0/13", "106.240.0.0/12", "110.8.0.0/13", "112.144.0.0/12",
		"115.136.0.0/13", "118.32.0.0/11", "121.128.0.0/10", "175.192.0.0/10", "180.64.0.0/13", "211.36.128.0/17",
		"218.144.0.0/12", "220.64.0.0/11", "223.32.0.0/11"}
	korean6Prefix = netip.MustParsePrefix("2001:2d8::/32") // a Korean mobile carrier's IPv6 block
	proxyPrefixes = []string{"45.8.0.0/14", "91.92.0.0/14", "103.152.0.0/14", "146.70.0.0/16", "154.16.0.0/12",
		"185.220.0.0/14", "193.32.0.0/14", "194.5.0.0/16", "212.102.32.0/19"}
	cloudPrefixes = []string{"3.34.0.0/15", "13.124.0.0/14", "43.200.0.0/13", "52.78.0.0/15"} // a cloud region's VMs
)

// ip draws an unused IPv4 address from one of the prefixes.
func (g *generator) ip(prefixes []string) string {
	for {
		p := netip.MustParsePrefix(prefixes[g.pick(len(prefixes))])
		b := p.Addr().As4()
		host := uint32(g.r.Uint64()) & (1<<(32-p.Bits()) - 1)
		v := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) | host
		if v&0xff == 0 || v&0xff == 255 {
			continue
		}
		a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
		if !g.ips[a] {
			g.ips[a] = true
			return a
		}
	}
}

// ip6 draws an address in an unused /64 (the server rate-limits IPv6 by /64).
func (g *generator) ip6() string {
	for {
		b := korean6Prefix.Addr().As16()
		for i := 4; i < 16; i++ {
			b[i] = byte(g.r.Uint32())
		}
		a := netip.AddrFrom16(b)
		p, _ := a.Prefix(64)
		if !g.ips[p.String()] {
			g.ips[p.String()] = true
			return a.String()
		}
	}
}

// legitIP is a runner's address: mostly IPv4, one in ten on mobile IPv6.
func (g *generator) legitIP() string {
	if g.chance(0.10) {
		return g.ip6()
	}
	return g.ip(koreanPrefixes)
}

// deviceProfile is a browser family as runners in Korea use it. Its
// variants are the user-agent strings it comes in.
type deviceProfile struct {
	variants []uaVariant
	platform string // navigator.platform
	screens  []string
	touch    bool
	weight   int    // share of runners
	ios      bool   // Mobile Safari
	brands   string // Sec-CH-UA of Chromium browsers; empty for Safari
	chOS     string // Sec-CH-UA-Platform
}

// uaVariant is one user agent and how many distinct renderings of the form's
// fingerprint (canvas text + WebGL renderer, web/static/signals.js) devices
// sending it show. Identical hardware and software render identically:
// every iPhone on one iOS version reports the same fingerprint (Safari
// masks the GPU as "Apple GPU"), one Galaxy model with one browser version
// likewise, while Chrome's reduced user agent hides many phone models.
type uaVariant struct {
	ua      string
	weight  int
	classes int
}

const (
	brandsChrome  = `"Not/A)Brand";v="8", "Chromium";v="126", "Google Chrome";v="126"`
	brandsSamsung = `"Chromium";v="121", "Not A(Brand";v="99", "Samsung Internet";v="25.0"`
	brandsEdge    = `"Not/A)Brand";v="8", "Chromium";v="126", "Microsoft Edge";v="126"`
	brandsWhale   = `"Chromium";v="124", "Whale";v="3", "Not-A.Brand";v="99"`

	windowsChromeUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)

func iosVariant(version string, weight int) uaVariant {
	return uaVariant{ua: "Mozilla/5.0 (iPhone; CPU iPhone OS " + strings.ReplaceAll(version, ".", "_") +
		" like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/" + version + " Mobile/15E148 Safari/604.1",
		weight: weight, classes: 1}
}

func samsungVariant(model string, weight int) uaVariant {
	return uaVariant{ua: "Mozilla/5.0 (Linux; Android 14; " + model +
		") AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
		weight: weight, classes: 1}
}

// Browsers runners in Korea apply with, by rough share; iOS versions and
// Galaxy models have the long tail real fields have.
var deviceProfiles = []deviceProfile{
	{variants: []uaVariant{iosVariant("18.1", 30), iosVariant("17.5", 22), iosVariant("18.0", 12), iosVariant("17.6", 10),
		iosVariant("17.4", 6), iosVariant("16.7", 6), iosVariant("17.3", 3), iosVariant("16.6", 3), iosVariant("15.8", 2),
		iosVariant("17.2", 2), iosVariant("16.5", 2), iosVariant("18.2", 2)},
		platform: "iPhone", screens: []string{"1170x2532", "1179x2556", "1290x2796", "828x1792", "1206x2622"}, touch: true,
		weight: 32, ios: true},
	{variants: []uaVariant{samsungVariant("SM-S921N", 4), samsungVariant("SM-S911N", 4), samsungVariant("SM-S901N", 3),
		samsungVariant("SM-S918N", 3), samsungVariant("SM-A536N", 3), samsungVariant("SM-F731N", 2),
		samsungVariant("SM-G991N", 2), samsungVariant("SM-A346N", 2)},
		platform: "Linux armv81", screens: []string{"1080x2340", "1440x3120"}, touch: true, weight: 16, brands: brandsSamsung, chOS: "Android"},
	{variants: []uaVariant{{ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
		weight: 1, classes: 25}},
		platform: "Linux armv81", screens: []string{"1080x2400", "1080x2340", "1440x3088"}, touch: true, weight: 14, brands: brandsChrome, chOS: "Android"},
	{variants: []uaVariant{{ua: "Mozilla/5.0 (Linux; Android 13; SM-A536N) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36 NAVER(inapp; search; 2000; 12.6.1)",
		weight: 1, classes: 1}},
		platform: "Linux armv8l", screens: []string{"1080x2400"}, touch: true, weight: 4, brands: brandsChrome, chOS: "Android"},
	{variants: []uaVariant{{ua: windowsChromeUA, weight: 1, classes: 40}},
		platform: "Win32", screens: []string{"1920x1080", "2560x1440", "1366x768"}, weight: 14, brands: brandsChrome, chOS: "Windows"},
	{variants: []uaVariant{{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Whale/3.26.244.21 Safari/537.36",
		weight: 1, classes: 20}},
		platform: "Win32", screens: []string{"1920x1080", "1536x864"}, weight: 6, brands: brandsWhale, chOS: "Windows"},
	{variants: []uaVariant{{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
		weight: 1, classes: 20}},
		platform: "Win32", screens: []string{"1920x1080"}, weight: 4, brands: brandsEdge, chOS: "Windows"},
	{variants: []uaVariant{
		{ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", weight: 3, classes: 3},
		{ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", weight: 2, classes: 3}},
		platform: "MacIntel", screens: []string{"1512x982", "1440x900", "2560x1440"}, weight: 5},
	{variants: []uaVariant{{ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		weight: 1, classes: 6}},
		platform: "MacIntel", screens: []string{"1728x1117", "1512x982"}, weight: 5, brands: brandsChrome, chOS: "macOS"},
}

func fingerprint(parts ...string) string {
	s := sha256.Sum256([]byte(strings.Join(parts, "|")))
	return hex.EncodeToString(s[:16])
}

func (g *generator) pickWeighted(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := g.pick(max(total, 1))
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return 0
}

// humanDevice draws a runner's browser. With realistic fingerprints, the
// form's fingerprint is one of the user agent's render classes (Zipf: a few
// common configurations, a long tail), so identical phones collide as they
// do in the wild; otherwise every device gets its own.
func (g *generator) humanDevice() Device {
	pw := make([]int, len(deviceProfiles))
	for i, p := range deviceProfiles {
		pw[i] = p.weight
	}
	p := deviceProfiles[g.pickWeighted(pw)]
	vw := make([]int, len(p.variants))
	for i, v := range p.variants {
		vw[i] = v.weight
	}
	v := p.variants[g.pickWeighted(vw)]
	d := Device{UserAgent: v.ua, Platform: p.platform, Screen: p.screens[g.pick(len(p.screens))], Touch: p.touch,
		TimeZone: "Asia/Seoul", Languages: []string{"ko-KR", "ko", "en-US", "en"},
		AcceptLang: "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7"}
	if p.brands != "" {
		d.Hints = chromiumHints(p.brands, p.chOS, p.touch)
	}
	switch n := g.pick(10); {
	case n < 2:
		d.Languages, d.AcceptLang = []string{"ko-KR"}, "ko-KR"
	case n < 3:
		d.Languages, d.AcceptLang = []string{"ko", "en-US"}, "ko,en-US;q=0.9,en;q=0.8"
	}
	class := uint64(0)
	if v.classes > 1 {
		class = rand.NewZipf(g.r, 1.3, 1, uint64(v.classes-1)).Uint64()
	}
	if g.uniqueFP {
		d.Fingerprint = fingerprint("device", fmt.Sprint(g.r.Uint64()))
	} else {
		// Salted per run, so repeated runs against one event do not pile
		// every run's phones onto the same fingerprints.
		d.Fingerprint = fingerprint(g.fpSalt, v.ua, fmt.Sprint(class))
	}
	return d
}

// humanFillMS is how long a person spends on the form: 20 s to 3 min,
// most around 45–90 s.
func (g *generator) humanFillMS() int {
	// Log-uniform between 20 s and 180 s, nudged toward the middle.
	lo, hi := 20_000.0, 180_000.0
	x := (g.r.Float64() + g.r.Float64()) / 2
	return int(lo * math.Pow(hi/lo, x))
}

func (g *generator) idemKey() string {
	return fmt.Sprintf("%016x%016x", g.r.Uint64(), g.r.Uint64())
}

// Population shares of the legitimate crowd.
const (
	householdShare    = 0.15 // people behind a household IP shared with 1–4 others
	sharedDeviceShare = 0.05 // people applying on a device someone else also used
	childPhoneShare   = 0.01 // children (7–12) entered for the 5K with a parent's mobile number
	abroadShare       = 0.02 // runners abroad (travelling, working, studying) on a local home network
)

// abroadNetworks are home broadband blocks abroad, each with its local time
// zone (the test checks the server's tables agree on the country).
var abroadNetworks = []struct{ prefix, zone string }{
	{"73.0.0.0/8", "America/Los_Angeles"}, {"24.0.0.0/12", "America/New_York"}, {"86.192.0.0/11", "Europe/Paris"},
	{"79.192.0.0/10", "Europe/Berlin"}, {"220.96.0.0/14", "Asia/Tokyo"}, {"180.0.0.0/10", "Asia/Tokyo"},
}

// legitPopulation builds n runners: ~15% in households of 2–5 behind one IP,
// ~5% sharing a device with a household member (a parent registering a
// spouse), ~1% children entered for the shortest course with a parent's
// phone number (children that age rarely have their own), ~2% abroad on a
// home network there (half of their devices on local time, half still on
// Seoul time: a laptop set by hand, a tablet without a SIM), everyone else
// alone with their own address and browser at home.
func (g *generator) legitPopulation(n int) Population {
	var pop Population
	inHouseholds := int(float64(n)*householdShare + 0.5)
	wantSharedDevices := int(float64(n)*sharedDeviceShare + 0.5)
	wantChildPhones := int(float64(n)*childPhoneShare + 0.5)
	addPerson := func(id Identity, ip string, dev, hh int) int {
		pop.People = append(pop.People, Person{Identity: id, FillMS: g.humanFillMS(), IP: ip, Device: dev, Household: hh,
			IdemKey: g.idemKey()})
		return len(pop.People) - 1
	}
	newDevice := func() int {
		pop.Devices = append(pop.Devices, g.humanDevice())
		return len(pop.Devices) - 1
	}
	for placed := 0; placed < inHouseholds; {
		size := 2 + g.pick(4)
		if rest := inHouseholds - placed; size > rest {
			size = rest
		}
		if size < 2 { // a household of one is just a person living alone
			break
		}
		hh := len(pop.Households)
		ip := g.legitIP()
		var members []int
		first := g.person("", 28, 60, "")
		members = append(members, addPerson(first, ip, newDevice(), hh))
		for m := 1; m < size; m++ {
			var id Identity
			if m == 1 { // a partner: own surname, similar age
				id = g.person("", 28, 60, "")
			} else { // a child or young relative, family surname
				id = g.person(firstRune(first.Name), 13, 27, "")
			}
			child := m >= 2 && pop.SharedPhonePeople < wantChildPhones
			if child { // a young child: the parent's number, the shortest course
				id = g.person(firstRune(first.Name), 7, 12, "")
				id.Phone = strings.NewReplacer("-", "", " ", "").Replace(first.Phone) // typed again, differently
				if sq, ok := g.shortestCourse(); ok {
					id.Course, id.PaceGroup = sq.Course, sq.PaceGroup
				}
			}
			dev := -1
			if m == 1 && pop.SharedDevicePeople < wantSharedDevices {
				dev = pop.People[members[0]].Device // registered on the same phone or laptop
				pop.SharedDevicePeople += 2
			} else {
				dev = newDevice()
			}
			i := addPerson(id, ip, dev, hh)
			if child {
				pop.People[i].SharesPhone = true
				pop.SharedPhonePeople++
			}
			members = append(members, i)
		}
		pop.Households = append(pop.Households, members)
		pop.SharedIPPeople += size
		placed += size
	}
	wantAbroad := int(float64(n)*abroadShare + 0.5)
	for len(pop.People) < n {
		hh := len(pop.Households)
		ip, dev := g.legitIP(), newDevice()
		abroad := pop.AbroadPeople < wantAbroad
		if abroad {
			a := abroadNetworks[g.pick(len(abroadNetworks))]
			ip = g.ip([]string{a.prefix})
			if pop.AbroadPeople%2 == 0 {
				pop.Devices[dev].TimeZone = a.zone
			}
			pop.AbroadPeople++
		}
		i := addPerson(g.person("", 18, 68, ""), ip, dev, hh)
		pop.People[i].Abroad = abroad
		pop.Households = append(pop.Households, []int{i})
	}
	return pop
}

// queueRunners draws n people who join line's waiting room, each alone on
// their own browser and home connection (abroad in the crowd's share, half
// of those on local time), entered for line's course and pace group.
func (g *generator) queueRunners(n int, line SubQueue) Population {
	var pop Population
	wantAbroad := int(float64(n)*abroadShare + 0.5)
	for i := range n {
		d, ip := g.humanDevice(), g.legitIP()
		abroad := i < wantAbroad
		if abroad {
			a := abroadNetworks[g.pick(len(abroadNetworks))]
			ip = g.ip([]string{a.prefix})
			if i%2 == 0 {
				d.TimeZone = a.zone
			}
			pop.AbroadPeople++
		}
		id := g.person("", 18, 68, "")
		id.Course, id.PaceGroup = line.Course, line.PaceGroup
		pop.Devices = append(pop.Devices, d)
		pop.People = append(pop.People, Person{Identity: id, FillMS: g.humanFillMS(), IP: ip, Device: i, Household: i,
			IdemKey: g.idemKey(), Abroad: abroad})
		pop.Households = append(pop.Households, []int{i})
	}
	return pop
}

// firstRune returns the Korean surname a Hangul name starts with, or "".
func firstRune(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if r >= 0xAC00 && r <= 0xD7A3 { // a Hangul syllable
		return string(r)
	}
	return ""
}
