package fairdraw

import (
	"cmp"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestParallelSort(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	r := mrand.New(mrand.NewPCG(3, 4))
	for _, procs := range []int{1, 2, 3, 5, 8} {
		runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 100, 1 << 14, 3<<14 + 7, 200_000} {
			s := make([]int, n)
			for i := range s {
				s[i] = r.IntN(n/2 + 1) // with repeats
			}
			want := slices.Clone(s)
			slices.Sort(want)
			parallelSort(s, cmp.Compare[int])
			if !slices.Equal(s, want) {
				t.Errorf("GOMAXPROCS=%d n=%d: not sorted", procs, n)
			}
		}
	}
}

func TestParallelFor(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 7} {
		runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 5000, 100_003} {
			hits := make([]int32, n)
			parallelFor(n, 100, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					hits[i]++
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("GOMAXPROCS=%d n=%d: index %d visited %d times", procs, n, i, h)
				}
			}
		}
	}
}

func TestKeyHasherMatchesEntryKey(t *testing.T) {
	seed := strings.Repeat("0f", 32)
	short := "abc" // not one block: falls back to EntryKey
	for _, s := range []string{seed, short} {
		kh := newKeyHasher(s)
		for tickets := range 40 {
			id := fmt.Sprintf("entry-%d-%s", tickets, strings.Repeat("x", tickets))
			if got, want := kh.key(id, tickets), EntryKey(s, id, tickets); got != want {
				t.Errorf("seed %q: key(%s, %d) = %x, want %x", s, id, tickets, got, want)
			}
		}
	}
}

func TestFoldKey(t *testing.T) {
	keys := []string{"tickets", "TICKETS", "Tickets", "tic\u212aets", "\u017feed", "seed", "SEED", "group", "gröup", "GRÖUP", "x", "\xff", "\ufffd", ""}
	for i := 0; i < 200; i++ {
		b := make([]byte, 3)
		rand.Read(b)
		keys = append(keys, string(b))
	}
	for _, a := range keys {
		for _, b := range keys {
			if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
				t.Errorf("foldKey(%q) == foldKey(%q) is %v, strings.EqualFold %v", a, b, got, want)
			}
		}
	}
}

// TestBuildOrderTies forces what SHA-256 never yields in practice, units
// whose keys share their first eight bytes or tie outright, to check the
// tie-breaks: the full 32-byte key, then unit_id.
func TestBuildOrderTies(t *testing.T) {
	key := func(first, last byte) (k [32]byte) {
		k[0], k[31] = first, last
		return k
	}
	entries := []Entry{ // in entry_id order, as buildOrder expects
		{EntryID: "a", Tickets: 1, Group: "zz"},
		{EntryID: "b", Tickets: 1},
		{EntryID: "c", Tickets: 1},
		{EntryID: "d", Tickets: 1},
		{EntryID: "e", Tickets: 1, Group: "zz"},
	}
	keys := [][32]byte{
		key(1, 9), // a: group zz's key is min(a, e) = (1, 5)
		key(1, 5), // b ties with zz on the whole key: "b" < "zz"
		key(1, 7), // c ties with the others on the first eight bytes only
		key(0, 9), // d comes first
		key(1, 5), // e
	}
	idx := []int32{0, 1, 2, 3, 4}
	got := buildOrder(entries, idx, entries, keys, make([]rank, len(entries)), 3)
	var ids []string
	for _, it := range got {
		ids = append(ids, it.UnitID)
	}
	if want := []string{"d", "b", "zz", "c"}; !slices.Equal(ids, want) {
		t.Errorf("order = %q, want %q", ids, want)
	}
	if want := []bool{true, true, false, true}; got[0].Selected != want[0] || got[1].Selected != want[1] || got[2].Selected != want[2] || got[3].Selected != want[3] {
		t.Errorf("selected = %v %v %v %v, want %v", got[0].Selected, got[1].Selected, got[2].Selected, got[3].Selected, want)
	}
}

// TestHashLeavesIsLeafData: the parallel leaf hashes of EntriesRoot, Draw and
// NewTree are sha256(0x00 || LeafData) of each entry, the leaf a verifier
// checks, whether stored in input order or at given places.
func TestHashLeavesIsLeafData(t *testing.T) {
	entries := []Entry{
		{EntryID: "a", Tickets: 1},
		{EntryID: "b", Tickets: 12, Group: "g-7"},
		{EntryID: "민준", Tickets: 3, Group: "그룹"},
		{EntryID: "pipe|in|id", Tickets: 0, Group: "x|y"},
	}
	for i := range 9000 { // more than one parallelFor chunk
		entries = append(entries, Entry{EntryID: fmt.Sprintf("e%05d", i), Tickets: i % 5, Group: strings.Repeat("g", i%3)})
	}
	n := len(entries)
	inOrder := make([][32]byte, n)
	hashLeaves(entries, nil, inOrder)
	pos := make([]int32, n)
	for j := range pos {
		pos[j] = int32(n - 1 - j)
	}
	placed := make([][32]byte, n)
	hashLeaves(entries, pos, placed)
	for j, e := range entries {
		want := leafHash(LeafData(e))
		if inOrder[j] != want {
			t.Fatalf("entry %d %+v: leaf hash %x, want %x", j, e, inOrder[j], want)
		}
		if placed[pos[j]] != want {
			t.Fatalf("entry %d %+v at %d: leaf hash %x, want %x", j, e, pos[j], placed[pos[j]], want)
		}
	}
	if got := LeafData(entries[1]); got != "b|12|g-7" {
		t.Errorf("LeafData = %q", got)
	}
}
