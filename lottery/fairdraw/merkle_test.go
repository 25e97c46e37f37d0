package fairdraw_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery/fairdraw"
)

// refMTH is RFC 6962 §2.1's Merkle Tree Hash, literally.
func refMTH(d [][]byte) [32]byte {
	switch n := len(d); n {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return sha256.Sum256(append([]byte{0}, d[0]...))
	default:
		k := refSplit(n)
		l, r := refMTH(d[:k]), refMTH(d[k:])
		return sha256.Sum256(slices.Concat([]byte{1}, l[:], r[:]))
	}
}

func refSplit(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

// refPath is RFC 6962 §2.1.1's audit path PATH(m, D[n]), literally.
func refPath(m int, d [][]byte) []string {
	if len(d) <= 1 {
		return nil
	}
	k := refSplit(len(d))
	if m < k {
		sib := refMTH(d[k:])
		return append(refPath(m, d[:k]), hex.EncodeToString(sib[:]))
	}
	sib := refMTH(d[:k])
	return append(refPath(m-k, d[k:]), hex.EncodeToString(sib[:]))
}

func entriesN(n int) []fairdraw.Entry {
	entries := make([]fairdraw.Entry, n)
	for i := range entries {
		entries[i] = fairdraw.Entry{EntryID: fmt.Sprintf("e-%05d", i), Tickets: 1 + i%3}
		if i%4 == 0 {
			entries[i].Group = "g"
		}
	}
	return entries
}

func leavesOf(entries []fairdraw.Entry) [][]byte {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b fairdraw.Entry) int { return strings.Compare(a.EntryID, b.EntryID) })
	leaves := make([][]byte, len(sorted))
	for i, e := range sorted {
		leaves[i] = []byte(fairdraw.LeafData(e))
	}
	return leaves
}

func TestLeafData(t *testing.T) {
	tests := []struct {
		e    fairdraw.Entry
		want string
	}{
		{fairdraw.Entry{EntryID: "a-1", Tickets: 1}, "a-1|1|"},
		{fairdraw.Entry{EntryID: "a-1", Tickets: 4096, Group: "team-x"}, "a-1|4096|team-x"},
	}
	for _, tt := range tests {
		if got := fairdraw.LeafData(tt.e); got != tt.want {
			t.Errorf("LeafData(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestEntriesRootMatchesRFC6962(t *testing.T) {
	sizes := []int{}
	for n := range 70 {
		sizes = append(sizes, n)
	}
	sizes = append(sizes, 127, 128, 129, 1000, 16383, 16384, 16385, 40_000)
	for _, n := range sizes {
		entries := entriesN(n)
		want := refMTH(leavesOf(entries))
		if got := fairdraw.EntriesRoot(entries); got != hex.EncodeToString(want[:]) {
			t.Errorf("n=%d: EntriesRoot = %s, want %x", n, got, want)
		}
	}
	if got, want := fairdraw.EntriesRoot(nil), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; got != want {
		t.Errorf("EntriesRoot(nil) = %s, want sha256(\"\") %s", got, want)
	}
}

// TreeHash over leaves in the order given is RFC 6962's MTH, and over the
// sorted LeafData it is EntriesRoot.
func TestTreeHash(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 5, 8, 13, 100, 5000, 20_000} {
		entries := entriesN(n)
		leaves := leavesOf(entries)
		texts := make([]string, len(leaves))
		for i, l := range leaves {
			texts[i] = string(l)
		}
		want := refMTH(leaves)
		if got := fairdraw.TreeHash(texts); got != hex.EncodeToString(want[:]) {
			t.Errorf("n=%d: TreeHash = %s, want %x", n, got, want)
		}
		if got, root := fairdraw.TreeHash(texts), fairdraw.EntriesRoot(entries); got != root {
			t.Errorf("n=%d: TreeHash of sorted leaves = %s, EntriesRoot = %s", n, got, root)
		}
	}
}

func TestInclusionProof(t *testing.T) {
	for n := 1; n <= 40; n++ {
		entries := entriesN(n)
		rand.New(rand.NewPCG(uint64(n), 2)).Shuffle(n, func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
		leaves := leavesOf(entries)
		root := fairdraw.EntriesRoot(entries)
		for _, e := range entries {
			idx, size, path, err := fairdraw.InclusionProof(entries, e.EntryID)
			if err != nil {
				t.Fatalf("n=%d %s: InclusionProof: %v", n, e.EntryID, err)
			}
			if string(leaves[idx]) != fairdraw.LeafData(e) || size != n {
				t.Fatalf("n=%d %s: index %d size %d point at %q", n, e.EntryID, idx, size, leaves[idx])
			}
			if diff := gocmp.Diff(refPath(idx, leaves), path); diff != "" {
				t.Fatalf("n=%d index %d: path differs from RFC 6962 PATH (-want +got):\n%s", n, idx, diff)
			}
			if err := fairdraw.VerifyInclusion(fairdraw.LeafData(e), idx, size, path, root); err != nil {
				t.Errorf("n=%d index %d: VerifyInclusion: %v", n, idx, err)
			}

			wrong := e
			wrong.Tickets++
			if err := fairdraw.VerifyInclusion(fairdraw.LeafData(wrong), idx, size, path, root); !errors.Is(err, fairdraw.ErrInvalidProof) {
				t.Errorf("n=%d index %d: wrong leaf verified: %v", n, idx, err)
			}
			if n > 1 {
				for _, badIdx := range []int{(idx + 1) % n, (idx + n - 1) % n} {
					if err := fairdraw.VerifyInclusion(fairdraw.LeafData(e), badIdx, size, path, root); !errors.Is(err, fairdraw.ErrInvalidProof) {
						t.Errorf("n=%d index %d: verified at index %d: %v", n, idx, badIdx, err)
					}
				}
				if err := fairdraw.VerifyInclusion(fairdraw.LeafData(e), idx, size, path[:len(path)-1], root); !errors.Is(err, fairdraw.ErrInvalidProof) {
					t.Errorf("n=%d index %d: short path verified: %v", n, idx, err)
				}
			}
			if err := fairdraw.VerifyInclusion(fairdraw.LeafData(e), idx, size, append(slices.Clone(path), root), root); !errors.Is(err, fairdraw.ErrInvalidProof) {
				t.Errorf("n=%d index %d: long path verified: %v", n, idx, err)
			}
		}
	}
}

func TestInclusionProofLarge(t *testing.T) {
	entries := entriesN(40_000)
	leaves := leavesOf(entries)
	root := fairdraw.EntriesRoot(entries)
	for _, id := range []string{"e-00000", "e-16383", "e-16384", "e-32767", "e-39999"} {
		idx, size, path, err := fairdraw.InclusionProof(entries, id)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(refPath(idx, leaves), path); diff != "" {
			t.Errorf("%s: path differs (-want +got):\n%s", id, diff)
		}
		if err := fairdraw.VerifyInclusion(string(leaves[idx]), idx, size, path, root); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}

func TestInclusionProofErrors(t *testing.T) {
	entries := entriesN(5)
	if _, _, _, err := fairdraw.InclusionProof(entries, "nobody"); !errors.Is(err, fairdraw.ErrEntryNotFound) {
		t.Errorf("InclusionProof(absent) = %v, want ErrEntryNotFound", err)
	}
	root := fairdraw.EntriesRoot(entries)
	idx, size, path, err := fairdraw.InclusionProof(entries, "e-00002")
	if err != nil {
		t.Fatal(err)
	}
	leaf := fairdraw.LeafData(entries[2])
	upper := slices.Clone(path)
	upper[0] = strings.ToUpper(upper[0])
	tests := []struct {
		name string
		idx  int
		size int
		path []string
		root string
		leaf string
	}{
		{"negative index", -1, size, path, root, leaf},
		{"index beyond size", size, size, path, root, leaf},
		{"zero size", 0, 0, nil, root, leaf},
		{"uppercase path hash", idx, size, upper, root, leaf},
		{"short path hash", idx, size, append([]string{"00"}, path[1:]...), root, leaf},
		{"bad root", idx, size, path, "zz", leaf},
		{"other root", idx, size, path, fairdraw.EntriesRoot(entriesN(6)), leaf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := fairdraw.VerifyInclusion(tt.leaf, tt.idx, tt.size, tt.path, tt.root); !errors.Is(err, fairdraw.ErrInvalidProof) {
				t.Errorf("VerifyInclusion = %v, want ErrInvalidProof", err)
			}
		})
	}
}
