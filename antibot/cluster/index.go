package cluster

import (
	"maps"
	"slices"
	"sync"
)

// Index links entries as they arrive, for a provisional cluster at apply
// time without re-reading the event. It is safe for concurrent use.
//
// Incremental linking cannot know the future, so it differs from Analyze in
// one way: a key links every entry that carries it until it is carried by
// more than the fanout allows; from then on it is hot, links no further
// entries and is listed by HotKeys, but the links it already made stay
// (a union-find cannot split). A hot key can therefore hold together up to
// MaxKeyFanout entries that Analyze would keep apart, and which ones depends
// on arrival order; such clusters have Shape.HotKeys > 0. While no key is
// hot, Index and Analyze agree exactly. For decisions and the review queue
// use Snapshot (or Build), which is exact and order-independent.
type Index struct {
	mu      sync.Mutex
	opts    Options
	g       graph
	f       forest
	first   []int32 // key → first node that carried it
	next    []int32 // node → next member of its cluster (a circular list)
	minNode []int32 // root → member with the smallest ID
	sh      shaper
}

// NewIndex returns an empty index that links under o.
func NewIndex(o Options) *Index {
	o.PerKind = maps.Clone(o.PerKind)
	return &Index{opts: o, g: newGraph(0, 0)}
}

// Add links e to the entries seen so far and returns its cluster ID, the
// smallest member ID at this moment (a later entry may join with a smaller
// one). Adding an ID again adds the new links to that entry. An entry with
// an empty ID is ignored and gets "". Each link costs amortised O(α(n)),
// plus a scan of the entry's own links to skip repeats.
func (ix *Index) Add(e Entry) (clusterID string) {
	if e.ID == "" {
		return ""
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	g := &ix.g
	n, isNew := g.node(e.ID)
	if isNew {
		g.nodeKeys = append(g.nodeKeys, nil)
		ix.f.add()
		ix.next = append(ix.next, n)
		ix.minNode = append(ix.minNode, n)
	}
	for _, l := range e.Links {
		if l.Value == "" {
			continue
		}
		k, isNewKey := g.key(l)
		if isNewKey {
			ix.first = append(ix.first, n)
		} else if slices.Contains(g.nodeKeys[n], k) {
			continue
		}
		g.nodeKeys[n] = append(g.nodeKeys[n], k)
		g.count[k]++
		if g.hot[k] {
			continue
		}
		if ix.opts.tooCommon(l.Kind, g.count[k]) {
			g.hot[k] = true
			continue
		}
		ix.union(ix.first[k], n)
	}
	return g.ids[ix.minNode[ix.f.find(n)]]
}

// union merges the clusters of a and b, keeping the member list and the
// smallest ID at the surviving root.
func (ix *Index) union(a, b int32) {
	root, absorbed, ok := ix.f.union(a, b)
	if !ok {
		return
	}
	ix.next[root], ix.next[absorbed] = ix.next[absorbed], ix.next[root]
	if m := ix.minNode[absorbed]; ix.g.ids[m] < ix.g.ids[ix.minNode[root]] {
		ix.minNode[root] = m
	}
}

// ClusterOf returns the current cluster of entry id, and false if id was
// never added. It costs O(links of the cluster).
func (ix *Index) ClusterOf(id string) (Cluster, bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	n, ok := ix.g.nodeOf[id]
	if !ok {
		return Cluster{}, false
	}
	return ix.cluster(ix.f.find(n)), true
}

// Clusters returns the current clusters with at least minSize members,
// largest first, then by ID. Clusters(2) is the linked entries only.
func (ix *Index) Clusters(minSize int) []Cluster {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var cs []Cluster
	for n := range ix.f.parent {
		if ix.f.parent[n] == int32(n) && int(ix.f.size[n]) >= minSize {
			cs = append(cs, ix.cluster(int32(n)))
		}
	}
	slices.SortFunc(cs, func(a, b Cluster) int { return compareClusters(&a, &b) })
	return cs
}

// cluster builds the cluster rooted at root. The caller holds mu.
func (ix *Index) cluster(root int32) Cluster {
	nodes := make([]int32, 0, ix.f.size[root])
	for n := root; ; {
		nodes = append(nodes, n)
		if n = ix.next[n]; n == root {
			break
		}
	}
	members := make([]string, len(nodes))
	for i, n := range nodes {
		members[i] = ix.g.ids[n]
	}
	slices.Sort(members)
	return Cluster{ID: members[0], Members: members, Shape: ix.sh.shape(&ix.g, nodes)}
}

// HotKeys returns the keys that have exceeded the fanout so far, sorted by
// kind, then value, with the number of entries carrying each now.
func (ix *Index) HotKeys() []HotKey {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.g.hotKeys()
}

// Snapshot clusters everything added so far exactly as Analyze would: keys
// hot now link nothing, whenever they became hot. It costs O(L α(L)) for L
// links, like Analyze, and does not change the index.
func (ix *Index) Snapshot() *Result {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	r := ix.g.result()
	r.nodeOf = maps.Clone(ix.g.nodeOf)
	return r
}
