package review

import (
	"fmt"
	"testing"
	"time"

	"github.com/startline/startline/antibot/cluster"
	"github.com/startline/startline/lottery"
)

func TestAddressQuestion(t *testing.T) {
	q := func(id string, k lottery.QuestionKind, en, ko string) lottery.Question {
		return lottery.Question{ID: id, Kind: k, Label: lottery.Text{EN: en, KO: ko}}
	}
	tests := []struct {
		name string
		qs   []lottery.Question
		want string
	}{
		{"none", nil, ""},
		{"English label", []lottery.Question{q("club", lottery.KindClub, "Club", ""), q("ship", lottery.KindText, "Bib shipping Address", "")}, "ship"},
		{"Korean label", []lottery.Question{q("a", lottery.KindText, "Where to", "배번 수령 주소")}, "a"},
		{"not a text question", []lottery.Question{q("c", lottery.KindCheckbox, "I confirm my address", "")}, ""},
	}
	for _, tt := range tests {
		if got := AddressQuestion(lottery.Form{Questions: tt.qs}); got != tt.want {
			t.Errorf("%s: AddressQuestion = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestCarriesShape(t *testing.T) {
	has := func(ks ...cluster.LinkKind) map[cluster.LinkKind]bool {
		m := map[cluster.LinkKind]bool{}
		for _, k := range ks {
			m[k] = true
		}
		return m
	}
	farm := []cluster.LinkKind{cluster.KindPhoneRun, cluster.KindRareDomain, cluster.KindEnvBurst}
	tests := []struct {
		name   string
		has    map[cluster.LinkKind]bool
		earned []cluster.LinkKind
		want   bool
	}{
		{"farm member with three kinds", has(cluster.KindPhoneRun, cluster.KindRareDomain, cluster.KindEnvBurst), farm, true},
		{"two kinds", has(cluster.KindPhoneRun, cluster.KindEnvBurst), farm, true},
		{"a bystander in the burst only", has(cluster.KindEnvBurst), farm, false},
		{"crowded card alone", has(cluster.KindCard), []cluster.LinkKind{cluster.KindCard}, true},
		{"crowded card beside a burst", has(cluster.KindCard), []cluster.LinkKind{cluster.KindCard, cluster.KindEnvBurst}, true},
		{"nothing", has(), farm, false},
	}
	for _, tt := range tests {
		if got := CarriesShape(tt.has, tt.earned); got != tt.want {
			t.Errorf("%s: CarriesShape = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestComputeClustersFarms: the pass's pure part flags a farm of entries
// that each look like a person (own mailboxes on a custom domain, a run of
// numbers, one building, one setup within minutes) with the reason, keeps
// a household sharing a card and an address, a campus on one domain in one
// dormitory, and a bystander whose phone setup arrived in the farm's
// minutes, out of review, and gives the reviewer the links.
func TestComputeClustersFarms(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	var rows []ClusterInput
	in := FarmInputs{Cards: map[string]string{}, Addresses: map[string]string{}, EntriesPerCard: 1}
	add := func(id, email, phone, ua string, at time.Time, card, addr string) {
		rows = append(rows, ClusterInput{ID: id, EmailKey: email, Phone: phone, DeviceID: "dev-" + id, UserAgent: ua,
			Screen: "390x844", Platform: "iPhone", TimeZone: "Asia/Seoul", Languages: `["ko-KR"]`, CreatedAt: at,
			Status: lottery.EntryReceived})
		in.Cards[id], in.Addresses[id] = card, addr
	}
	for i := range 200 { // a background crowd over three days, varied setups
		add(fmt.Sprintf("c%03d", i), fmt.Sprintf("c%d@gmail.com", i), fmt.Sprintf("+8210%08d", 1000000+i*7919),
			fmt.Sprintf("UA %d", i%30), t0.Add(time.Duration(i)*20*time.Minute), fmt.Sprintf("card-c%d", i),
			fmt.Sprintf("%d main st apt %d", i, i))
	}
	for i := range 8 {
		add(fmt.Sprintf("f%d", i), fmt.Sprintf("f%d@farm-mail.kr", i), fmt.Sprintf("+821055550%03d", 100+2*i), "Farm UA",
			t0.Add(time.Hour+time.Duration(i)*30*time.Second), fmt.Sprintf("card-f%d", i), fmt.Sprintf("1 tower rd unit %d", i))
	}
	add("b0", "bystander@gmail.com", "+821099887766", "Farm UA", t0.Add(time.Hour+2*time.Minute), "card-b", "9 elm st")
	for i := range 3 {
		add(fmt.Sprintf("h%d", i), fmt.Sprintf("h%d@naver.com", i), fmt.Sprintf("+82103%07d", 1234567+i*4111), "UA 1",
			t0.Add(30*time.Hour+time.Duration(i)*time.Minute), "card-home", "12 main st apt 5")
	}
	for i := range 30 {
		add(fmt.Sprintf("s%02d", i), fmt.Sprintf("s%d@snu.ac.kr", i), fmt.Sprintf("+82104%07d", 100000+i*33331),
			fmt.Sprintf("UA %d", i%30), t0.Add(40*time.Hour+time.Duration(i)*4*time.Minute), fmt.Sprintf("card-s%d", i),
			fmt.Sprintf("1 gwanak-ro dorm 919 room %d", 100+i))
	}
	u := ComputeClusters(7, rows, &in)
	for i := range 8 {
		r, ok := u.Farm[fmt.Sprintf("f%d", i)]
		if !ok || r.Code != ReasonFarmCluster || r.Points < 50 {
			t.Fatalf("farm entry f%d: %+v %v", i, r, ok)
		}
	}
	if len(u.Farm) != 8 {
		t.Errorf("flagged %d, want the 8 farm entries: %v", len(u.Farm), u.Farm)
	}
	want := "one of 9 linked entries: phone numbers in sequence (8 entries); same rare mail domain (8 entries); " +
		"same address but the unit (8 entries); same device setup within 10 minutes (9 entries)"
	if got := u.Farm["f0"].Detail; got != want {
		t.Errorf("reason %q\nwant   %q", got, want)
	}
	if links := u.Links[u.ClusterOf["h0"]]; len(links) == 0 || links[0].Kind != cluster.KindCard {
		t.Errorf("household links %+v", links)
	}
}
