package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/antibot/ipintel"
)

var testSubQueues = []SubQueue{
	{Key: "5k:open", Course: "5k", PaceGroup: "open", Capacity: 500},
	{Key: "half:sub-130", Course: "half", PaceGroup: "sub-130", Capacity: 150},
	{Key: "full:sub-300", Course: "full", PaceGroup: "sub-300", Capacity: 100},
}

var testNow = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func TestGmailVariantsReachOneMailbox(t *testing.T) {
	const local = "minjunkim87"
	got := gmailVariants(local, 150, rand.New(rand.NewPCG(1, 2)))
	if len(got) != 150 {
		t.Fatalf("got %d variants, want 150", len(got))
	}
	seen := map[string]bool{}
	kinds := map[string]int{}
	for _, v := range got {
		low := strings.ToLower(v)
		if seen[low] {
			t.Errorf("variant %q repeats (case-insensitively)", v)
		}
		seen[low] = true
		if low == local+"@gmail.com" {
			t.Errorf("variant %q is the mailbox itself", v)
		}
		// The server's own normalizer must fold every variant to the mailbox:
		// this is exactly what the attack tries to get past.
		e, err := identity.NormalizeEmail(v)
		if err != nil {
			t.Errorf("NormalizeEmail(%q): %v", v, err)
			continue
		}
		if e.Key != local+"@gmail.com" {
			t.Errorf("NormalizeEmail(%q).Key = %q, want %s@gmail.com", v, e.Key, local)
		}
		if strings.Contains(v, ".") && strings.Index(v, ".") < strings.Index(v, "@") {
			kinds["dots"]++
		}
		if strings.Contains(v, "+") {
			kinds["plus"]++
		}
		if strings.Contains(low, "googlemail.com") {
			kinds["googlemail"]++
		}
		if v[0] >= 'A' && v[0] <= 'Z' {
			kinds["upper"]++
		}
	}
	for _, k := range []string{"dots", "plus", "googlemail", "upper"} {
		if kinds[k] == 0 {
			t.Errorf("no %s variants in %v", k, got)
		}
	}
}

func TestGmailVariantsRunOut(t *testing.T) {
	// "ab" has one dot position and a few tags and domains: far fewer than
	// 500 spellings. The generator must stop, not loop.
	got := gmailVariants("ab", 500, rand.New(rand.NewPCG(1, 2)))
	if len(got) == 0 || len(got) >= 500 {
		t.Fatalf("got %d variants of ab, want some but fewer than 500", len(got))
	}
}

func TestKeptOut(t *testing.T) {
	tests := []struct {
		name                       string
		attempts, received, errors int
		want                       float64
	}{
		{"all kept out", 100, 0, 0, 100},
		{"one through", 100, 1, 0, 99},
		{"errors are not decisions", 100, 1, 50, 98},
		{"nothing decided", 10, 0, 10, 0},
		{"no attempts", 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keptOut(tt.attempts, tt.received, tt.errors); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("keptOut(%d, %d, %d) = %v, want %v", tt.attempts, tt.received, tt.errors, got, tt.want)
			}
		})
	}
}

func TestRowTally(t *testing.T) {
	r := newRow("x", "")
	for _, o := range []Outcome{{Kind: KindReceived, Code: ""}, {Kind: KindFlagged, Code: ""}, {Kind: KindFlagged, Code: ""}, {Kind: KindRejected, Code: ""},
		{Kind: KindBlocked, Code: "apply:duplicate_entry"}, {Kind: KindBlocked, Code: "otp:rate_limited"}, {Kind: KindBlocked, Code: "otp:rate_limited"},
		{Kind: KindError, Code: "apply:transport"}} {
		r.add(o)
	}
	r.DurationMS = 1000
	r.finish()
	want := Row{Scenario: "x", Available: true, Attempts: 8, Received: 1, Flagged: 2, Rejected: 1, Blocked: 3, Errors: 1,
		Codes:      map[string]int{"apply:duplicate_entry": 1, "otp:rate_limited": 2, "apply:transport": 1},
		KeptOutPct: 100 * 6.0 / 7.0, DurationMS: 1000}
	if diff := cmp.Diff(want, *r); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	if r.MeetsTarget {
		t.Error("85.7% kept out meets the 99% target")
	}

	pass := newRow("y", "")
	for range 200 {
		pass.add(Outcome{Kind: KindBlocked, Code: "apply:duplicate_entry"})
	}
	pass.add(Outcome{Kind: KindReceived, Code: ""})
	pass.finish()
	if !pass.MeetsTarget {
		t.Errorf("%.2f%% kept out misses the target", pass.KeptOutPct)
	}
	pass.Breaches = 1
	pass.finish()
	if pass.MeetsTarget {
		t.Error("a row with a breach meets the target")
	}

	off := newRow("z", "")
	off.Available = false
	tot := total([]*Row{r, pass, off})
	if tot.Attempts != 8+201 || tot.Received != 2 || tot.Errors != 1 || tot.Breaches != 1 {
		t.Errorf("total = %+v", tot)
	}
}

func TestLegitTargets(t *testing.T) {
	tests := []struct {
		name                    string
		received, flagged, rej  int
		wantFlagOK, wantNoRejOK bool
		wantFlaggedPct          float64
	}{
		{"clean", 400, 0, 0, true, true, 0},
		{"two flagged of 400 is exactly 0.5%", 398, 2, 0, true, true, 0.5},
		{"three flagged is too many", 397, 3, 0, false, true, 0.75},
		{"one rejected", 399, 0, 1, true, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Legit{Codes: map[string]int{}}
			for range tt.received {
				l.add(Outcome{Kind: KindReceived}, "alone")
			}
			for range tt.flagged {
				l.add(Outcome{Kind: KindFlagged}, "alone")
			}
			for range tt.rej {
				l.add(Outcome{Kind: KindRejected}, "alone")
			}
			l.finish()
			if l.FlaggedTargetMet != tt.wantFlagOK || l.NoRejectsMet != tt.wantNoRejOK ||
				math.Abs(l.FlaggedPct-tt.wantFlaggedPct) > 1e-9 {
				t.Errorf("got flagged %.2f%% ok=%v, no rejects ok=%v; want %.2f%% %v %v", l.FlaggedPct,
					l.FlaggedTargetMet, l.NoRejectsMet, tt.wantFlaggedPct, tt.wantFlagOK, tt.wantNoRejOK)
			}
		})
	}
}

func TestLegitPopulation(t *testing.T) {
	const n = 400
	g := newGenerator(rand.New(rand.NewPCG(1, 1)), testSubQueues, testNow, false)
	pop := g.legitPopulation(n)
	if len(pop.People) != n {
		t.Fatalf("got %d people, want %d", len(pop.People), n)
	}
	keys, phones, names := map[string]bool{}, map[string]bool{}, map[string]bool{}
	ipUsers, deviceHouseholds := map[string]int{}, map[int]map[int]bool{}
	for _, p := range pop.People {
		e, err := identity.NormalizeEmail(p.Email)
		if err != nil {
			t.Errorf("email %q: %v", p.Email, err)
		} else if keys[e.Key] {
			t.Errorf("two people share the mailbox %s", e.Key)
		}
		keys[e.Key] = true
		ph, err := identity.NormalizePhone(p.Phone, "KR")
		if err != nil {
			t.Errorf("phone %q: %v", p.Phone, err)
		} else if (phones[ph] != p.SharesPhone) || !strings.HasPrefix(ph, "+8210") {
			t.Errorf("phone %q (%s): seen before %v, a child with a parent's phone %v", p.Phone, ph, phones[ph], p.SharesPhone)
		}
		phones[ph] = true
		names[p.Name] = true
		b, err := time.Parse(time.DateOnly, p.BirthDate)
		if age := testNow.Sub(b).Hours() / 24 / 365.25; err != nil || age < 6 || age > 70 {
			t.Errorf("birth date %q: age %.1f, err %v", p.BirthDate, age, err)
		}
		if p.FillMS < 20_000 || p.FillMS > 180_000 {
			t.Errorf("fill_ms %d outside 20-180 s", p.FillMS)
		}
		d := pop.Devices[p.Device]
		if d.Webdriver || (d.TimeZone != "Asia/Seoul" && !p.Abroad) || d.UserAgent == "" || d.Fingerprint == "" ||
			!strings.HasPrefix(d.Languages[0], "ko") || strings.Contains(strings.ToLower(d.UserAgent), "headless") {
			t.Errorf("device %+v does not look like a runner's browser", d)
		}
		ipUsers[p.IP]++
		if deviceHouseholds[p.Device] == nil {
			deviceHouseholds[p.Device] = map[int]bool{}
		}
		deviceHouseholds[p.Device][p.Household] = true
		if p.SharesPhone && p.Course != "5k" {
			t.Errorf("child entered for %s, want the 5K", p.Course)
		}
		if p.Course == "" || p.PaceGroup == "" {
			t.Errorf("no sub-queue for %+v", p.Identity)
		}
	}
	if len(names) != n {
		t.Errorf("%d distinct names among %d people", len(names), n)
	}
	if pop.SharedPhonePeople != 4 {
		t.Errorf("%d children with a parent's phone, want 1%% of %d", pop.SharedPhonePeople, n)
	}
	if pop.AbroadPeople != 8 {
		t.Errorf("%d runners abroad, want 2%% of %d", pop.AbroadPeople, n)
	}
	shared := 0
	for ip, c := range ipUsers {
		if c > 5 {
			t.Errorf("%d people behind %s, want at most 5", c, ip)
		}
		if c > 1 {
			shared += c
		}
	}
	if shared != pop.SharedIPPeople || shared < 50 || shared > 70 {
		t.Errorf("%d people behind a shared IP (population says %d), want about 15%% of %d", shared, pop.SharedIPPeople, n)
	}
	sharedDev := 0
	for dev, hh := range deviceHouseholds {
		if len(hh) != 1 {
			t.Errorf("device %d used across %d households", dev, len(hh))
		}
	}
	users := map[int]int{}
	for _, p := range pop.People {
		users[p.Device]++
	}
	for _, c := range users {
		if c > 1 {
			sharedDev += c
		}
	}
	if sharedDev != pop.SharedDevicePeople || sharedDev < 16 || sharedDev > 24 {
		t.Errorf("%d people on a shared device (population says %d), want about 5%% of %d", sharedDev, pop.SharedDevicePeople, n)
	}

	// The same seed gives the same people.
	again := newGenerator(rand.New(rand.NewPCG(1, 1)), testSubQueues, testNow, false).legitPopulation(n)
	if diff := cmp.Diff(pop, again); diff != "" {
		t.Errorf("population is not reproducible from its seed:\n%s", diff)
	}
}

func TestDisposableDomainsAreListed(t *testing.T) {
	list := identity.DefaultDisposable()
	for _, d := range disposableDomains {
		if !list.IsDisposable(d) {
			t.Errorf("%s is not on the server's disposable list: the scenario would test nothing", d)
		}
	}
}

func TestOTPFromBody(t *testing.T) {
	body := "Your code to apply for Startline Demo Marathon is 042917.\nIt is valid for 10 minutes and can be used once.\n"
	if got, ok := otpFromBody(body); !ok || got != "042917" {
		t.Errorf("otpFromBody = %q, %v; want 042917", got, ok)
	}
	ko := "Startline Demo Marathon 신청 인증 코드는 042917 입니다.\n10분 동안 한 번만 사용할 수 있습니다.\n"
	if got, ok := otpFromBody(ko); !ok || got != "042917" {
		t.Errorf("otpFromBody(Korean) = %q, %v; want 042917", got, ok)
	}
	if _, ok := otpFromBody("no code here"); ok {
		t.Error("found a code in a mail without one")
	}
}

func TestSelectScenarios(t *testing.T) {
	legit, got, err := selectScenarios("pow_replay, legit,gmail_variants,pow_replay")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range got {
		names = append(names, s.name)
	}
	if diff := cmp.Diff([]string{"gmail_variants", "pow_replay"}, names); !legit || diff != "" {
		t.Errorf("legit=%v, scenarios (-want +got):\n%s", legit, diff)
	}
	if legit, got, _ := selectScenarios("all"); !legit || len(got) != len(scenarios) {
		t.Errorf("all: legit=%v, %d scenarios", legit, len(got))
	}
	if _, _, err := selectScenarios("legit,nope"); err == nil {
		t.Error("an unknown scenario was accepted")
	}
}

func TestRunJobsCountsUnrunAttempts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := runJobs(ctx, 4, []job{{n: 3, run: func(context.Context) []Outcome { return nil }}, one(func(context.Context) Outcome {
		return Outcome{Kind: KindReceived, Code: ""}
	})})
	if len(out) != 4 {
		t.Fatalf("got %d outcomes, want 4 (every planned attempt is reported)", len(out))
	}
	for _, o := range out {
		if o.Kind != KindError || o.Code != "not_run:timeout" {
			t.Errorf("outcome %+v after cancel, want not_run:timeout", o)
		}
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		want     eventInfo
		wantLine string // key of line(); empty: none
		wantErr  bool
	}{
		{"lottery and ordered", `{"slug":"demo","status":"open","subqueues":[
			{"key":"half:sub-130","course":"half","pace_group":"sub-130","capacity":150,"mode":"lottery"},
			{"key":"5k:walk","course":"5k","pace_group":"walk","capacity":200,"mode":"ordered","admit_per_minute":60},
			{"key":"full:elite","course":"full","pace_group":"elite","capacity":10,"mode":"ordered","admit_per_minute":5}]}`,
			eventInfo{Status: "open",
				Lottery: []SubQueue{{Key: "half:sub-130", Course: "half", PaceGroup: "sub-130", Capacity: 150}},
				Ordered: []SubQueue{{Key: "5k:walk", Course: "5k", PaceGroup: "walk", Capacity: 200, AdmitPerMinute: 60},
					{Key: "full:elite", Course: "full", PaceGroup: "elite", Capacity: 10, AdmitPerMinute: 5}}},
			"5k:walk", false},
		{"no mode is a lottery; unknown modes are skipped", `{"status":"open","subqueues":[
			{"key":"10k:open","capacity":300},{"key":"10k:auction","capacity":5,"mode":"auction"}]}`,
			eventInfo{Status: "open", Lottery: []SubQueue{{Key: "10k:open", Course: "10k", PaceGroup: "open", Capacity: 300}}},
			"", false},
		{"only ordered", `{"status":"open","subqueues":[{"key":"5k:walk","capacity":200,"mode":"ordered"}]}`,
			eventInfo{}, "", true},
		{"not JSON", `<html>`, eventInfo{}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEvent([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
			line := ""
			if l := got.line(); l != nil {
				line = l.Key
			}
			if line != tt.wantLine {
				t.Errorf("line() = %q, want %q", line, tt.wantLine)
			}
		})
	}
}

func TestCheckLoopback(t *testing.T) {
	for base, ok := range map[string]bool{"http://127.0.0.1:8080": true, "http://localhost:8091": true, "http://[::1]:80": true,
		"https://startline.example": false, "http://10.0.0.5:8080": false, "ftp://127.0.0.1": false} {
		if err := checkLoopback(base); (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", base, err, ok)
		}
	}
}

func TestPhonesAreValidKoreanMobiles(t *testing.T) {
	g := newGenerator(rand.New(rand.NewPCG(7, 7)), testSubQueues, testNow, false)
	for range 5000 {
		p := g.phone()
		if e164, err := identity.NormalizePhone(p, "KR"); err != nil || !strings.HasPrefix(e164, "+8210") {
			t.Fatalf("phone %q: %q, %v", p, e164, err)
		}
	}
}

func TestIdentitiesAreValid(t *testing.T) {
	// Names, addresses and birth dates the server must accept, over many
	// draws and every domain (attackers' included).
	g := newGenerator(rand.New(rand.NewPCG(3, 9)), testSubQueues, testNow, false)
	for i := range 3000 {
		domain := ""
		if i%3 == 0 {
			domain = disposableDomains[i%len(disposableDomains)]
		}
		id := g.person("", 18, 68, domain)
		if _, err := identity.NormalizeEmail(id.Email); err != nil {
			t.Fatalf("email %q: %v", id.Email, err)
		}
		if n := len([]rune(id.Name)); n == 0 || n > 100 {
			t.Fatalf("name %q", id.Name)
		}
	}
}

func TestAddressVariants(t *testing.T) {
	const addr = "organizer@demo.startline.test"
	got := addressVariants(addr, 50, rand.New(rand.NewPCG(5, 5)))
	if len(got) != 50 {
		t.Fatalf("got %d variants, want 50", len(got))
	}
	seen := map[string]bool{}
	for _, v := range got {
		if seen[v] || v == addr {
			t.Errorf("variant %q repeats or is the address itself", v)
		}
		seen[v] = true
		// The login lowercases and trims: every variant is the same account.
		if strings.ToLower(strings.TrimSpace(v)) != addr {
			t.Errorf("variant %q is not %s re-spelled", v, addr)
		}
	}
}

func TestRecountAfterSettle(t *testing.T) {
	// Clustering flags entries after apply answered "received": the settled
	// re-read must move them, and the kept-out share must follow.
	r := newRow("ip_rotation", "")
	for i := range 10 {
		r.add(Outcome{Kind: KindReceived, EntryID: fmt.Sprint("e", i), Token: "t"})
	}
	for _, e := range r.Created[:9] {
		r.recount(e, KindFlagged)
	}
	r.recount(r.Created[0], KindFlagged) // already moved: no change
	r.finish()
	if r.Received != 1 || r.Flagged != 9 || r.Changed["received->in_review"] != 9 || math.Abs(r.KeptOutPct-90) > 1e-9 {
		t.Errorf("after recount: received %d flagged %d changed %v kept out %.1f", r.Received, r.Flagged, r.Changed, r.KeptOutPct)
	}

	l := &Legit{Codes: map[string]int{}}
	l.add(Outcome{Kind: KindReceived, EntryID: "a", Token: "t"}, "shared_ip+shared_device")
	l.add(Outcome{Kind: KindReceived, EntryID: "b", Token: "t"}, "alone")
	l.add(Outcome{Kind: KindBlocked, Code: "apply:rate_limited"}, "shared_ip")
	l.recount(l.Created[0], KindFlagged)
	l.finish()
	want := map[string]int{"shared_ip+shared_device/in_review": 1, "shared_ip/apply:rate_limited": 1}
	if diff := cmp.Diff(want, l.Harmed); diff != "" || l.Flagged != 1 || l.Received != 1 || l.FlaggedPct != 100.0/3 {
		t.Errorf("legit %+v; harmed (-want +got):\n%s", l, diff)
	}
}

func TestDeviceProfilesAreConsistent(t *testing.T) {
	// What a real browser reports agrees with itself: user agent, client
	// hints and navigator.platform name the same operating system.
	osOf := map[string]string{"Windows": "Windows NT", "Android": "Android", "macOS": "Macintosh"}
	platOf := map[string]string{"Windows": "Win", "Android": "Linux", "macOS": "Mac"}
	for _, p := range deviceProfiles {
		for _, v := range p.variants {
			if v.classes < 1 || v.weight < 1 {
				t.Errorf("variant %q: weight %d, classes %d", v.ua, v.weight, v.classes)
			}
			switch {
			case p.ios:
				if p.brands != "" || !strings.Contains(v.ua, "iPhone") || p.platform != "iPhone" {
					t.Errorf("iOS variant %q: Safari sends no client hints and reports platform iPhone", v.ua)
				}
			case p.brands == "":
				if !strings.Contains(v.ua, "Version/") || strings.Contains(v.ua, "Chrome/") {
					t.Errorf("Chromium variant %q has no client hints", v.ua)
				}
			case !strings.Contains(v.ua, osOf[p.chOS]) || !strings.HasPrefix(p.platform, platOf[p.chOS]):
				t.Errorf("variant %q: hint %q, platform %q disagree", v.ua, p.chOS, p.platform)
			}
		}
	}
}

func TestFingerprintsCollideLikeRealDevices(t *testing.T) {
	// Realistic: all iPhones on one iOS version share a fingerprint, and
	// some fingerprints are shared by several runners. Unique: none are.
	for _, unique := range []bool{false, true} {
		g := newGenerator(rand.New(rand.NewPCG(2, 2)), testSubQueues, testNow, unique)
		byFP := map[string]map[string]bool{} // fingerprint -> user agents
		count := map[string]int{}
		for range 2000 {
			d := g.humanDevice()
			if byFP[d.Fingerprint] == nil {
				byFP[d.Fingerprint] = map[string]bool{}
			}
			byFP[d.Fingerprint][d.UserAgent] = true
			count[d.Fingerprint]++
		}
		shared := 0
		for fp, uas := range byFP {
			if len(uas) != 1 {
				t.Errorf("unique=%v: fingerprint %s under %d user agents: different software renders differently", unique, fp, len(uas))
			}
			if count[fp] > 1 {
				shared++
			}
		}
		if unique && shared != 0 {
			t.Errorf("unique fingerprints: %d shared", shared)
		}
		if !unique && (shared == 0 || len(byFP) > 400) {
			t.Errorf("realistic fingerprints: %d distinct over 2000 devices, %d shared", len(byFP), shared)
		}
	}
}

// The simulated crowd's addresses must be where botsim says they are, or the
// server's geography rules would be measured against a wrong map: runners'
// addresses are Korean access networks, proxies are abroad.
func TestAddressesAreWhereTheySayTheyAre(t *testing.T) {
	db := ipintel.Default()
	g := newGenerator(rand.New(rand.NewPCG(7, 7)), nil, time.Now(), false)
	for range 2000 {
		if n := db.LookupString(g.legitIP()); n.Country != "KR" {
			t.Fatalf("a runner's address is in %v", n)
		}
		if n := db.LookupString(g.ip(proxyPrefixes)); n.Country == "KR" || n.Country == "" {
			t.Fatalf("a proxy address is in %v", n)
		}
	}
	for _, a := range abroadNetworks {
		for range 200 {
			ip := g.ip([]string{a.prefix})
			if n := db.LookupString(ip); n.Country != ipintel.ZoneCountry(a.zone) || n.Kind != ipintel.Access {
				t.Fatalf("%s (%s) is %v, want a home network in %s", ip, a.prefix, n, ipintel.ZoneCountry(a.zone))
			}
		}
	}
}
