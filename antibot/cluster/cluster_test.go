package cluster

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAnalyze(t *testing.T) {
	campus := IPUALink("203.0.113.7", "Mozilla/5.0 (iPhone) Safari/604.1")
	router := "198.51.100.23"
	tests := []struct {
		name    string
		entries []Entry
		opts    Options
		want    [][]string
		wantHot []HotKey
	}{
		{
			name: "chain: A–B by e-mail, B–C by device",
			entries: []Entry{
				{ID: "C", Links: []Link{dev("d1"), email("c@example.com")}},
				{ID: "A", Links: []Link{email("ab@example.com")}},
				{ID: "B", Links: []Link{email("ab@example.com"), dev("d1")}},
			},
			want: [][]string{{"A", "B", "C"}},
		},
		{
			name: "separate people stay separate",
			entries: []Entry{
				{ID: "A", Links: []Link{email("a@example.com"), phone("+821011112222"), fp("f1"), dev("d1"), IPUALink("1.1.1.1", "ua")}},
				{ID: "B", Links: []Link{email("b@example.com"), phone("+821033334444"), fp("f2"), dev("d2"), IPUALink("2.2.2.2", "ua")}},
			},
			want: singles("A", "B"),
		},
		{
			name: "family of four behind one router, different browsers",
			entries: many(4, "fam", func(i int) []Link {
				return []Link{email(fmt.Sprintf("member%d@example.com", i)), IPUALink(router, fmt.Sprintf("browser-%d", i))}
			}),
			want: singles(ids(4, "fam")...),
		},
		{
			name: "same router and same browser do link",
			entries: many(2, "fam", func(int) []Link {
				return []Link{IPUALink(router, "same-browser")}
			}),
			want: [][]string{{"fam00", "fam01"}},
		},
		{
			name: "an IP without a user agent links nothing",
			entries: many(3, "n", func(int) []Link {
				return []Link{IPUALink(router, ""), IPUALink("", "ua")}
			}),
			want: singles(ids(3, "n")...),
		},
		{
			name: "40 entries on one IP+UA: hot key, no merge",
			entries: many(40, "c", func(i int) []Link {
				return []Link{campus, email(fmt.Sprintf("student%d@example.ac.kr", i))}
			}),
			want:    singles(ids(40, "c")...),
			wantHot: []HotKey{{Link: campus, Entries: 40}},
		},
		{
			name: "a hot key does not undo other links",
			entries: concat(
				many(38, "c", func(int) []Link { return []Link{campus} }),
				[]Entry{
					{ID: "x1", Links: []Link{campus, phone("+821055556666")}},
					{ID: "x2", Links: []Link{campus, phone("+821055556666")}},
				},
			),
			want:    append([][]string{{"x1", "x2"}}, singles(ids(38, "c")...)...),
			wantHot: []HotKey{{Link: campus, Entries: 40}},
		},
		{
			name:    "exactly MaxKeyFanout entries still link",
			entries: many(25, "k", func(int) []Link { return []Link{campus} }),
			want:    [][]string{ids(25, "k")},
		},
		{
			name:    "one more than MaxKeyFanout is hot",
			entries: many(26, "k", func(int) []Link { return []Link{campus} }),
			want:    singles(ids(26, "k")...),
			wantHot: []HotKey{{Link: campus, Entries: 26}},
		},
		{
			name:    "custom fanout",
			entries: concat(many(3, "a", func(int) []Link { return []Link{fp("three")} }), many(4, "b", func(int) []Link { return []Link{fp("four")} })),
			opts:    Options{MaxKeyFanout: 3},
			want:    append([][]string{ids(3, "a")}, singles(ids(4, "b")...)...),
			wantHot: []HotKey{{Link: fp("four"), Entries: 4}},
		},
		{
			name:    "negative fanout: no limit",
			entries: many(40, "c", func(int) []Link { return []Link{campus} }),
			opts:    Options{MaxKeyFanout: -1},
			want:    [][]string{ids(40, "c")},
		},
		{
			name: "per-kind override: a shared device cookie always links",
			entries: many(40, "f", func(int) []Link {
				return []Link{dev("farm-cookie"), campus}
			}),
			opts:    Options{PerKind: map[LinkKind]int{KindDevice: -1}},
			want:    [][]string{ids(40, "f")},
			wantHot: []HotKey{{Link: campus, Entries: 40}},
		},
		{
			name: "per-kind zero falls back to MaxKeyFanout",
			entries: many(3, "z", func(int) []Link {
				return []Link{dev("d")}
			}),
			opts:    Options{MaxKeyFanout: 2, PerKind: map[LinkKind]int{KindDevice: 0}},
			want:    singles(ids(3, "z")...),
			wantHot: []HotKey{{Link: dev("d"), Entries: 3}},
		},
		{
			name: "a key repeated in one entry counts once toward the fanout",
			entries: many(25, "k", func(i int) []Link {
				if i == 0 {
					return []Link{campus, campus, campus}
				}
				return []Link{campus}
			}),
			want: [][]string{ids(25, "k")},
		},
		{
			name: "empty values are ignored",
			entries: many(30, "e", func(int) []Link {
				return []Link{fp(""), dev(""), {Kind: KindEmail}}
			}),
			want: singles(ids(30, "e")...),
		},
		{
			name: "kinds are namespaces",
			entries: []Entry{
				{ID: "A", Links: []Link{email("x")}},
				{ID: "B", Links: []Link{phone("x")}},
			},
			want: singles("A", "B"),
		},
		{
			name: "repeated ID is one entry with the union of its links",
			entries: []Entry{
				{ID: "A", Links: []Link{email("a")}},
				{ID: "B", Links: []Link{dev("d")}},
				{ID: "A", Links: []Link{dev("d")}},
				{ID: "C", Links: []Link{email("a")}},
			},
			want: [][]string{{"A", "B", "C"}},
		},
		{
			name: "a repeated ID counts once toward the fanout",
			entries: concat(
				many(25, "k", func(int) []Link { return []Link{campus} }),
				[]Entry{{ID: "k00", Links: []Link{campus}}},
			),
			want: [][]string{ids(25, "k")},
		},
		{
			name: "entries without an ID are ignored",
			entries: []Entry{
				{ID: "", Links: []Link{email("a")}},
				{ID: "A", Links: []Link{email("a")}},
			},
			want: singles("A"),
		},
		{
			name:    "no entries",
			entries: nil,
			want:    [][]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(tt.entries, tt.opts)
			if diff := cmp.Diff(tt.want, memberLists(r.Clusters)); diff != "" {
				t.Errorf("clusters (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantHot, r.HotKeys); diff != "" {
				t.Errorf("hot keys (-want +got):\n%s", diff)
			}
			for _, c := range r.Clusters {
				if c.ID != c.Members[0] || c.Shape.Size != len(c.Members) {
					t.Errorf("cluster %q: size %d, members %v", c.ID, c.Shape.Size, c.Members)
				}
				for _, m := range c.Members {
					got, ok := r.ClusterOf(m)
					if !ok || got.ID != c.ID {
						t.Errorf("ClusterOf(%q) = %q, %v; want %q", m, got.ID, ok, c.ID)
					}
				}
			}
			if diff := cmp.Diff(memberLists(r.Clusters), memberLists(Build(tt.entries, tt.opts))); diff != "" {
				t.Errorf("Build differs from Analyze (-analyze +build):\n%s", diff)
			}
		})
	}
}

func TestShape(t *testing.T) {
	hot := IPUALink("203.0.113.7", "popular-browser")
	entries := concat(
		[]Entry{
			{ID: "A", Links: []Link{email("a"), phone("p1"), dev("d1"), fp("f1"), hot}},
			{ID: "B", Links: []Link{email("a"), phone("p2"), dev("d2"), fp("f1")}},
			{ID: "C", Links: []Link{email("c"), phone("p2"), dev("d3"), fp("f2"), {Kind: KindNameBirth, Value: "kim|1990-01-02"}}},
			{ID: "L", Links: []Link{email("l"), phone("p9")}},
		},
		many(25, "n", func(int) []Link { return []Link{hot} }),
	)
	tests := []struct {
		id   string
		want Cluster
	}{
		{"B", Cluster{ID: "A", Members: []string{"A", "B", "C"}, Shape: Shape{
			Size:     3,
			SharedBy: map[LinkKind]int{KindEmail: 1, KindPhone: 1, KindFingerprint: 1},
			// e-mails a, c; phones p1, p2; devices d1..d3; fingerprints f1, f2.
			DistinctEmails: 2, DistinctPhones: 2, DistinctDevices: 3, DistinctFingerprints: 2,
			HotKeys: 1,
		}}},
		{"L", Cluster{ID: "L", Members: []string{"L"}, Shape: Shape{Size: 1, DistinctEmails: 1, DistinctPhones: 1}}},
		{"n07", Cluster{ID: "n07", Members: []string{"n07"}, Shape: Shape{Size: 1, HotKeys: 1}}},
		{"n24", Cluster{ID: "n24", Members: []string{"n24"}, Shape: Shape{Size: 1, HotKeys: 1}}},
	}
	r := Analyze(entries, Options{})
	if diff := cmp.Diff([]HotKey{{Link: hot, Entries: 26}}, r.HotKeys); diff != "" {
		t.Errorf("hot keys (-want +got):\n%s", diff)
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got, ok := r.ClusterOf(tt.id)
			if !ok {
				t.Fatalf("ClusterOf(%q): not found", tt.id)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Analyze (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnalyzeOrderIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := []struct {
		name    string
		entries []Entry
		opts    Options
	}{
		{"population", population(rng, 5000), Options{}},
		{"dense random, fanout 4", randomEntries(rng, 400, 60), Options{MaxKeyFanout: 4}},
		{"dense random, per kind", randomEntries(rng, 400, 40), Options{MaxKeyFanout: 8, PerKind: map[LinkKind]int{KindDevice: -1, KindIPUA: 3}}},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			want := Analyze(in.entries, in.opts)
			if len(want.HotKeys) == 0 || len(want.Clusters) == len(in.entries) {
				t.Fatalf("input too easy: %d hot keys, %d clusters for %d entries", len(want.HotKeys), len(want.Clusters), len(in.entries))
			}
			for i := range 5 {
				es := shuffled(in.entries, rng)
				got := Analyze(es, in.opts)
				if diff := cmp.Diff(want.Clusters, got.Clusters); diff != "" {
					t.Fatalf("shuffle %d: clusters differ (-first +shuffled):\n%s", i, diff)
				}
				if diff := cmp.Diff(want.HotKeys, got.HotKeys); diff != "" {
					t.Fatalf("shuffle %d: hot keys differ (-first +shuffled):\n%s", i, diff)
				}
				for _, e := range es {
					w, _ := want.ClusterOf(e.ID)
					g, _ := got.ClusterOf(e.ID)
					if w.ID != g.ID {
						t.Fatalf("shuffle %d: ClusterOf(%q) = %q, want %q", i, e.ID, g.ID, w.ID)
					}
				}
			}
		})
	}
}

// TestAnalyzeMatchesReference checks Analyze against a direct, slow
// implementation of the definition on random dense inputs.
func TestAnalyzeMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 30 {
		entries := randomEntries(rng, 50+rng.IntN(300), 10+rng.IntN(80))
		opts := Options{MaxKeyFanout: rng.IntN(12) - 1}
		if i%3 == 0 {
			opts.PerKind = map[LinkKind]int{KindPhone: rng.IntN(4) + 1, KindDevice: -1}
		}
		t.Run(fmt.Sprintf("%d", i), func(t *testing.T) {
			want, wantHot := reference(entries, opts)
			got := Analyze(entries, opts)
			if diff := cmp.Diff(want, got.Clusters); diff != "" {
				t.Errorf("clusters (-reference +Analyze):\n%s", diff)
			}
			if diff := cmp.Diff(wantHot, got.HotKeys); diff != "" {
				t.Errorf("hot keys (-reference +Analyze):\n%s", diff)
			}
		})
	}
}

// reference clusters entries straight from the definition: count each key's
// distinct entries, drop the hot keys, take connected components by search,
// and describe each component from its members' link sets.
func reference(entries []Entry, o Options) ([]Cluster, []HotKey) {
	linksOf := map[string]map[Link]bool{}
	holders := map[Link]map[string]bool{}
	for _, e := range entries {
		if e.ID == "" {
			continue
		}
		if linksOf[e.ID] == nil {
			linksOf[e.ID] = map[Link]bool{}
		}
		for _, l := range e.Links {
			if l.Value == "" {
				continue
			}
			linksOf[e.ID][l] = true
			if holders[l] == nil {
				holders[l] = map[string]bool{}
			}
			holders[l][e.ID] = true
		}
	}
	hot := map[Link]bool{}
	var hotKeys []HotKey
	for l, hs := range holders {
		if o.tooCommon(l.Kind, int32(len(hs))) {
			hot[l] = true
			hotKeys = append(hotKeys, HotKey{Link: l, Entries: len(hs)})
		}
	}
	slices.SortFunc(hotKeys, compareHotKeys)

	seen := map[string]bool{}
	var clusters []Cluster
	for id := range linksOf {
		if seen[id] {
			continue
		}
		seen[id] = true
		members := []string{id}
		for queue := []string{id}; len(queue) > 0; queue = queue[1:] {
			for l := range linksOf[queue[0]] {
				if hot[l] {
					continue
				}
				for h := range holders[l] {
					if !seen[h] {
						seen[h] = true
						members = append(members, h)
						queue = append(queue, h)
					}
				}
			}
		}
		slices.Sort(members)
		sh := Shape{Size: len(members)}
		keys := map[Link]bool{}
		for _, m := range members {
			for l := range linksOf[m] {
				keys[l] = true
			}
		}
		distinct := map[LinkKind]int{}
		for l := range keys {
			distinct[l.Kind]++
			switch {
			case hot[l]:
				sh.HotKeys++
			case len(holders[l]) >= 2:
				if sh.SharedBy == nil {
					sh.SharedBy = map[LinkKind]int{}
				}
				sh.SharedBy[l.Kind]++
			}
		}
		sh.DistinctEmails, sh.DistinctPhones = distinct[KindEmail], distinct[KindPhone]
		sh.DistinctDevices, sh.DistinctFingerprints = distinct[KindDevice], distinct[KindFingerprint]
		clusters = append(clusters, Cluster{ID: members[0], Members: members, Shape: sh})
	}
	slices.SortFunc(clusters, func(a, b Cluster) int { return compareClusters(&a, &b) })
	return clusters, hotKeys
}

func TestIPUALink(t *testing.T) {
	tests := []struct {
		ip, ua string
		want   Link
	}{
		{"1.2.3.4", "Mozilla", Link{KindIPUA, "1.2.3.4\x00Mozilla"}},
		{"1.2.3.4", "", Link{Kind: KindIPUA}},
		{"", "Mozilla", Link{Kind: KindIPUA}},
	}
	for _, tt := range tests {
		if got := IPUALink(tt.ip, tt.ua); got != tt.want {
			t.Errorf("IPUALink(%q, %q) = %q, want %q", tt.ip, tt.ua, got, tt.want)
		}
	}
}

// TestAnalyzeHashCollisions narrows the key hash so that links collide all
// the time: results must not change.
func TestAnalyzeHashCollisions(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	entries := randomEntries(rng, 300, 40)
	opts := Options{MaxKeyFanout: 5}
	want := Analyze(entries, opts)
	for _, mask := range []uint64{0, 1, 0xf, 0xff} {
		t.Run(fmt.Sprintf("mask %#x", mask), func(t *testing.T) {
			got := analyze(entries, opts, mask)
			if diff := cmp.Diff(want.Clusters, got.Clusters); diff != "" {
				t.Errorf("clusters (-full hash +narrow):\n%s", diff)
			}
			if diff := cmp.Diff(want.HotKeys, got.HotKeys); diff != "" {
				t.Errorf("hot keys (-full hash +narrow):\n%s", diff)
			}
		})
	}
}
