package cluster

import (
	"hash/maphash"
	"math"
	"slices"
)

// graph is the entry–key incidence Analyze builds: nodes are
// entries, keys are interned links.
type graph struct {
	ids      []string         // node → entry ID
	nodeOf   map[string]int32 // entry ID → node
	nodeKeys [][]int32        // node → the distinct keys it carries
	keyOf    map[uint64]int32 // hash of link → key (the first link with that hash)
	collided map[Link]int32   // link → key, for links whose hash another link has
	seed     maphash.Seed
	hashMask uint64  // all ones; tests narrow it to force collisions
	links    []Link  // key → link
	count    []int32 // key → distinct entries carrying it
	hot      []bool  // key → too common to link
}

// node returns the node of entry id, adding it if new.
func (g *graph) node(id string) (n int32, isNew bool) {
	if n, ok := g.nodeOf[id]; ok {
		return n, false
	}
	n = int32(len(g.ids))
	g.ids = append(g.ids, id)
	g.nodeOf[id] = n
	return n, true
}

// newGraph returns an empty graph sized for about nodes entries and keys
// links.
func newGraph(nodes, keys int) graph {
	return graph{
		ids:      make([]string, 0, nodes),
		nodeOf:   make(map[string]int32, nodes),
		nodeKeys: make([][]int32, 0, nodes),
		keyOf:    make(map[uint64]int32, keys),
		links:    make([]Link, 0, keys),
		count:    make([]int32, 0, keys),
		hot:      make([]bool, 0, keys),
		seed:     maphash.MakeSeed(),
		hashMask: ^uint64(0),
	}
}

// key returns the key of l, interning it if new. Keys are found by a 64-bit
// hash, which keeps the big map free of pointers (cheap for the collector)
// and its probes short; the rare link whose hash is taken goes to collided.
func (g *graph) key(l Link) (k int32, isNew bool) {
	h := maphash.Comparable(g.seed, l) & g.hashMask
	k, ok := g.keyOf[h]
	switch {
	case !ok:
		k = g.newKey(l)
		g.keyOf[h] = k
		return k, true
	case g.links[k] == l:
		return k, false
	}
	if k, ok := g.collided[l]; ok {
		return k, false
	}
	if g.collided == nil {
		g.collided = make(map[Link]int32)
	}
	k = g.newKey(l)
	g.collided[l] = k
	return k, true
}

// newKey appends l as a new key.
func (g *graph) newKey(l Link) int32 {
	k := int32(len(g.links))
	g.links = append(g.links, l)
	g.count = append(g.count, 0)
	g.hot = append(g.hot, false)
	return k
}

// result links every node through its non-hot keys and returns the clusters
// and hot keys, in canonical order. It reads g and does not keep it; the
// caller sets Result.nodeOf.
func (g *graph) result() *Result {
	n := len(g.ids)
	f := newForest(n)
	first := make([]int32, len(g.links))
	for i := range first {
		first[i] = -1
	}
	for node, keys := range g.nodeKeys {
		for _, k := range keys {
			if g.hot[k] {
				continue
			}
			if first[k] < 0 {
				first[k] = int32(node)
			} else {
				f.union(first[k], int32(node))
			}
		}
	}

	// Number the clusters and lay their members out contiguously
	// (a counting sort by cluster).
	clusterOf := make([]int32, n)
	rootCluster := make([]int32, n)
	for i := range rootCluster {
		rootCluster[i] = -1
	}
	var off []int32 // cluster sizes, then start offsets
	for node := range n {
		r := f.find(int32(node))
		c := rootCluster[r]
		if c < 0 {
			c = int32(len(off))
			rootCluster[r] = c
			off = append(off, 0)
		}
		clusterOf[node] = c
		off[c]++
	}
	var sum int32
	for c, size := range off {
		off[c] = sum
		sum += size
	}
	off = append(off, sum)
	pos := slices.Clone(off[:len(off)-1])
	memberNodes := make([]int32, n)
	for node, c := range clusterOf {
		memberNodes[pos[c]] = int32(node)
		pos[c]++
	}

	names := make([]string, n)
	clusters := make([]Cluster, len(off)-1)
	var sh shaper
	for c := range clusters {
		lo, hi := off[c], off[c+1]
		nodes := memberNodes[lo:hi]
		members := names[lo:hi:hi]
		for i, node := range nodes {
			members[i] = g.ids[node]
		}
		slices.Sort(members)
		clusters[c] = Cluster{ID: members[0], Members: members, Shape: sh.shape(g, nodes)}
	}

	// Sort the clusters and renumber clusterOf to match.
	order := make([]int32, len(clusters))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return compareClusters(&clusters[a], &clusters[b]) })
	sorted := make([]Cluster, len(clusters))
	rank := make([]int32, len(clusters))
	for i, c := range order {
		sorted[i] = clusters[c]
		rank[c] = int32(i)
	}
	for node, c := range clusterOf {
		clusterOf[node] = rank[c]
	}

	return &Result{Clusters: sorted, HotKeys: g.hotKeys(), clusterOf: clusterOf}
}

// hotKeys lists the hot keys in canonical order.
func (g *graph) hotKeys() []HotKey {
	var hk []HotKey
	for k, hot := range g.hot {
		if hot {
			hk = append(hk, HotKey{Link: g.links[k], Entries: int(g.count[k])})
		}
	}
	slices.SortFunc(hk, compareHotKeys)
	return hk
}

// shaper computes cluster shapes, reusing one stamp per key across calls so
// that finding a cluster's distinct keys costs only the cluster's links.
type shaper struct {
	stamp []int32 // key → gen of the last shape that saw it
	gen   int32
}

// shape describes the cluster made of nodes. Every non-hot key of a member
// is carried only by members (it linked them all), so count ≥ 2 means it
// joins members.
func (s *shaper) shape(g *graph, nodes []int32) Shape {
	if len(s.stamp) < len(g.links) {
		s.stamp = append(s.stamp, make([]int32, len(g.links)-len(s.stamp))...)
	}
	if s.gen == math.MaxInt32 {
		clear(s.stamp)
		s.gen = 0
	}
	s.gen++
	sh := Shape{Size: len(nodes)}
	for _, node := range nodes {
		for _, k := range g.nodeKeys[node] {
			if s.stamp[k] == s.gen {
				continue
			}
			s.stamp[k] = s.gen
			kind := g.links[k].Kind
			switch kind {
			case KindEmail:
				sh.DistinctEmails++
			case KindPhone:
				sh.DistinctPhones++
			case KindDevice:
				sh.DistinctDevices++
			case KindFingerprint:
				sh.DistinctFingerprints++
			}
			switch {
			case g.hot[k]:
				sh.HotKeys++
			case g.count[k] >= 2:
				if sh.SharedBy == nil {
					sh.SharedBy = make(map[LinkKind]int)
				}
				sh.SharedBy[kind]++
			}
		}
	}
	return sh
}

// forest is a union-find over nodes 0..n-1 with union by size and path
// compression, so a union or find costs amortised O(α(n)).
type forest struct {
	parent []int32
	size   []int32
}

func newForest(n int) forest {
	f := forest{parent: make([]int32, n), size: make([]int32, n)}
	for i := range f.parent {
		f.parent[i] = int32(i)
		f.size[i] = 1
	}
	return f
}

// find returns x's root and points every node on the way straight at it.
func (f *forest) find(x int32) int32 {
	root := x
	for f.parent[root] != root {
		root = f.parent[root]
	}
	for x != root {
		up := f.parent[x]
		f.parent[x] = root
		x = up
	}
	return root
}

// union merges the sets of a and b, hanging the smaller under the larger.
func (f *forest) union(a, b int32) {
	ra, rb := f.find(a), f.find(b)
	if ra == rb {
		return
	}
	if f.size[ra] < f.size[rb] {
		ra, rb = rb, ra
	}
	f.parent[rb] = ra
	f.size[ra] += f.size[rb]
}
