package review

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery"
)

// clusterStore serves one event's cluster inputs and keeps what is saved;
// methods a test does not use panic through the nil embedded interface.
type clusterStore struct {
	Store
	rows  []ClusterInput
	saved []ClusterUpdate
}

func (c *clusterStore) ClusterInputs(context.Context, int64) ([]ClusterInput, error) {
	return c.rows, nil
}
func (c *clusterStore) SaveClusters(_ context.Context, u ClusterUpdate) (int, error) {
	c.saved = append(c.saved, u)
	return len(u.Flag), nil
}

// TestFlaggable: only entries still waiting on the draw or a slot may be
// sent to review by the sweep.
func TestFlaggable(t *testing.T) {
	want := map[lottery.EntryStatus]bool{lottery.EntryReceived: true, lottery.EntryWaitlisted: true, lottery.EntryOffered: true}
	for _, st := range []lottery.EntryStatus{lottery.EntryReceived, lottery.EntryInReview, lottery.EntryRejected,
		lottery.EntryEligible, lottery.EntrySelected, lottery.EntryWaitlisted, lottery.EntryOffered, lottery.EntryConfirmed,
		lottery.EntryDeclined, lottery.EntryExpired} {
		if got := flaggable(st); got != want[st] {
			t.Errorf("flaggable(%s) = %v, want %v", st, got, want[st])
		}
	}
}

// TestRecomputeClusters: entries sharing any key form one cluster (its id
// the smallest entry id); FlagClusterSize entries made from one device
// cookie go to review unless they are past it, while shared e-mail keys
// and an alike name with the same birth date only link.
func TestRecomputeClusters(t *testing.T) {
	var rows []ClusterInput
	for i := range FlagClusterSize { // one laptop, four different people
		st := lottery.EntryReceived
		if i == 3 {
			st = lottery.EntryInReview // already in review: not flagged again
		}
		rows = append(rows, ClusterInput{ID: fmt.Sprintf("d%d", i), EmailKey: fmt.Sprintf("p%d@example.com", i),
			Phone: fmt.Sprintf("+8210000000%d", i), DeviceID: "laptop", PersonKey: fmt.Sprintf("person%d|1990-01-01", i), Status: st})
	}
	rows = append(rows,
		ClusterInput{ID: "m1", EmailKey: "kim@example.com", DeviceID: "phone-1", PersonKey: "kim minjun|1991-02-03", Status: lottery.EntryReceived},
		ClusterInput{ID: "m2", EmailKey: "kim@example.com", DeviceID: "phone-2", PersonKey: "lee jiwoo|1985-06-07", Status: lottery.EntryReceived},
		ClusterInput{ID: "n1", EmailKey: "a@example.com", DeviceID: "tab-1", PersonKey: "kim minjun|1993-04-05", Status: lottery.EntryReceived},
		ClusterInput{ID: "n2", EmailKey: "b@example.com", DeviceID: "tab-2", PersonKey: "kim minjoon|1993-04-05", Status: lottery.EntryReceived},
		ClusterInput{ID: "z1", EmailKey: "solo@example.com", DeviceID: "own", PersonKey: "park|1970-01-01", Status: lottery.EntryReceived},
	)
	st := &clusterStore{rows: rows}
	s := NewService(st, &lottery.FixedClock{}, nil, slog.New(slog.DiscardHandler), nil)
	n, err := s.RecomputeClusters(context.Background(), lottery.Event{ID: 9, Slug: "race"})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || len(st.saved) != 1 {
		t.Fatalf("flagged %d in %d saves; want 3 in one", n, len(st.saved))
	}
	u := st.saved[0]
	wantClusters := map[string]string{"d0": "d0", "d1": "d0", "d2": "d0", "d3": "d0", "m1": "m1", "m2": "m1", "n1": "n1", "n2": "n1"}
	if d := cmp.Diff(wantClusters, u.ClusterOf); u.EventID != 9 || d != "" {
		t.Errorf("event %d, clusters (-want +got):\n%s", u.EventID, d)
	}
	if len(u.Flag) != 3 || u.Flag["d3"] != "" {
		t.Errorf("flags %v; want d0, d1, d2", u.Flag)
	}
	for _, id := range []string{"d0", "d1", "d2"} {
		if !strings.Contains(u.Flag[id], "same device") {
			t.Errorf("%s flagged with %q", id, u.Flag[id])
		}
	}
}
