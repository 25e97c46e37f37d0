package fairdraw

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Tree is an RFC 6962 Merkle tree over a sub-queue's entries, built once
// (entries sorted by entry_id as for EntriesRoot) so each inclusion proof
// reads O(log n) stored hashes. It is immutable and safe for concurrent use.
type Tree struct {
	// entries are the entries in entry_id order: leaf i is entries[i].
	entries []Entry
	// index maps an entry_id to its leaf index (the first one when ids
	// repeat, as InclusionProof's binary search finds).
	index map[string]int32
	// levels[0] holds the leaf hashes and levels[j][i] the Merkle Tree Hash
	// of leaves [i·2^j, min((i+1)·2^j, n)): a full aligned subtree, or for
	// the last node of a level the partial right-edge subtree, which RFC
	// 6962's split at the largest power of two yields as a node as well.
	// The last level holds the root alone. All levels share one allocation
	// of about 2n hashes.
	levels [][][32]byte
	root   string
}

// NewTree builds the Merkle tree of entries, hashing every leaf and inner
// node once; it sorts a copy of entries by entry_id and does not validate
// them (Draw does). Entry ids should be unique; if one repeats, its entries
// are ordered by tickets and group, so the tree never depends on input order.
func NewTree(entries []Entry) *Tree {
	n := len(entries)
	t := &Tree{entries: make([]Entry, n), index: make(map[string]int32, n)}
	ranks := rankEntries(entries)
	orderDuplicates(entries, ranks)
	idx := sortedIndex(ranks)
	gather(t.entries, entries, idx)
	// The index is filled serially, so it is built while the hashing below
	// keeps the other cores busy.
	var indexed sync.WaitGroup
	indexed.Go(func() {
		for i, e := range t.entries {
			if i == 0 || e.EntryID != t.entries[i-1].EntryID { // first of a run
				t.index[e.EntryID] = int32(i)
			}
		}
	})
	defer indexed.Wait()
	if n == 0 {
		empty := sha256.Sum256(nil)
		t.root = hex.EncodeToString(empty[:])
		return t
	}

	// One allocation for all levels: ceil(n/2^j) nodes at level j.
	total := 0
	for m := n; ; m = (m + 1) / 2 {
		total += m
		if m == 1 {
			break
		}
	}
	buf := make([][32]byte, total)
	for m := n; ; m = (m + 1) / 2 {
		t.levels = append(t.levels, buf[:m:m])
		buf = buf[m:]
		if m == 1 {
			break
		}
	}

	// Leaves are hashed in input order, usually their order in memory, and
	// each hash is stored at its sorted place (see Draw on reading entries
	// at their sorted places).
	pos := make([]int32, n)
	for i, j := range idx {
		pos[j] = int32(i)
	}
	hashLeaves(entries, pos, t.levels[0])
	for j := 1; j < len(t.levels); j++ {
		hashLevel(t.levels[j-1], t.levels[j])
	}
	t.root = hex.EncodeToString(t.levels[len(t.levels)-1][0][:])
	return t
}

// Root returns the hex Merkle Tree Hash of the tree, equal to EntriesRoot of
// the entries it was built from.
func (t *Tree) Root() string { return t.root }

// Size returns the number of leaves (entries) of the tree.
func (t *Tree) Size() int { return len(t.entries) }

// Proof returns the leaf index, LeafData and RFC 6962 §2.1.1 audit path (hex,
// leaf to root) of entryID, the same index and path as InclusionProof gives
// for the tree's entries. An absent entry yields ErrEntryNotFound.
func (t *Tree) Proof(entryID string) (leafIndex int, leafData string, path []string, err error) {
	i, ok := t.index[entryID]
	if !ok {
		return 0, "", nil, fmt.Errorf("%w: %q", ErrEntryNotFound, entryID)
	}
	leafIndex = int(i)
	// Going up, the node's sibling at each level is on the path; a last
	// node without a sibling is carried up unchanged and adds nothing.
	// Copying the siblings in a tight loop first lets the cache misses of
	// the lower levels overlap rather than come one per hash (as in
	// merkleRootOf), and the path's hex strings share one allocation.
	var at [64]*[32]byte
	m := 0
	for j, k := 0, leafIndex; j < len(t.levels)-1; j, k = j+1, k>>1 {
		if s := k ^ 1; s < len(t.levels[j]) {
			at[m] = &t.levels[j][s]
			m++
		}
	}
	var siblings [64][32]byte
	for p, h := range at[:m] {
		siblings[p] = *h
	}
	if m > 0 {
		buf := make([]byte, 2*sha256.Size*m)
		for p := range m {
			hex.Encode(buf[2*sha256.Size*p:], siblings[p][:])
		}
		all := string(buf)
		path = make([]string, m)
		for p := range path {
			path[p] = all[2*sha256.Size*p : 2*sha256.Size*(p+1)]
		}
	}
	return leafIndex, LeafData(t.entries[leafIndex]), path, nil
}

// orderDuplicates sorts each run of ranks whose entries share an entry_id by
// tickets and group, so that the order no longer depends on the input order
// or on the sort's handling of ties. Entries that are equal in all three are
// interchangeable.
func orderDuplicates(src []Entry, ranks []rank) {
	for lo := 0; lo < len(ranks); {
		hi := lo + 1
		for hi < len(ranks) && ranks[hi].prefix == ranks[lo].prefix &&
			src[ranks[hi].a].EntryID == src[ranks[lo].a].EntryID {
			hi++
		}
		if hi-lo > 1 {
			slices.SortFunc(ranks[lo:hi], func(x, y rank) int {
				ex, ey := &src[x.a], &src[y.a]
				return cmp.Or(cmp.Compare(ex.Tickets, ey.Tickets), strings.Compare(ex.Group, ey.Group))
			})
		}
		lo = hi
	}
}

// hashLevel sets up[i] to the node over below[2i] and below[2i+1], or to
// below[2i] itself when that is the last node of below.
func hashLevel(below, up [][32]byte) {
	parallelFor(len(up), 4096, func(lo, hi int) {
		var buf [1 + 2*sha256.Size]byte
		buf[0] = 1
		for i := lo; i < hi; i++ {
			if 2*i+1 == len(below) {
				up[i] = below[2*i]
				continue
			}
			copy(buf[1:], below[2*i][:])
			copy(buf[33:], below[2*i+1][:])
			up[i] = sha256.Sum256(buf[:])
		}
	})
}
