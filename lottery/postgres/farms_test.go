package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/startline/startline/antibot/cluster"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/review"
)

// TestFarmClusters: six entries with their own names and mailboxes that
// share one card, a run of phone numbers and a custom mail domain are sent
// to review with the farm reason and their links stored for the reviewer;
// a household of three sharing a card and a pickup address, and runners on
// their own, are left alone.
func TestFarmClusters(t *testing.T) {
	f := newApplyFixture(t, lottery.PaceGroupSpec{Code: "a", Label: "A", Capacity: 100})
	ctx := context.Background()
	db := f.store.DB()
	apply := func(n int, email, phone string) string {
		t.Helper()
		e := f.entry(t, n, "a")
		e.Email, e.EmailKey, e.Phone = email, email, phone
		if _, err := f.apply(e, f.giveCode(t, email)); err != nil {
			t.Fatalf("apply %s: %v", email, err)
		}
		return e.ID
	}
	card := func(id, fp string) {
		t.Helper()
		if err := db.Exec(`INSERT INTO entry_cards (entry_id, event_id, provider, setup_id, fingerprint)
			VALUES (?, ?, 'sandbox', ?, ?)`, id, f.ev.ID, "seti_"+id, fp).Error; err != nil {
			t.Fatal(err)
		}
	}
	address := func(id, addr string) {
		t.Helper()
		if err := db.Exec(`UPDATE entries SET answers = jsonb_build_object('pickup', ?::text) WHERE id = ?`, addr, id).Error; err != nil {
			t.Fatal(err)
		}
	}
	var farm []string
	for i := range 6 {
		id := apply(100+i, fmt.Sprintf("runner.%d@fastmail-kr.net", i), fmt.Sprintf("+82105555%04d", 101+2*i))
		card(id, "fp-farm")
		address(id, fmt.Sprintf("Seoul Mapo-gu Worldcup-ro %d", 10+i*7)) // varied buildings
		farm = append(farm, id)
	}
	var home []string
	for i, p := range []string{"+821038471122", "+821091234480", "+821038471123"} { // a child on a number next to a parent's
		id := apply(200+i, fmt.Sprintf("family%d@naver.com", i), p)
		card(id, "fp-home")
		address(id, []string{"12 Main St Apt 5", "12 main st, apt 5", "12 MAIN ST APT 5"}[i])
		home = append(home, id)
	}
	var solo []string
	for i, p := range []string{"+821071717171", "+821028282828", "+821063636363"} {
		id := apply(300+i, fmt.Sprintf("solo%d@gmail.com", i), p)
		card(id, fmt.Sprintf("fp-solo-%d", i))
		solo = append(solo, id)
	}

	ev := f.ev
	ev.Form.Questions = append(ev.Form.Questions, lottery.Question{ID: "pickup", Kind: lottery.KindText,
		Label: lottery.Text{EN: "Bib shipping address", KO: "배번 배송 주소"}})
	svc := review.NewService(f.store, f.clk, nil, slog.New(slog.DiscardHandler), nil)
	n, err := svc.RecomputeClusters(ctx, ev)
	if err != nil || n != len(farm) {
		t.Fatalf("flagged %d, %v; want %d", n, err, len(farm))
	}
	status := func(id string) (st, cid, reasons string) {
		t.Helper()
		if err := db.Raw(`SELECT status, coalesce(cluster_id::text, ''), risk_reasons::text FROM entries WHERE id = ?`, id).
			Row().Scan(&st, &cid, &reasons); err != nil {
			t.Fatal(err)
		}
		return
	}
	_, farmCluster, _ := status(farm[0])
	for _, id := range farm {
		st, cid, reasons := status(id)
		if st != "in_review" || cid != farmCluster || !containsAll(reasons, review.ReasonFarmCluster, "share a card",
			"phone numbers in sequence", "same rare mail domain") {
			t.Errorf("farm entry: %s %s %s", st, cid, reasons)
		}
	}
	_, homeCluster, _ := status(home[0])
	for _, id := range slices.Concat(home, solo) {
		if st, _, reasons := status(id); st != "received" || containsAll(reasons, review.ReasonFarmCluster) {
			t.Errorf("household or solo entry flagged: %s %s", st, reasons)
		}
	}
	acct := f.org
	acct.Role = lottery.RoleOrganizer
	links, err := svc.ClusterLinks(ctx, acct, "race", farmCluster)
	if err != nil {
		t.Fatal(err)
	}
	want := []review.ClusterLink{{Kind: cluster.KindCard, Groups: 1, Entries: 6}, {Kind: cluster.KindPhoneRun, Groups: 1, Entries: 6},
		{Kind: cluster.KindRareDomain, Groups: 1, Entries: 6}}
	if !slices.Equal(links, want) {
		t.Errorf("farm links %+v, want %+v", links, want)
	}
	links, err = svc.ClusterLinks(ctx, acct, "race", homeCluster)
	if err != nil || !slices.Equal(links, []review.ClusterLink{{Kind: cluster.KindCard, Groups: 1, Entries: 3},
		{Kind: cluster.KindAddress, Groups: 1, Entries: 3}}) {
		t.Errorf("household links %+v, %v", links, err)
	}
	if n, err := svc.RecomputeClusters(ctx, ev); err != nil || n != 0 {
		t.Errorf("second pass flagged %d, %v", n, err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
