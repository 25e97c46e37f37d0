package cluster

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIndexAdd(t *testing.T) {
	type step struct {
		entry Entry
		want  string // cluster ID returned by Add
	}
	tests := []struct {
		name    string
		opts    Options
		steps   []step
		want    [][]string // Clusters(1)
		wantHot []HotKey
	}{
		{
			name: "chain closes when the bridge arrives",
			steps: []step{
				{Entry{ID: "C", Links: []Link{dev("d1")}}, "C"},
				{Entry{ID: "A", Links: []Link{email("ab")}}, "A"},
				{Entry{ID: "B", Links: []Link{email("ab"), dev("d1")}}, "A"},
				{Entry{ID: "D", Links: []Link{phone("p")}}, "D"},
			},
			want: [][]string{{"A", "B", "C"}, {"D"}},
		},
		{
			name: "the cluster ID follows the smallest member",
			steps: []step{
				{Entry{ID: "m", Links: []Link{email("x")}}, "m"},
				{Entry{ID: "z", Links: []Link{email("x")}}, "m"},
				{Entry{ID: "b", Links: []Link{email("x")}}, "b"},
			},
			want: [][]string{{"b", "m", "z"}},
		},
		{
			name: "adding an ID again adds its links",
			steps: []step{
				{Entry{ID: "A", Links: []Link{email("a")}}, "A"},
				{Entry{ID: "B", Links: []Link{dev("d")}}, "B"},
				{Entry{ID: "B", Links: []Link{email("a"), dev("d")}}, "A"},
			},
			want: [][]string{{"A", "B"}},
		},
		{
			name: "a key that turns hot links no one new; its old links stay",
			opts: Options{MaxKeyFanout: 3},
			steps: []step{
				{Entry{ID: "e1", Links: []Link{fp("common")}}, "e1"},
				{Entry{ID: "e2", Links: []Link{fp("common")}}, "e1"},
				{Entry{ID: "e3", Links: []Link{fp("common"), fp("common")}}, "e1"},
				{Entry{ID: "e4", Links: []Link{fp("common")}}, "e4"},
				{Entry{ID: "e5", Links: []Link{fp("common")}}, "e5"},
			},
			want:    [][]string{{"e1", "e2", "e3"}, {"e4"}, {"e5"}},
			wantHot: []HotKey{{Link: fp("common"), Entries: 5}},
		},
		{
			name: "empty ID and empty values",
			steps: []step{
				{Entry{ID: "", Links: []Link{email("a")}}, ""},
				{Entry{ID: "A", Links: []Link{email(""), dev("")}}, "A"},
				{Entry{ID: "B", Links: []Link{email(""), dev("")}}, "B"},
			},
			want: [][]string{{"A"}, {"B"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := NewIndex(tt.opts)
			var entries []Entry
			for i, s := range tt.steps {
				if got := ix.Add(s.entry); got != s.want {
					t.Errorf("step %d: Add(%q) = %q, want %q", i, s.entry.ID, got, s.want)
				}
				entries = append(entries, s.entry)
			}
			if diff := cmp.Diff(tt.want, memberLists(ix.Clusters(1))); diff != "" {
				t.Errorf("Clusters(1) (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantHot, ix.HotKeys()); diff != "" {
				t.Errorf("HotKeys (-want +got):\n%s", diff)
			}
			for _, c := range ix.Clusters(1) {
				for _, m := range c.Members {
					if got, ok := ix.ClusterOf(m); !ok || got.ID != c.ID {
						t.Errorf("ClusterOf(%q) = %q, %v; want %q", m, got.ID, ok, c.ID)
					}
				}
			}
			want := Analyze(entries, tt.opts)
			got := ix.Snapshot()
			if diff := cmp.Diff(want.Clusters, got.Clusters); diff != "" {
				t.Errorf("Snapshot differs from Analyze (-analyze +snapshot):\n%s", diff)
			}
		})
	}
}

func TestIndexClusterOfUnknown(t *testing.T) {
	ix := NewIndex(Options{})
	ix.Add(Entry{ID: "A"})
	if c, ok := ix.ClusterOf("B"); ok {
		t.Errorf("ClusterOf(unknown) = %+v, true", c)
	}
	if c, ok := ix.Snapshot().ClusterOf("B"); ok {
		t.Errorf("Snapshot().ClusterOf(unknown) = %+v, true", c)
	}
}

func TestIndexClustersMinSize(t *testing.T) {
	ix := NewIndex(Options{})
	for _, e := range []Entry{
		{ID: "a1", Links: []Link{email("a")}}, {ID: "a2", Links: []Link{email("a")}}, {ID: "a3", Links: []Link{email("a")}},
		{ID: "b1", Links: []Link{phone("b")}}, {ID: "b2", Links: []Link{phone("b")}},
		{ID: "c1"},
	} {
		ix.Add(e)
	}
	tests := []struct {
		minSize int
		want    [][]string
	}{
		{0, [][]string{{"a1", "a2", "a3"}, {"b1", "b2"}, {"c1"}}},
		{2, [][]string{{"a1", "a2", "a3"}, {"b1", "b2"}}},
		{3, [][]string{{"a1", "a2", "a3"}}},
		{4, [][]string{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.minSize), func(t *testing.T) {
			got := ix.Clusters(tt.minSize)
			if diff := cmp.Diff(tt.want, memberLists(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestIndexMatchesAnalyze feeds shuffled inputs to an index: its Snapshot must
// equal Analyze whatever the order, and with no key hot its live clusters
// must too.
func TestIndexMatchesAnalyze(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	inputs := []struct {
		name    string
		entries []Entry
		opts    Options
	}{
		{"population", population(rng, 3000), Options{}},
		{"dense random", randomEntries(rng, 400, 50), Options{MaxKeyFanout: 5}},
		{"no limit", randomEntries(rng, 400, 200), Options{MaxKeyFanout: -1}},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			want := Analyze(in.entries, in.opts)
			for i := range 3 {
				ix := NewIndex(in.opts)
				for _, e := range shuffled(in.entries, rng) {
					ix.Add(e)
				}
				got := ix.Snapshot()
				if diff := cmp.Diff(want.Clusters, got.Clusters); diff != "" {
					t.Fatalf("order %d: Snapshot clusters (-analyze +snapshot):\n%s", i, diff)
				}
				if diff := cmp.Diff(want.HotKeys, got.HotKeys); diff != "" {
					t.Fatalf("order %d: Snapshot hot keys (-analyze +snapshot):\n%s", i, diff)
				}
				if diff := cmp.Diff(want.HotKeys, ix.HotKeys()); diff != "" {
					t.Fatalf("order %d: HotKeys (-analyze +index):\n%s", i, diff)
				}
				if len(want.HotKeys) == 0 {
					if diff := cmp.Diff(want.Clusters, ix.Clusters(1)); diff != "" {
						t.Fatalf("order %d: no hot keys, live clusters (-analyze +index):\n%s", i, diff)
					}
				}
			}
		})
	}
}

// TestIndexConcurrentAdd adds from several goroutines while others read; run
// with -race.
func TestIndexConcurrentAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	entries := population(rng, 4000)
	ix := NewIndex(Options{})
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(entries); i += workers {
				if id := ix.Add(entries[i]); id == "" {
					t.Errorf("Add(%q) returned no cluster", entries[i].ID)
				}
				if i%97 == 0 {
					ix.ClusterOf(entries[i].ID)
					ix.HotKeys()
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			ix.Clusters(2)
			ix.Snapshot()
		}
	})
	wg.Wait()
	want := Analyze(entries, Options{})
	if diff := cmp.Diff(want.Clusters, ix.Snapshot().Clusters); diff != "" {
		t.Errorf("Snapshot after concurrent adds (-analyze +snapshot):\n%s", diff)
	}
}
