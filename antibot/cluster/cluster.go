// Package cluster links entries that share an identity key (a normalized
// e-mail, a phone number, a device fingerprint, a device cookie, an IP + user
// agent pair, a name + birth date) into clusters, so fraud review sees one
// person or one bot farm behind many entries as one case, and the risk score
// can use the cluster's size and shape.
//
// Linking is transitive (union-find): A and B share an e-mail, B and C share
// a device, so A, B and C are one cluster. To keep households and campus NATs
// apart, an IP links only together with the user agent (KindIPUA), and a key
// carried by more than [Options.MaxKeyFanout] entries is "too common to mean
// anything" (a university NAT with a popular browser, a default fingerprint):
// it links nothing and is reported as a [HotKey] instead. A hot key is itself
// worth a look: a device cookie on 40 entries is a farm, not noise; see
// [Options.PerKind].
//
// [Build] and [Analyze] cluster a whole event: their result depends only on
// the set of entries, never on their order.
//
// Everything here is pure: no database, no network, no clock. Link values are
// whatever the caller passes (normalized, preferably hashed); the package never
// logs them.
package cluster

import "cmp"

// LinkKind names what a link value is. Kinds are namespaces: the same value
// under two kinds never links.
type LinkKind string

// The kinds of link Startline derives for an entry.
const (
	KindEmail       LinkKind = "email"       // identity.Email.Key: Gmail dots, +tags folded
	KindPhone       LinkKind = "phone"       // E.164, from identity.NormalizePhone
	KindFingerprint LinkKind = "fingerprint" // client-side device fingerprint (Signals.Fingerprint)
	KindDevice      LinkKind = "device"      // device cookie id
	KindIPUA        LinkKind = "ip_ua"       // client IP together with its user agent; see IPUALink
	KindNameBirth   LinkKind = "name_birth"  // identity.PersonKey of name and birth date
)

// DefaultMaxKeyFanout is the number of entries a key may join before it is
// treated as too common to mean anything.
const DefaultMaxKeyFanout = 25

// Link is one identity key of an entry. Value is already normalized (and
// preferably hashed) by the caller; a link with an empty Value is ignored, so
// a missing fingerprint never links everyone without one.
type Link struct {
	Kind  LinkKind `json:"kind"`
	Value string   `json:"value"`
}

// IPUALink returns the KindIPUA link for a client IP and its user agent. The
// two are joined so that a shared router alone never links a household; if
// either is empty the link is empty and therefore ignored.
func IPUALink(ip, userAgent string) Link {
	if ip == "" || userAgent == "" {
		return Link{Kind: KindIPUA}
	}
	return Link{Kind: KindIPUA, Value: ip + "\x00" + userAgent}
}

// Entry is one registration with its identity keys. Entries with the same ID
// are one entry whose links are the union of theirs; an entry with an empty
// ID is ignored.
type Entry struct {
	ID    string `json:"id"`
	Links []Link `json:"links"`
}

// Options tune the linking. The zero value is ready to use.
type Options struct {
	// MaxKeyFanout is how many distinct entries a key may join; a key on
	// more entries is hot: it links none of them and is reported instead.
	// Zero means DefaultMaxKeyFanout; a negative value means no limit.
	MaxKeyFanout int
	// PerKind overrides MaxKeyFanout for a kind, with the same meaning,
	// except that zero means "use MaxKeyFanout". Use it to be stricter or
	// looser per kind, e.g. no limit for device cookie ids, which real
	// households do not share.
	PerKind map[LinkKind]int
}

// tooCommon reports whether a key of kind k carried by n distinct entries is
// hot under o.
func (o Options) tooCommon(k LinkKind, n int32) bool {
	limit := o.MaxKeyFanout
	if v := o.PerKind[k]; v != 0 {
		limit = v
	}
	switch {
	case limit == 0:
		limit = DefaultMaxKeyFanout
	case limit < 0:
		return false
	}
	return int64(n) > int64(limit)
}

// Cluster is a set of entries linked, directly or through others, by
// non-hot keys. Every entry is in exactly one cluster, alone if nothing links
// it.
type Cluster struct {
	// ID is the smallest member entry ID, so the same members always give
	// the same ID, whatever the order they were seen in.
	ID string `json:"id"`
	// Members are the entry IDs, sorted.
	Members []string `json:"members"`
	Shape   Shape    `json:"shape"`
}

// Shape is what a reviewer and the scorer need to know about a cluster
// beyond its members: how big it is, what holds it together, and how many
// distinct identities it spans (many e-mails on one device is a farm; one
// e-mail on many devices is a person with a phone and a laptop).
type Shape struct {
	Size int `json:"size"`
	// SharedBy counts, per kind, the distinct non-hot values held by two or
	// more members: the values that link members. Nil for a lone entry.
	SharedBy map[LinkKind]int `json:"shared_by,omitempty"`
	// Distinct values of each kind among the members, hot ones included.
	DistinctEmails       int `json:"distinct_emails"`
	DistinctPhones       int `json:"distinct_phones"`
	DistinctDevices      int `json:"distinct_devices"` // device cookie ids
	DistinctFingerprints int `json:"distinct_fingerprints"`
	// HotKeys is how many distinct hot keys the members carry: a cluster
	// that would be larger without the fanout guard.
	HotKeys int `json:"hot_keys"`
}

// HotKey is a key carried by more entries than the fanout allows; it links
// nothing and is listed so a reviewer can decide whether it is a campus NAT
// or a farm.
type HotKey struct {
	Link
	// Entries is how many distinct entries carry the key.
	Entries int `json:"entries"`
}

// Result is the clustering of a set of entries. Its slices are shared with
// the clusters ClusterOf returns; treat them as read-only.
type Result struct {
	// Clusters holds every entry exactly once, largest cluster first, then
	// by ID.
	Clusters []Cluster `json:"clusters"`
	// HotKeys are the keys that exceeded the fanout, sorted by kind, then
	// value.
	HotKeys []HotKey `json:"hot_keys"`

	nodeOf    map[string]int32 // entry ID → node
	clusterOf []int32          // node → index in Clusters
}

// ClusterOf returns the cluster of entry id, and false if id was not among
// the entries.
func (r *Result) ClusterOf(id string) (Cluster, bool) {
	n, ok := r.nodeOf[id]
	if !ok {
		return Cluster{}, false
	}
	return r.Clusters[r.clusterOf[n]], true
}

// Build clusters entries: every entry once, largest cluster first, then by
// ID, independent of input order. It is Analyze without the hot keys and the
// lookup by entry.
func Build(entries []Entry, o Options) []Cluster {
	return Analyze(entries, o).Clusters
}

// Analyze clusters entries and reports the hot keys. The result depends only
// on the set of entries and their links, not on their order: which keys are
// hot is decided by counting every key's entries first, and only then are
// the non-hot keys linked. It runs in O(L α(L)) for L links, plus sorting the
// members.
func Analyze(entries []Entry, o Options) *Result {
	return analyze(entries, o, ^uint64(0))
}

// analyze is Analyze with the key hash narrowed to hashMask.
func analyze(entries []Entry, o Options, hashMask uint64) *Result {
	total := 0
	for i := range entries {
		total += len(entries[i].Links)
	}
	g := newGraph(len(entries), total)
	g.hashMask = hashMask

	// Group entries by ID (duplicates are one entry) with per-node chains,
	// so each node's links can be deduplicated in one pass.
	next := make([]int32, len(entries))
	var head, tail []int32
	for i := range entries {
		next[i] = -1
		e := &entries[i]
		if e.ID == "" {
			continue
		}
		n, isNew := g.node(e.ID)
		if isNew {
			head = append(head, int32(i))
			tail = append(tail, int32(i))
			continue
		}
		next[tail[n]] = int32(i)
		tail[n] = int32(i)
	}

	// Intern keys and count the distinct entries of each. mark[k] is the
	// last node that counted k, which dedupes links within a node.
	flat := make([]int32, 0, total)
	g.nodeKeys = g.nodeKeys[:len(g.ids)]
	mark := make([]int32, 0, total)
	for n := range g.ids {
		start := len(flat)
		for i := head[n]; i >= 0; i = next[i] {
			for _, l := range entries[i].Links {
				if l.Value == "" {
					continue
				}
				k, isNew := g.key(l)
				if isNew {
					mark = append(mark, -1)
				}
				if mark[k] == int32(n) {
					continue
				}
				mark[k] = int32(n)
				flat = append(flat, k)
				g.count[k]++
			}
		}
		g.nodeKeys[n] = flat[start:len(flat):len(flat)]
	}
	for k, l := range g.links {
		g.hot[k] = o.tooCommon(l.Kind, g.count[k])
	}

	r := g.result()
	r.nodeOf = g.nodeOf
	return r
}

// compareClusters orders clusters largest first, then by ID.
func compareClusters(a, b *Cluster) int {
	if c := cmp.Compare(len(b.Members), len(a.Members)); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// compareHotKeys orders hot keys by kind, then value.
func compareHotKeys(a, b HotKey) int {
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	return cmp.Compare(a.Value, b.Value)
}
