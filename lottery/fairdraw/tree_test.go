package fairdraw_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery/fairdraw"
)

// randomEntries returns n entries with distinct random entry_ids of 1 to 64
// characters, a third of them sharing their first eight bytes with others
// (so that comparisons go past the sort's prefix), with random tickets and
// groups, in random order.
func randomEntries(r *rand.Rand, n int) []fairdraw.Entry {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-"
	prefixes := []string{"", "aaaaaaaa", "0000-000", "zz"}
	seen := make(map[string]bool, n)
	entries := make([]fairdraw.Entry, 0, n)
	for len(entries) < n {
		id := []byte(prefixes[r.IntN(len(prefixes))])
		for range 1 + r.IntN(64-len(id)) {
			id = append(id, alphabet[r.IntN(len(alphabet))])
		}
		if seen[string(id)] {
			continue
		}
		seen[string(id)] = true
		e := fairdraw.Entry{EntryID: string(id), Tickets: 1 + r.IntN(4096)}
		if r.IntN(3) == 0 {
			e.Group = fmt.Sprintf("g-%d", r.IntN(n/4+1))
		}
		entries = append(entries, e)
	}
	return entries
}

func shuffled(r *rand.Rand, entries []fairdraw.Entry) []fairdraw.Entry {
	s := slices.Clone(entries)
	r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

func TestTreeMatchesInclusionProof(t *testing.T) {
	sizes := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 100, 1000}
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(n), 7))
			entries := randomEntries(r, n)
			input := slices.Clone(entries)
			tree := fairdraw.NewTree(entries)
			if !slices.Equal(entries, input) {
				t.Fatal("NewTree modified its argument")
			}

			root := fairdraw.EntriesRoot(entries)
			want := refMTH(leavesOf(entries))
			if root != hex.EncodeToString(want[:]) {
				t.Fatalf("EntriesRoot = %s, want %x", root, want)
			}
			if got := tree.Root(); got != root {
				t.Fatalf("Root() = %s, want EntriesRoot %s", got, root)
			}
			if got := tree.Size(); got != n {
				t.Fatalf("Size() = %d, want %d", got, n)
			}

			// Another input order gives the same tree; a change to the
			// caller's slice afterwards does not reach it.
			other := fairdraw.NewTree(shuffled(r, entries))
			if other.Root() != root || other.Size() != n {
				t.Fatalf("shuffled input: Root %s Size %d, want %s %d", other.Root(), other.Size(), root, n)
			}
			for i := range entries {
				entries[i].Tickets++
			}

			for _, e := range input {
				wantIdx, wantSize, wantPath, err := fairdraw.InclusionProof(input, e.EntryID)
				if err != nil {
					t.Fatalf("InclusionProof(%q): %v", e.EntryID, err)
				}
				for name, tr := range map[string]*fairdraw.Tree{"tree": tree, "shuffled tree": other} {
					idx, leaf, path, err := tr.Proof(e.EntryID)
					if err != nil {
						t.Fatalf("%s: Proof(%q): %v", name, e.EntryID, err)
					}
					if idx != wantIdx || wantSize != n {
						t.Fatalf("%s: Proof(%q) index %d, InclusionProof index %d size %d", name, e.EntryID, idx, wantIdx, wantSize)
					}
					if leaf != fairdraw.LeafData(e) {
						t.Fatalf("%s: Proof(%q) leaf data %q, want %q", name, e.EntryID, leaf, fairdraw.LeafData(e))
					}
					if diff := gocmp.Diff(wantPath, path); diff != "" {
						t.Fatalf("%s: Proof(%q) path differs from InclusionProof (-want +got):\n%s", name, e.EntryID, diff)
					}
					if err := fairdraw.VerifyInclusion(leaf, idx, tr.Size(), path, tr.Root()); err != nil {
						t.Fatalf("%s: Proof(%q): VerifyInclusion: %v", name, e.EntryID, err)
					}
				}
			}

			for _, id := range []string{"", "nobody", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"} {
				if idx, leaf, path, err := tree.Proof(id); !errors.Is(err, fairdraw.ErrEntryNotFound) || idx != 0 || leaf != "" || path != nil {
					t.Errorf("Proof(%q) = %d, %q, %q, %v; want ErrEntryNotFound", id, idx, leaf, path, err)
				}
			}
		})
	}
}

// TestTreeLarge builds trees large enough for the parallel paths, under
// several GOMAXPROCS settings, and checks the root and a sample of proofs.
func TestTreeLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large trees")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1 << 15, 70_001} {
		entries := randomEntries(r, n)
		root := fairdraw.EntriesRoot(entries)
		sample := []fairdraw.Entry{entries[0], entries[n-1]}
		for range 6 {
			sample = append(sample, entries[r.IntN(n)])
		}
		for _, procs := range []int{1, 3, 8} {
			runtime.GOMAXPROCS(procs)
			tree := fairdraw.NewTree(entries)
			if tree.Root() != root {
				t.Fatalf("n=%d GOMAXPROCS=%d: Root() = %s, want %s", n, procs, tree.Root(), root)
			}
			for _, e := range sample {
				wantIdx, _, wantPath, err := fairdraw.InclusionProof(entries, e.EntryID)
				if err != nil {
					t.Fatal(err)
				}
				idx, leaf, path, err := tree.Proof(e.EntryID)
				if err != nil || idx != wantIdx || leaf != fairdraw.LeafData(e) || !slices.Equal(path, wantPath) {
					t.Fatalf("n=%d GOMAXPROCS=%d: Proof(%q) = %d, %q, %q, %v; want %d, %q",
						n, procs, e.EntryID, idx, leaf, path, err, wantIdx, wantPath)
				}
			}
		}
	}
}

// TestTreeDuplicateIDs: ids should be unique, but a tree over repeated ids
// still does not depend on input order, and its proofs verify.
func TestTreeDuplicateIDs(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	entries := []fairdraw.Entry{
		{EntryID: "a", Tickets: 2}, {EntryID: "a", Tickets: 1, Group: "y"}, {EntryID: "a", Tickets: 1, Group: "x"},
		{EntryID: "b", Tickets: 1}, {EntryID: "b", Tickets: 1}, {EntryID: "c", Tickets: 3},
	}
	tree := fairdraw.NewTree(entries)
	for range 20 {
		if other := fairdraw.NewTree(shuffled(r, entries)); other.Root() != tree.Root() {
			t.Fatalf("Root() depends on input order: %s and %s", tree.Root(), other.Root())
		}
	}
	for id, want := range map[string]string{"a": "a|1|x", "b": "b|1|", "c": "c|3|"} {
		idx, leaf, path, err := tree.Proof(id)
		if err != nil || leaf != want {
			t.Fatalf("Proof(%q) leaf %q, %v; want %q", id, leaf, err, want)
		}
		if err := fairdraw.VerifyInclusion(leaf, idx, tree.Size(), path, tree.Root()); err != nil {
			t.Errorf("Proof(%q): %v", id, err)
		}
	}
}

func TestTreeConcurrentProofs(t *testing.T) {
	entries := randomEntries(rand.New(rand.NewPCG(8, 9)), 3000)
	tree := fairdraw.NewTree(entries)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(entries); i += 8 {
				idx, leaf, path, err := tree.Proof(entries[i].EntryID)
				if err == nil {
					err = fairdraw.VerifyInclusion(leaf, idx, tree.Size(), path, tree.Root())
				}
				if err != nil {
					t.Errorf("Proof(%q): %v", entries[i].EntryID, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkNewTree1M(b *testing.B) {
	in := syntheticInput(1_000_000, 1)
	b.ReportAllocs()
	for b.Loop() {
		fairdraw.NewTree(in.Entries)
	}
}

func BenchmarkTreeProof1M(b *testing.B) {
	in := syntheticInput(1_000_000, 1)
	tree := fairdraw.NewTree(in.Entries)
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = in.Entries[r.IntN(len(in.Entries))].EntryID
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, _, err := tree.Proof(ids[i&(len(ids)-1)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
