package cluster

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestPhoneRun(t *testing.T) {
	block := func(from, to, step int) []string {
		var out []string
		for n := from; n <= to; n += step {
			out = append(out, fmt.Sprintf("+8210123456%02d", n))
		}
		return out
	}
	tests := []struct {
		name    string
		numbers []string
		want    [][]int
	}{
		{"none", nil, nil},
		{"a block of five", block(1, 5, 1), [][]int{{0, 1, 2, 3, 4}}},
		{"four is not a run", block(1, 4, 1), nil},
		{"gaps up to four", block(1, 17, 4), [][]int{{0, 1, 2, 3, 4}}},
		{"gap of five breaks it", block(1, 25, 5), nil},
		{"a repeated number counts once", []string{"+821012345601", "+821012345601", "+821012345602",
			"+821012345603", "+821012345604"}, nil},
		{"repeats ride along a run", append(block(1, 5, 1), "+821012345603"), [][]int{{0, 1, 2, 3, 4, 5}}},
		{"formatting ignored", []string{"010-1234-5601", "01012345602", "010 1234 5603", "+82 10-1234-5604",
			"010.1234.5605"}, nil}, // +82… has more digits than 010…: two lengths
		{"order does not matter", []string{"+821012345605", "+821099999999", "+821012345601", "+821012345603",
			"+821012345604", "+821012345602"}, [][]int{{0, 2, 3, 4, 5}}},
		{"random numbers", []string{"+821038475610", "+821092837465", "+821055512345", "+821011122233",
			"+821077788899", "+821012312312"}, nil},
		{"too short ignored", []string{"1", "2", "3", "4", "5"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PhoneRun(tt.numbers, MinPhoneRun, PhoneRunGap); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PhoneRun = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSplitUnit(t *testing.T) {
	tests := []struct{ in, building, unit string }{
		{"서울 강남구 테헤란로 100 101동 1203호", "서울 강남구 테헤란로 100 101동", "1203"},
		{"서울 강남구 테헤란로 100 101동 1203 호", "서울 강남구 테헤란로 100 101동", "1203"},
		{"12 main st apt 5", "12 main st", "5"},
		{"12 main st unit #12b", "12 main st", "12b"},
		{"#305 12 main st", "12 main st", "305"},
		{"12 main st", "12 main st", ""},
		{"suite", "suite", ""},
	}
	for _, tt := range tests {
		b, u := SplitUnit(NormalizeAddress(tt.in))
		if b != tt.building || u != tt.unit {
			t.Errorf("SplitUnit(%q) = %q, %q; want %q, %q", tt.in, b, u, tt.building, tt.unit)
		}
	}
	if got := NormalizeAddress("  Apt. 5,  12 Main St. "); got != "apt 5 12 main st" {
		t.Errorf("NormalizeAddress = %q", got)
	}
}

func TestAddressUnits(t *testing.T) {
	n := NormalizeAddress
	farm := func(k int) []string {
		var out []string
		for u := range k {
			out = append(out, n(fmt.Sprintf("서울 마포구 월드컵로 10 %d호", 101+u)))
		}
		return out
	}
	tests := []struct {
		name        string
		addrs       []string
		same, units [][]int
	}{
		{"household of three", []string{n("12 Main St Apt 5"), n("12 main st apt 5"), n("12 MAIN ST, APT 5"), ""},
			[][]int{{0, 1, 2}}, nil},
		{"three units is neighbours", farm(3), nil, nil},
		{"four units is a series", farm(4), nil, [][]int{{0, 1, 2, 3}}},
		{"series with a household inside", append(farm(4), n("서울 마포구 월드컵로 10 101호")),
			[][]int{{0, 4}}, [][]int{{0, 1, 2, 3, 4}}},
		{"no unit never a series", []string{n("1 a st"), n("2 a st"), n("3 a st"), n("4 a st")}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			same, units := AddressUnits(tt.addrs, MinUnits)
			if !reflect.DeepEqual(same, tt.same) || !reflect.DeepEqual(units, tt.units) {
				t.Errorf("AddressUnits = %v, %v; want %v, %v", same, units, tt.same, tt.units)
			}
		})
	}
}

func TestEnvironmentBursts(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	iphone := EnvKey("iPhone UA", "390x844", "Asia/Seoul", []string{"ko-KR"}, "iPhone")
	win := EnvKey("Chrome UA", "1920x1080", "Asia/Seoul", []string{"ko-KR", "ko", "en-US"}, "Win32")
	// spread returns n entries of key every step from start.
	spread := func(key string, n int, start time.Time, step time.Duration) []Env {
		out := make([]Env, n)
		for i := range out {
			out[i] = Env{Key: key, At: start.Add(time.Duration(i) * step)}
		}
		return out
	}
	var mixed []Env
	for i := range 300 { // a rush: a third on one iPhone setup, the rest varied, in 10 minutes
		k := iphone
		if i%3 != 0 {
			k = EnvKey(fmt.Sprintf("UA %d", i%40), "412x915", "Asia/Seoul", []string{"ko-KR"}, "Linux armv8l")
		}
		mixed = append(mixed, Env{Key: k, At: t0.Add(time.Duration(i) * 2 * time.Second)})
	}
	day := spread(win, 20, t0, 3*time.Hour) // the same setup over days among others: no burst
	for i := range 500 {
		day = append(day, Env{Key: fmt.Sprintf("other %d", i%50), At: t0.Add(time.Duration(i) * 7 * time.Minute)})
	}
	tests := []struct {
		name     string
		envs     []Env
		wantSize []int
	}{
		{"empty", nil, nil},
		{"opening rush of a popular phone", mixed, nil},
		{"one setup spread over days", day, nil},
		{"farm of 30 in five minutes after the rush", slices.Concat(mixed, spread(win, 30, t0.Add(time.Hour), 10*time.Second)),
			[]int{30}},
		{"four is below the minimum", spread(win, 4, t0, time.Second), nil},
		{"one setup only: nothing to compare", spread(win, 30, t0, time.Second), nil},
		{"farm among days of the same setup", slices.Concat(day, spread(win, 12, t0.Add(31*time.Hour), 20*time.Second)),
			[]int{12}},
		{"empty keys ignored", spread("", 30, t0, time.Second), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EnvironmentBursts(tt.envs, BurstWindow, MinBurst)
			var sizes []int
			for _, g := range got {
				sizes = append(sizes, len(g))
			}
			if !reflect.DeepEqual(sizes, tt.wantSize) {
				t.Errorf("burst sizes = %v, want %v", sizes, tt.wantSize)
			}
		})
	}
}

func TestRareDomainCrowd(t *testing.T) {
	domains := []string{"gmail.com", "snu.ac.kr", "gmail.com", "mail-a.kr", "snu.ac.kr", "mail-a.kr", "snu.ac.kr",
		"mail-a.kr", "snu.ac.kr", "mail-a.kr", "snu.ac.kr", "gmail.com", "gmail.com", "gmail.com", "x.org", "",
		"example.com", "example.com", "example.com", "example.com", "example.com", "demo.startline.test",
		"demo.startline.test", "demo.startline.test", "demo.startline.test", "demo.startline.test"}
	got := RareDomainCrowd(domains, CommonMailDomains, MinDomainCrowd)
	want := [][]int{{1, 4, 6, 8, 10}} // mail-a.kr has four: below the crowd; reserved domains receive no mail
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RareDomainCrowd = %v, want %v", got, want)
	}
	if MailDomain("Kim@SNU.ac.kr") != "snu.ac.kr" || MailDomain("nobody") != "" {
		t.Error("MailDomain")
	}
}

func TestPoissonTail(t *testing.T) {
	tests := []struct {
		k      int
		lambda float64
		want   float64
	}{
		{0, 3, 1}, {1, 0, 0}, {1, 1, 1 - math.Exp(-1)}, {2, 1, 1 - 2*math.Exp(-1)},
		{30, 1, 1.03e-33}, // far tail: summed upward, not 1 - CDF
	}
	for _, tt := range tests {
		if got := PoissonTail(tt.k, tt.lambda); math.Abs(got-tt.want) > tt.want*1e-2+1e-15 {
			t.Errorf("PoissonTail(%d, %g) = %g, want %g", tt.k, tt.lambda, got, tt.want)
		}
	}
}

func TestFarmBump(t *testing.T) {
	r := DefaultFarmRules
	sh := func(size int, kv ...any) FarmShape {
		s := FarmShape{Size: size, Largest: map[LinkKind]int{}}
		for i := 0; i < len(kv); i += 2 {
			s.Largest[kv[i].(LinkKind)] = kv[i+1].(int)
		}
		return s
	}
	tests := []struct {
		name   string
		shape  FarmShape
		points int
		kinds  []LinkKind
	}{
		{"lone entry", sh(1), 0, nil},
		{"household: card and address among four", sh(4, KindCard, 4, KindAddress, 4), 0, nil},
		{"household of five with a shared card among three", sh(5, KindCard, 3, KindAddress, 5), 0, nil},
		{"card on five entries", sh(5, KindCard, 5), 50, []LinkKind{KindCard}},
		{"campus: rare domain alone", sh(200, KindRareDomain, 200), 0, nil},
		{"dormitory: rare domain and unit series", sh(40, KindRareDomain, 40, KindUnitSeries, 12), 0, nil},
		{"phone run alone", sh(6, KindPhoneRun, 6), 0, nil},
		{"phone run and rare domain", sh(6, KindPhoneRun, 6, KindRareDomain, 6), 50,
			[]LinkKind{KindPhoneRun, KindRareDomain}},
		{"burst and unit series", sh(8, KindEnvBurst, 8, KindUnitSeries, 8), 50, []LinkKind{KindUnitSeries, KindEnvBurst}},
		{"combination below the size", sh(4, KindEnvBurst, 4, KindUnitSeries, 4), 0, nil},
		{"varied-signals farm: four kinds", sh(40, KindPhoneRun, 20, KindRareDomain, 15, KindUnitSeries, 40, KindEnvBurst, 40),
			70, []LinkKind{KindPhoneRun, KindRareDomain, KindUnitSeries, KindEnvBurst}},
		{"household card with a run is still two kinds only if the card crowds",
			sh(6, KindCard, 2, KindPhoneRun, 5), 0, nil},
		{"crowded pickup address and a run", sh(10, KindAddress, 10, KindPhoneRun, 10), 50,
			[]LinkKind{KindPhoneRun, KindAddress}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, k := FarmBump(tt.shape, r)
			if p != tt.points || !reflect.DeepEqual(k, tt.kinds) {
				t.Errorf("FarmBump = %d %v, want %d %v", p, k, tt.points, tt.kinds)
			}
		})
	}
}

func TestGroupLinksJoinFarm(t *testing.T) {
	links := make([][]Link, 4)
	GroupLinks(links, KindPhoneRun, [][]int{{0, 2}})
	GroupLinks(links, KindCard, [][]int{{2, 3}})
	es := make([]Entry, 4)
	for i := range es {
		es[i] = Entry{ID: fmt.Sprint(i), Links: links[i]}
	}
	got := memberLists(Build(es, FarmOptions(Options{MaxKeyFanout: 1})))
	want := [][]string{{"0", "2", "3"}, {"1"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("clusters = %v, want %v (farm kinds are never hot)", got, want)
	}
}
