package fairdraw

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// LeafData returns an entry's Merkle leaf: entry_id + "|" + tickets + "|" + group.
func LeafData(e Entry) string { return string(appendLeafData(nil, &e)) }

// appendLeafData appends LeafData(*e) to buf. It is the one place the leaf
// encoding is written: LeafData, and the leaf hashes of EntriesRoot, Draw and
// NewTree (through hashLeaves), all go through it.
func appendLeafData(buf []byte, e *Entry) []byte {
	buf = append(buf, e.EntryID...)
	buf = strconv.AppendInt(append(buf, '|'), int64(e.Tickets), 10)
	return append(append(buf, '|'), e.Group...)
}

// leafPrefix starts every leaf hash's input (RFC 6962 §2.1: 0x00 for a leaf,
// 0x01 for an inner node).
const leafPrefix = 0x00

// EntriesRoot returns the published entries_root of a sub-queue: the hex
// RFC 6962 Merkle Tree Hash (SHA-256) of the entries' LeafData sorted by
// entry_id. It does not validate the entries; Draw does.
func EntriesRoot(entries []Entry) string {
	leaves := make([][32]byte, len(entries))
	hashLeaves(entries, nil, leaves)
	root := merkleRootOf(leaves, sortedIndex(rankEntries(entries)))
	return hex.EncodeToString(root[:])
}

// TreeHash returns the hex RFC 6962 Merkle Tree Hash (SHA-256) of leaves
// taken in the order given: sha256("") for none, leaf hashes
// sha256(0x00 || leaf), inner nodes sha256(0x01 || left || right).
// EntriesRoot is TreeHash of the entries' LeafData sorted by entry_id;
// prequeue-v1's tickets_root (lottery/prequeue) is TreeHash of the sorted
// ticket ids.
func TreeHash(leaves []string) string {
	h := make([][32]byte, len(leaves))
	parallelFor(len(leaves), 4096, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			h[j] = leafHash(leaves[j])
		}
	})
	root := merkleRoot(h)
	return hex.EncodeToString(root[:])
}

// InclusionProof returns the RFC 6962 §2.1.1 audit path (hex, leaf to root)
// proving that entryID's leaf is in EntriesRoot(entries), with the leaf's
// index among the entries sorted by entry_id and the tree size. An absent
// entry yields ErrEntryNotFound.
func InclusionProof(entries []Entry, entryID string) (leafIndex, treeSize int, path []string, err error) {
	ranks := rankEntries(entries)
	m, found := slices.BinarySearchFunc(ranks, entryID, func(r rank, id string) int {
		return strings.Compare(entries[r.a].EntryID, id)
	})
	if !found {
		return 0, 0, nil, fmt.Errorf("%w: %q", ErrEntryNotFound, entryID)
	}
	digests := leafDigests(entries, sortedIndex(ranks))

	// Walk down from the root: at each split the sibling subtree's hash
	// joins the path. Sibling ranges are disjoint from each other and from
	// the leaf, so each is reduced in place.
	lo, hi := 0, len(digests)
	for hi-lo > 1 {
		k := splitPoint(hi - lo)
		var sibling [32]byte
		if m < lo+k {
			sibling = merkleRoot(digests[lo+k : hi])
			hi = lo + k
		} else {
			sibling = merkleRoot(digests[lo : lo+k])
			lo += k
		}
		path = append(path, hex.EncodeToString(sibling[:]))
	}
	slices.Reverse(path)
	return m, len(entries), path, nil
}

// VerifyInclusion checks an audit path from InclusionProof against a hex
// root with the algorithm of RFC 9162 §2.1.3.2. leafData is LeafData of the
// entry. A proof that does not verify yields ErrInvalidProof.
func VerifyInclusion(leafData string, leafIndex, treeSize int, path []string, root string) error {
	if !isHex32(root) {
		return fmt.Errorf("%w: root %q is not 32 bytes of lowercase hex", ErrInvalidProof, root)
	}
	if leafIndex < 0 || leafIndex >= treeSize {
		return fmt.Errorf("%w: leaf index %d outside a tree of size %d", ErrInvalidProof, leafIndex, treeSize)
	}
	fn, sn := uint64(leafIndex), uint64(treeSize-1)
	r := leafHash(leafData)
	var buf [1 + 2*sha256.Size]byte
	buf[0] = 1
	for i, p := range path {
		if !isHex32(p) {
			return fmt.Errorf("%w: path[%d] %q is not 32 bytes of lowercase hex", ErrInvalidProof, i, p)
		}
		if sn == 0 {
			return fmt.Errorf("%w: path has %d hashes, more than the tree needs", ErrInvalidProof, len(path))
		}
		var sib [32]byte
		hex.Decode(sib[:], []byte(p))
		if fn&1 == 1 || fn == sn {
			copy(buf[1:], sib[:])
			copy(buf[33:], r[:])
			r = sha256.Sum256(buf[:])
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			copy(buf[1:], r[:])
			copy(buf[33:], sib[:])
			r = sha256.Sum256(buf[:])
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w: path has %d hashes, fewer than the tree needs", ErrInvalidProof, len(path))
	}
	if got := hex.EncodeToString(r[:]); got != root {
		return fmt.Errorf("%w: path leads to root %s, want %s", ErrInvalidProof, got, root)
	}
	return nil
}

// splitPoint returns the largest power of two smaller than n (n > 1).
func splitPoint(n int) int {
	return 1 << (bits.Len(uint(n-1)) - 1)
}

// leafHash is the RFC 6962 leaf hash sha256(0x00 || leafData) of a leaf
// given as text (a proof to verify).
func leafHash(leafData string) [32]byte {
	buf := make([]byte, 0, 1+len(leafData))
	return sha256.Sum256(append(append(buf, leafPrefix), leafData...))
}

// leafDigests returns the RFC 6962 leaf hashes of src in the order of idx
// (see Draw for why it hashes in input order first).
func leafDigests(src []Entry, idx []int32) [][32]byte {
	scratch := make([][32]byte, len(src))
	hashLeaves(src, nil, scratch)
	digests := make([][32]byte, len(src))
	gather(digests, scratch, idx)
	return digests
}

// hashLeaves sets out[j], or out[pos[j]] when pos is not nil, to the leaf
// hash sha256(0x00 || LeafData(src[j])), in parallel.
func hashLeaves(src []Entry, pos []int32, out [][32]byte) {
	parallelFor(len(src), 4096, func(lo, hi int) {
		buf := make([]byte, 0, 192)
		for j := lo; j < hi; j++ {
			buf = appendLeafData(append(buf[:0], leafPrefix), &src[j])
			at := j
			if pos != nil {
				at = int(pos[j])
			}
			out[at] = sha256.Sum256(buf)
		}
	})
}

// merkleRoot returns the RFC 6962 Merkle Tree Hash of the leaf hashes h,
// overwriting h.
//
// It reduces level by level, pairing neighbours and carrying an odd last node
// up unchanged; that tree is the same as RFC 6962's "split at the largest
// power of two" recursion. A node j levels up covers an aligned run of 2^j
// leaves (the last run may be shorter) and is that run's Merkle Tree Hash, so
// aligned chunks are reduced concurrently and their roots reduced in turn.
func merkleRoot(h [][32]byte) [32]byte {
	n := len(h)
	if n == 0 {
		return sha256.Sum256(nil)
	}
	const minChunk = 1 << 13
	workers := runtime.GOMAXPROCS(0)
	if workers == 1 || n < 2*minChunk {
		return reduceLevels(h)
	}
	chunk := max(minChunk, 1<<(bits.Len(uint(n/(4*workers)))-1))
	tops := make([][32]byte, (n+chunk-1)/chunk)
	parallelFor(len(tops), 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			tops[c] = reduceLevels(h[c*chunk : min((c+1)*chunk, n)])
		}
	})
	return reduceLevels(tops)
}

// merkleRootOf returns the RFC 6962 Merkle Tree Hash of the leaf hashes
// leaves[idx[0]], leaves[idx[1]], ... Like merkleRoot it reduces aligned
// chunks concurrently, each copied first into a small buffer: copying in a
// tight loop keeps many cache misses in flight, where fetching each leaf just
// before hashing it would wait out every miss in turn.
func merkleRootOf(leaves [][32]byte, idx []int32) [32]byte {
	n := len(idx)
	if n == 0 {
		return sha256.Sum256(nil)
	}
	const chunk = 1 << 12
	tops := make([][32]byte, (n+chunk-1)/chunk)
	parallelFor(len(tops), 1, func(lo, hi int) {
		local := make([][32]byte, min(chunk, n))
		for c := lo; c < hi; c++ {
			part := idx[c*chunk : min((c+1)*chunk, n)]
			for k, j := range part {
				local[k] = leaves[j]
			}
			tops[c] = reduceLevels(local[:len(part)])
		}
	})
	return reduceLevels(tops)
}

// reduceLevels is merkleRoot for one goroutine (len(h) > 0): it reduces h
// level by level in place.
func reduceLevels(h [][32]byte) [32]byte {
	var buf [1 + 2*sha256.Size]byte
	buf[0] = 1
	for n := len(h); n > 1; {
		m := 0
		for i := 0; i+1 < n; i += 2 {
			copy(buf[1:], h[i][:])
			copy(buf[33:], h[i+1][:])
			h[m] = sha256.Sum256(buf[:])
			m++
		}
		if n%2 == 1 {
			h[m] = h[n-1]
			m++
		}
		n = m
	}
	return h[0]
}
