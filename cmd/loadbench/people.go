package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/antibot/ipintel"
)

// device is a browser as the form reports it: request headers (user agent,
// languages, Chromium's client hints) and the form script's signals.
type device struct {
	UA, Platform, Screen, CHUA, CHPlatform string
	Mobile, Touch                          bool
	// classes is how many distinct fingerprints devices of this kind render
	// (identical phones render identically).
	classes int
}

const (
	chromeBrands  = `"Not/A)Brand";v="8", "Chromium";v="126", "Google Chrome";v="126"`
	samsungBrands = `"Chromium";v="121", "Not A(Brand";v="99", "Samsung Internet";v="25.0"`
)

// devices are the browsers runners in Korea apply with, roughly by share
// (cmd/botsim has the long tail).
var devices = []device{
	{UA: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		Platform: "iPhone", Screen: "1179x2556", Mobile: true, Touch: true, classes: 3},
	{UA: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		Platform: "iPhone", Screen: "1170x2532", Mobile: true, Touch: true, classes: 3},
	{UA: "Mozilla/5.0 (Linux; Android 14; SM-S921N) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
		Platform: "Linux armv81", Screen: "1080x2340", Mobile: true, Touch: true, CHUA: samsungBrands, CHPlatform: "Android", classes: 4},
	{UA: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
		Platform: "Linux armv81", Screen: "1080x2400", Mobile: true, Touch: true, CHUA: chromeBrands, CHPlatform: "Android", classes: 25},
	{UA: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		Platform: "Win32", Screen: "1920x1080", CHUA: chromeBrands, CHPlatform: "Windows", classes: 40},
	{UA: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		Platform: "MacIntel", Screen: "1512x982", classes: 6},
}

// headers are the browser's request headers for a fetch from the form.
func (d device) headers() map[string]string {
	h := map[string]string{
		"User-Agent":      d.UA,
		"Accept-Language": "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7",
		"Accept":          "application/json",
		"Sec-Fetch-Site":  "same-origin",
		"Sec-Fetch-Mode":  "cors",
		"Sec-Fetch-Dest":  "empty",
	}
	if d.CHUA != "" {
		mobile := "?0"
		if d.Mobile {
			mobile = "?1"
		}
		h["Sec-CH-UA"], h["Sec-CH-UA-Mobile"], h["Sec-CH-UA-Platform"] = d.CHUA, mobile, `"`+d.CHPlatform+`"`
	}
	return h
}

// signals is what web/static/signals.js reports with an application.
type signals struct {
	Webdriver   bool     `json:"webdriver"`
	FillMS      int      `json:"fill_ms"`
	TimeZone    string   `json:"timezone"`
	Languages   []string `json:"languages"`
	Screen      string   `json:"screen"`
	Platform    string   `json:"platform"`
	Fingerprint string   `json:"fingerprint"`
	Touch       bool     `json:"touch"`
}

// applicant is one runner of the crowd: who they are, their browser and
// address, and what preparation got them (a solved proof of work, the
// device cookie that came with it, the mailed code).
type applicant struct {
	Name, Email, Phone, Birth, PaceGroup string
	IP                                   string
	Dev                                  int // index into devices
	Sig                                  signals
	IdemKey                              string
	Altcha, Cookie, Code                 string
}

var (
	surnames   = []string{"Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Oh", "Seo", "Shin", "Kwon", "Hwang", "Ahn", "Song", "Ryu", "Hong"}
	givenNames = []string{"Jiho", "Minjun", "Seoyeon", "Jiwoo", "Hayoon", "Doyun", "Seojun", "Jiyoo", "Eunwoo", "Yerin", "Siwoo", "Sua", "Juwon", "Chaewon", "Hyunwoo", "Minseo", "Taeyang", "Dahye", "Sungmin", "Yuna", "Jaehyun", "Soyeon", "Dongha", "Nayeon"}
	mailHosts  = []string{"naver.com", "gmail.com", "daum.net", "hanmail.net", "kakao.com", "nate.com"}
	// Korean access networks (as cmd/botsim uses); every address is checked
	// against the server's own IP tables below.
	koreanPrefixes = []string{"1.224.0.0/11", "14.32.0.0/11", "27.160.0.0/12", "39.112.0.0/12", "49.160.0.0/12",
		"58.120.0.0/13", "59.0.0.0/11", "61.72.0.0/13", "106.240.0.0/12", "110.8.0.0/13", "112.144.0.0/12",
		"115.136.0.0/13", "118.32.0.0/11", "121.128.0.0/10", "175.192.0.0/10", "180.64.0.0/13",
		"218.144.0.0/12", "220.64.0.0/11", "223.32.0.0/11"}
)

// crowd draws n distinct people (addresses, mailboxes, phones never reused)
// from a seeded source, so a run is reproducible. Phones are valid by the
// server's own rules (identity.NormalizePhone). Addresses are residential
// Korean ones by the server's own tables (ipintel), so the risk score sees
// ordinary runners.
func crowd(n int, seed uint64, groups []string, residential func(ip string) bool) []applicant {
	r := rand.New(rand.NewPCG(seed, 0x6c6f6164))
	used := map[string]bool{}
	out := make([]applicant, n)
	for i := range out {
		sur, given := surnames[r.IntN(len(surnames))], givenNames[r.IntN(len(givenNames))]
		a := applicant{Name: given + " " + sur, PaceGroup: groups[r.IntN(len(groups))], Dev: pickDevice(r)}
		for {
			a.Email = fmt.Sprintf("%s.%s%d@%s", strings.ToLower(given), strings.ToLower(sur), 10+r.IntN(99990), mailHosts[r.IntN(len(mailHosts))])
			if !used[a.Email] {
				break
			}
		}
		for {
			a.Phone = fmt.Sprintf("010-%04d-%04d", 2000+r.IntN(8000), r.IntN(10000))
			if _, err := identity.NormalizePhone(a.Phone, "KR"); err == nil && !used[a.Phone] {
				break
			}
		}
		for {
			a.IP = randomIP(r, koreanPrefixes)
			if !used[a.IP] && residential(a.IP) {
				break
			}
		}
		used[a.Email], used[a.Phone], used[a.IP] = true, true, true
		for {
			// Name and birth date together name a person (one entry each).
			a.Birth = fmt.Sprintf("%04d-%02d-%02d", 1960+r.IntN(46), 1+r.IntN(12), 1+r.IntN(28))
			if !used[a.Name+"|"+a.Birth] {
				break
			}
		}
		used[a.Name+"|"+a.Birth] = true
		d := devices[a.Dev]
		a.Sig = signals{FillMS: 35_000 + r.IntN(150_000), TimeZone: "Asia/Seoul", Languages: []string{"ko-KR", "ko", "en-US", "en"},
			Screen: d.Screen, Platform: d.Platform, Touch: d.Touch, Fingerprint: fingerprint(d.UA, fmt.Sprint(r.IntN(d.classes)))}
		a.IdemKey = fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
		out[i] = a
	}
	return out
}

// koreanResidential says by the server's own IP tables whether ip is a
// Korean access (not hosting, not relay) address.
func koreanResidential(ip string) bool {
	nw := ipintel.Default().LookupString(ip)
	return nw.Country == "KR" && nw.Kind == ipintel.Access
}

func pickDevice(r *rand.Rand) int {
	weights := []int{22, 14, 18, 14, 22, 10}
	n := r.IntN(100)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return 0
}

func randomIP(r *rand.Rand, prefixes []string) string {
	for {
		p := netip.MustParsePrefix(prefixes[r.IntN(len(prefixes))])
		b := p.Addr().As4()
		host := r.Uint32() & (1<<(32-p.Bits()) - 1)
		v := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) | host
		if v&0xff == 0 || v&0xff == 255 {
			continue
		}
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
	}
}

func fingerprint(parts ...string) string {
	s := sha256.Sum256([]byte(strings.Join(parts, "|")))
	return hex.EncodeToString(s[:16])
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// profiles are the browsers' header sets, for wrk's scripts.
func profiles() []map[string]string {
	out := make([]map[string]string, len(devices))
	for i, d := range devices {
		out[i] = d.headers()
	}
	return out
}
