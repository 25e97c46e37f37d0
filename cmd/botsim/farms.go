package main

// Farms seen by what they share (issue 15). A farm that buys real
// mailboxes, phone numbers and residential addresses and copies a real
// browser passes every per-entry check; what it cannot hide is what its
// entries share. -offline builds the legitimate crowds (the usual crowd
// with its households, shared devices and children on a parent's phone, a
// campus on one university domain with a dormitory) and the farm scenarios,
// gives every entry the card, pickup address and arrival time the server
// would store, and runs the server's own rules on them: the apply scorer
// (antibot.Scorer) per entry and the cluster pass (review.ComputeClusters),
// device and farm rules included. It needs no server, because cards and
// address answers cannot be sent through the HTTP API botsim drives yet.

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/antibot/cluster"
	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/review"
)

// OfflineRow is one population's outcome under the server's rules.
type OfflineRow struct {
	Name    string `json:"name"`
	Desc    string `json:"desc"`
	Entries int    `json:"entries"`
	// PerEntry: sent to review or rejected by the apply scorer alone.
	PerEntry int `json:"per_entry"`
	// Device: flagged by the cluster pass's device rules (one device
	// cookie for many people, a fingerprint replayed through networks
	// abroad). Farm: flagged by a farm-shaped cluster (cluster.FarmBump).
	Device int `json:"device"`
	Farm   int `json:"farm"`
	// Flagged is every entry flagged by any of them.
	Flagged int `json:"flagged"`
	// Links counts, per farm link kind, the population's entries in a
	// group of that kind (a shared card, a phone run...).
	Links map[string]int `json:"links,omitempty"`
}

// Rate is Flagged as a share of Entries.
func (r OfflineRow) Rate() float64 {
	if r.Entries == 0 {
		return 0
	}
	return float64(r.Flagged) / float64(r.Entries)
}

// OfflineReport is what -offline prints: legitimate populations first,
// then the farm scenarios, reported apart.
type OfflineReport struct {
	Command string       `json:"command"`
	Seed    uint64       `json:"seed"`
	Legit   []OfflineRow `json:"legit"`
	Farms   []OfflineRow `json:"farms"`
}

// simEntry is one simulated entry as the server would hold it.
type simEntry struct {
	pop      string
	id       Identity
	dev      Device
	deviceID string
	ip       string
	at       time.Time
	card     string
	address  string
	fillMS   int
}

// offlineSim accumulates populations.
type offlineSim struct {
	g       *generator
	t0      time.Time // registration opens
	entries []simEntry
	order   []string // population names, in report order
	desc    map[string]string
	legit   map[string]bool
	cards   int
	devices int
}

func (s *offlineSim) add(pop string, e simEntry) {
	e.pop = pop
	s.entries = append(s.entries, e)
}

func (s *offlineSim) population(name, desc string, legit bool) {
	s.order = append(s.order, name)
	s.desc[name] = desc
	s.legit[name] = legit
}

func (s *offlineSim) newCard() string { s.cards++; return fmt.Sprintf("card-%d", s.cards) }
func (s *offlineSim) newDevice() string {
	s.devices++
	return fmt.Sprintf("device-%d", s.devices)
}

var (
	districts = []string{"강남구", "서초구", "송파구", "마포구", "관악구", "노원구", "은평구", "강서구", "성북구", "영등포구"}
	roads     = []string{"테헤란로", "반포대로", "올림픽로", "월드컵로", "관악로", "동일로", "통일로", "공항대로", "보문로", "여의대로"}
)

// homeAddress is a runner's own address: an apartment in a large city.
func (s *offlineSim) homeAddress() string {
	g := s.g
	return fmt.Sprintf("서울 %s %s %d %d동 %d호", districts[g.pick(len(districts))], roads[g.pick(len(roads))],
		1+g.pick(400), 101+g.pick(30), 100*(1+g.pick(25))+1+g.pick(8))
}

// arrival draws a legitimate arrival: 40% in the opening hour, the rest
// over three days.
func (s *offlineSim) arrival() time.Time {
	if s.g.chance(0.4) {
		return s.t0.Add(time.Duration(s.g.pick(3600)) * time.Second)
	}
	return s.t0.Add(time.Duration(s.g.pick(72*3600)) * time.Second)
}

// legitCrowd adds botsim's legitimate crowd of n: households share an
// address and, among up to four of them, one card; a shared device is one
// device cookie; children entered on a parent's number keep it.
func (s *offlineSim) legitCrowd(n int) {
	s.population("crowd", "legitimate runners living alone (own address, card and browser)", true)
	s.population("households", "households of 2–5 behind one IP: one address, one card among up to four, some on one device", true)
	s.population("shared_phone", "children entered with a parent's phone number (within households)", true)
	pop := s.g.legitPopulation(n)
	devIDs := make([]string, len(pop.Devices))
	for i := range devIDs {
		devIDs[i] = s.newDevice()
	}
	for _, members := range pop.Households {
		addr, card := s.homeAddress(), s.newCard()
		at := s.arrival()
		for j, pi := range members {
			p := pop.People[pi]
			e := simEntry{id: p.Identity, dev: pop.Devices[p.Device], deviceID: devIDs[p.Device], ip: p.IP, at: at,
				address: addr, card: card, fillMS: p.FillMS}
			name := "households"
			switch {
			case len(members) == 1:
				name, e.address = "crowd", s.homeAddress()
			case p.SharesPhone:
				name = "shared_phone"
			}
			if j >= HouseholdCardShare {
				e.card = s.newCard()
			}
			if j > 0 {
				e.at = at.Add(time.Duration(s.g.pick(20*60)) * time.Second) // the family's evening at the laptop
			}
			s.add(name, e)
		}
	}
}

// HouseholdCardShare is how many of a household pay with one card in the
// simulation (cluster.HouseholdCard: a card on more is a farm's shape).
const HouseholdCardShare = cluster.HouseholdCard

// campus adds n students on one university domain, a share of them in one
// dormitory (one building, rooms varying), signing up over two hours
// after their club's announcement, each on their own phone and card.
func (s *offlineSim) campus(n int) {
	s.population("campus", "students on one university mail domain, 40% in one dormitory, over two hours", true)
	dorm := "서울 관악구 관악로 1 서울대학교 기숙사 919동"
	start := s.t0.Add(3 * time.Hour)
	for i := range n {
		id := s.g.person("", 19, 27, "snu.ac.kr")
		addr := s.homeAddress()
		if i%5 < 2 {
			addr = fmt.Sprintf("%s %d호", dorm, 100*(1+s.g.pick(4))+1+s.g.pick(30))
		}
		s.add("campus", simEntry{id: id, dev: s.g.humanDevice(), deviceID: s.newDevice(), ip: s.g.legitIP(),
			at: start.Add(time.Duration(s.g.pick(2*3600)) * time.Second), address: addr, card: s.newCard(),
			fillMS: s.g.humanFillMS()})
	}
}

// farmDomains are a farm's own mail domains (each mailbox real, on
// domains it registered).
var farmDomains = []string{"hanbit-mail.kr", "sorimail.net", "mailbox-seoul.com"}

// farmVaried adds n entries that vary every per-entry signal: their own
// mailboxes on a few custom domains, their own numbers from a bought block
// (in sequence, a few skipped), their own residential addresses (one
// building, the unit varied), their own residential IPs, device cookies and
// prepaid cards, and one real browser's headers and signals copied
// exactly, arriving within minutes at start.
func (s *offlineSim) farmVaried(name string, n int, start time.Time) {
	s.population(name, fmt.Sprintf("farm varying every per-entry signal (own mailboxes on %d custom domains, a bought "+
		"block of numbers, one building with the unit varied, one copied browser), arriving within minutes, "+
		"own card each", len(farmDomains)), false)
	d := s.g.humanDevice()
	a, b := 2000+s.g.pick(7000), s.g.pick(9000)
	building := fmt.Sprintf("서울 강서구 공항대로 %d %d동", 1+s.g.pick(400), 101+s.g.pick(10))
	for i := range n {
		id := s.g.person("", 20, 55, farmDomains[i%len(farmDomains)])
		id.Phone = fmt.Sprintf("010-%04d-%04d", a, b)
		b += 1 + s.g.pick(3)
		s.add(name, simEntry{id: id, dev: d, deviceID: s.newDevice(), ip: s.g.legitIP(),
			at: start.Add(time.Duration(i*8+s.g.pick(8)) * time.Second), address: fmt.Sprintf("%s %d호", building, 101+i),
			card: s.newCard(), fillMS: s.g.humanFillMS()})
	}
}

// farmSharedCard adds n entries varied in everything (common mailboxes,
// random numbers, addresses across the city, each its own browser, over a
// day) but paid with a few cards.
func (s *offlineSim) farmSharedCard(n, cards int) {
	s.population("farm_shared_card", fmt.Sprintf("farm varying everything but paying with %d cards, over a day", cards), false)
	cs := make([]string, cards)
	for i := range cs {
		cs[i] = s.newCard()
	}
	for i := range n {
		s.add("farm_shared_card", simEntry{id: s.g.person("", 20, 55, ""), dev: s.g.humanDevice(), deviceID: s.newDevice(),
			ip: s.g.legitIP(), at: s.t0.Add(time.Duration(s.g.pick(24*3600)) * time.Second), address: s.homeAddress(),
			card: cs[i%cards], fillMS: s.g.humanFillMS()})
	}
}

// farmCautious adds n entries that vary what the farm rules look at too:
// Gmail and Naver mailboxes, random numbers, addresses across the city,
// one copied browser but arrivals spread over two days, a card each.
func (s *offlineSim) farmCautious(n int) {
	s.population("farm_cautious", "farm on Gmail/Naver with random numbers, addresses across the city, one copied browser "+
		"spread over two days, a card per entry", false)
	d := s.g.humanDevice()
	for i := range n {
		dom := "gmail.com"
		if i%2 == 1 {
			dom = "naver.com"
		}
		s.add("farm_cautious", simEntry{id: s.g.person("", 20, 55, dom), dev: d, deviceID: s.newDevice(), ip: s.g.legitIP(),
			at:      s.t0.Add(time.Duration(i)*(48*time.Hour)/time.Duration(n) + time.Duration(s.g.pick(600))*time.Second),
			address: s.homeAddress(), card: s.newCard(), fillMS: s.g.humanFillMS()})
	}
}

// runOffline builds the populations and scores them with the server's rules.
func runOffline(o options) (*OfflineReport, error) {
	n := o.attempts
	if n == 0 {
		n = 40
	}
	g := newGenerator(scenarioRand(o.seed, o.run, "offline"), []SubQueue{{Key: "full:open", Course: "full",
		PaceGroup: "open", Capacity: 1}}, time.Now(), o.fingerprints == "unique")
	s := &offlineSim{g: g, t0: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), desc: map[string]string{}, legit: map[string]bool{}}
	if o.legit > 0 {
		s.legitCrowd(o.legit)
		s.campus(max(o.legit/7, 20))
	}
	s.farmVaried("farm_varied_signals", n, s.t0.Add(5*time.Hour))
	s.farmVaried("farm_varied_rush", n, s.t0.Add(10*time.Minute))
	s.farmSharedCard(n, 4)
	s.farmCautious(n)
	return s.score(o), nil
}

// score runs the apply scorer and the cluster pass over every entry.
func (s *offlineSim) score(o options) *OfflineReport {
	scorer := antibot.Scorer{Rules: antibot.DefaultRules}
	rows := make([]review.ClusterInput, 0, len(s.entries))
	in := review.FarmInputs{Cards: map[string]string{}, Addresses: map[string]string{}, EntriesPerCard: 1}
	rowsOf := map[string]*OfflineRow{}
	rep := &OfflineReport{Command: o.command, Seed: o.seed}
	for _, name := range s.order {
		rowsOf[name] = &OfflineRow{Name: name, Desc: s.desc[name], Links: map[string]int{}}
	}
	popOf := map[string]string{}
	perEntry := map[string]bool{}
	for i, e := range s.entries {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		popOf[id] = e.pop
		r := rowsOf[e.pop]
		r.Entries++
		langs, _ := json.Marshal(e.dev.Languages)
		fill := e.fillMS
		a := scorer.AssessApply(antibot.ApplyInput{Signals: antibot.Signals{Webdriver: &e.dev.Webdriver, FillMS: &fill,
			TimeZone: e.dev.TimeZone, Languages: e.dev.Languages, Screen: e.dev.Screen, Platform: e.dev.Platform,
			Fingerprint: e.dev.Fingerprint, Touch: &e.dev.Touch}, HasSignals: true, AcceptLanguage: e.dev.AcceptLang,
			UserAgent: e.dev.UserAgent, UAPlatform: e.dev.Hints["Sec-CH-UA-Platform"]})
		st := lottery.EntryReceived
		if a.Decision != antibot.Accept {
			r.PerEntry++
			perEntry[id] = true
			st = lottery.EntryInReview
		}
		key := e.id.Email
		if em, err := identity.NormalizeEmail(e.id.Email); err == nil {
			key = em.Key
		}
		phone := e.id.Phone
		if p, err := identity.NormalizePhone(e.id.Phone, "KR"); err == nil {
			phone = p
		}
		birth, _ := time.Parse(time.DateOnly, e.id.BirthDate)
		rows = append(rows, review.ClusterInput{ID: id, EmailKey: key, Phone: phone, DeviceID: e.deviceID,
			Fingerprint: e.dev.Fingerprint, ClientIP: e.ip, UserAgent: e.dev.UserAgent,
			PersonKey: identity.PersonKey(e.id.Name, birth), Status: st, Screen: e.dev.Screen, Platform: e.dev.Platform,
			TimeZone: e.dev.TimeZone, Languages: string(langs), CreatedAt: e.at})
		in.Cards[id], in.Addresses[id] = e.card, e.address
	}
	u := review.ComputeClusters(1, rows, &in)
	for _, id := range slices.Sorted(maps.Keys(popOf)) {
		r := rowsOf[popOf[id]]
		_, dev := u.Flag[id]
		_, farm := u.Farm[id]
		if dev {
			r.Device++
		}
		if farm {
			r.Farm++
		}
		if dev || farm || perEntry[id] {
			r.Flagged++
		}
	}
	// Links: how many of a population's entries are in a group of each
	// farm kind (the groups the farm rules found, review.FarmGroups).
	for k, gs := range review.FarmGroups(rows, in) {
		for _, g := range gs {
			for _, i := range g {
				rowsOf[popOf[rows[i].ID]].Links[string(k)]++
			}
		}
	}
	for _, name := range s.order {
		if s.legit[name] {
			rep.Legit = append(rep.Legit, *rowsOf[name])
		} else {
			rep.Farms = append(rep.Farms, *rowsOf[name])
		}
	}
	return rep
}

// writeText prints the offline report: legitimate populations, then the
// farms, each with per-entry, device-rule and farm-rule flags.
func (r *OfflineReport) writeText(w io.Writer) {
	fmt.Fprintf(w, "botsim -offline (seed %d): the server's apply scorer and cluster pass on simulated crowds\n", r.Seed)
	fmt.Fprintf(w, "command: %s\n\n", r.Command)
	section := func(title string, rows []OfflineRow) {
		fmt.Fprintf(w, "%s\n", title)
		fmt.Fprintf(w, "  %-22s %7s %9s %7s %7s %9s  %s\n", "population", "entries", "per-entry", "device", "farm", "flagged", "entries in a group of each kind")
		for _, x := range rows {
			var ls []string
			for _, k := range cluster.FarmKinds {
				if v := x.Links[string(k)]; v > 0 {
					ls = append(ls, fmt.Sprintf("%s %d", k, v))
				}
			}
			fmt.Fprintf(w, "  %-22s %7d %9d %7d %7d %5d %4.1f%%  %s\n", x.Name, x.Entries, x.PerEntry, x.Device, x.Farm,
				x.Flagged, 100*x.Rate(), strings.Join(ls, ", "))
		}
		fmt.Fprintln(w)
	}
	section("LEGITIMATE (flagged = sent to review by any rule)", r.Legit)
	section("FARMS (reported apart; flagged = sent to review by any rule)", r.Farms)
	for _, x := range slices.Concat(r.Legit, r.Farms) {
		fmt.Fprintf(w, "  %s: %s\n", x.Name, x.Desc)
	}
}
