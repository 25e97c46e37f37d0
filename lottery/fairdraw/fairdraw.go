// Package fairdraw implements fairdraw-v1, Startline's publicly verifiable
// lottery draw (shared/DRAW-SPEC.md). Given a committed secret, the frozen
// entries of one sub-queue and an optional public beacon, Draw computes an
// order and a selection that anyone can recompute bit for bit; Verify does
// exactly that from a published Artifact alone, and InclusionProof lets a
// runner check that their entry is in the published entries_root.
//
// The package is pure: no I/O, no clock, no randomness of its own. It imports
// only the standard library so that it can back both the service and the
// `startline verify` command.
package fairdraw

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Algorithm is the value of an artifact's "algorithm" field.
const Algorithm = "fairdraw-v1"

// SecretSize is the length in bytes of a seed secret.
const SecretSize = 32

// MaxTickets is the largest weight an entry may carry.
const MaxTickets = 4096

// Sentinel errors, for errors.Is. Errors returned by this package wrap one of
// them and say which field was at fault.
var (
	// ErrInvalidInput reports a field that is not canonical fairdraw-v1
	// (a bad identifier, tickets out of range, a duplicate entry_id, ...).
	ErrInvalidInput = errors.New("fairdraw: invalid input")
	// ErrMalformedArtifact reports an artifact document that is not valid
	// JSON of the artifact's shape (missing, null, duplicate or
	// case-mangled fields, wrong types).
	ErrMalformedArtifact = errors.New("fairdraw: malformed artifact")
	// ErrUnknownAlgorithm reports an artifact of an algorithm other than
	// fairdraw-v1, which this package cannot verify.
	ErrUnknownAlgorithm = errors.New("fairdraw: unknown algorithm")
	// ErrMismatch reports that a published value differs from its
	// recomputation; the error is a *MismatchError.
	ErrMismatch = errors.New("fairdraw: mismatch")
	// ErrEntryNotFound reports an entry_id absent from the entries.
	ErrEntryNotFound = errors.New("fairdraw: entry not found")
	// ErrInvalidProof reports an inclusion proof that does not verify.
	ErrInvalidProof = errors.New("fairdraw: invalid inclusion proof")
)

// Entry is one eligible entry of a sub-queue as frozen for the draw. It holds
// no personal data.
type Entry struct {
	EntryID string `json:"entry_id"`
	Tickets int    `json:"tickets"`
	// Group is shared by the members of a group entry, empty for a solo
	// entry.
	Group string `json:"group"`
}

// Input is everything a draw of one sub-queue depends on.
type Input struct {
	EventID  string
	SubQueue string // "<course>:<pace>"
	Capacity int    // slots at draw time, ≥ 0
	// SeedSecret is the revealed secret whose SHA-256 was committed before
	// registration closed; SecretSize bytes.
	SeedSecret []byte
	Beacon     string // public beacon value, empty when none is used
	Entries    []Entry
}

// OrderItem is one unit (a group, or a solo entry) at its place in the drawn
// order.
type OrderItem struct {
	Position int      `json:"position"` // 1-based place in the whole order
	UnitID   string   `json:"unit_id"`  // the group, or the solo entry's entry_id
	EntryIDs []string `json:"entry_ids"`
	// Selected is true when the unit got slots in the draw; false means it
	// is waitlisted, keeping its order.
	Selected bool `json:"selected"`
}

// Artifact is the published result of a draw of one sub-queue: everything a
// third party needs to recompute it.
type Artifact struct {
	Algorithm   string `json:"algorithm"`
	EventID     string `json:"event_id"`
	SubQueue    string `json:"subqueue"`
	Capacity    int    `json:"capacity"`
	Commitment  string `json:"commitment"`  // hex SHA-256 of the seed secret
	SeedSecret  string `json:"seed_secret"` // hex
	Beacon      string `json:"beacon"`
	EntriesRoot string `json:"entries_root"` // hex
	// Seed is informative: Verify checks it when present; the spec does not
	// require it.
	Seed string `json:"seed,omitempty"`
	// Entries are sorted by entry_id in artifacts made by Draw; Verify
	// accepts them in any order.
	Entries []Entry     `json:"entries"`
	Order   []OrderItem `json:"order"`
}

// Commitment returns hex(sha256(secret)), the value published before
// registration closes.
func Commitment(secret []byte) string {
	sum := sha256.Sum256(secret)
	return hex.EncodeToString(sum[:])
}

// Seed returns the draw seed of one sub-queue: the hex SHA-256 of
// "fairdraw-v1|" + secretHex + "|" + root + "|" + eventID + "|" + subqueue + "|" + beacon.
func Seed(secretHex, root, eventID, subqueue, beacon string) string {
	sum := sha256.Sum256([]byte(Algorithm + "|" + secretHex + "|" + root + "|" + eventID + "|" + subqueue + "|" + beacon))
	return hex.EncodeToString(sum[:])
}

// EntryKey returns an entry's draw key, the minimum over k in 0..tickets-1 of
// sha256(seed + "|" + entryID + "|" + k) as a big-endian number; the lowest
// key is drawn first. tickets below 1 count as 1.
func EntryKey(seed, entryID string, tickets int) [32]byte {
	buf := make([]byte, 0, len(seed)+len(entryID)+8)
	buf = append(append(append(append(buf, seed...), '|'), entryID...), '|')
	base := len(buf)
	var best [32]byte
	for k := range max(tickets, 1) {
		key := sha256.Sum256(strconv.AppendInt(buf[:base], int64(k), 10))
		if k == 0 || bytes.Compare(key[:], best[:]) < 0 {
			best = key
		}
	}
	return best
}

// Draw computes the order and selection of one sub-queue. The result does not
// depend on the order of in.Entries (the artifact lists them by entry_id) nor
// on GOMAXPROCS, which bounds the goroutines it hashes and sorts with.
// Invalid input yields an error wrapping ErrInvalidInput.
func Draw(in Input) (Artifact, error) {
	if err := validateHeader(in.EventID, in.SubQueue, in.Beacon, in.Capacity); err != nil {
		return Artifact{}, err
	}
	if len(in.SeedSecret) != SecretSize {
		return Artifact{}, fmt.Errorf("%w: seed_secret is %d bytes, want %d", ErrInvalidInput, len(in.SeedSecret), SecretSize)
	}
	if err := validateEntries(in.Entries); err != nil {
		return Artifact{}, err
	}
	src := in.Entries
	ranks := rankEntries(src)
	if i := firstDuplicate(src, ranks); i >= 0 {
		return Artifact{}, fmt.Errorf("%w: entry_id %q appears more than once", ErrInvalidInput, src[i].EntryID)
	}
	idx := sortedIndex(ranks)
	entries := make([]Entry, len(src))
	gather(entries, src, idx)

	// Hashing walks the entries in input order, usually their order in
	// memory; reading each at its sorted place instead would miss the cache
	// on nearly every entry of a large draw. merkleRootOf takes the leaf
	// hashes in entry_id order through idx, and their buffer then holds the
	// keys, also in input order.
	digests := make([][32]byte, len(src))
	hashLeaves(src, nil, digests)
	rootSum := merkleRootOf(digests, idx)
	root := hex.EncodeToString(rootSum[:])
	secretHex := hex.EncodeToString(in.SeedSecret)
	seed := Seed(secretHex, root, in.EventID, in.SubQueue, in.Beacon)
	hashKeys(seed, src, digests)
	order := buildOrder(src, idx, entries, digests, ranks, in.Capacity)

	return Artifact{
		Algorithm:   Algorithm,
		EventID:     in.EventID,
		SubQueue:    in.SubQueue,
		Capacity:    in.Capacity,
		Commitment:  Commitment(in.SeedSecret),
		SeedSecret:  secretHex,
		Beacon:      in.Beacon,
		EntriesRoot: root,
		Seed:        seed,
		Entries:     entries,
		Order:       order,
	}, nil
}

// rank is a sort record: the first eight bytes of a sort key and two
// numbers, depending on what is sorted. Entries and units share the type so
// that the units can reuse the entries' buffer.
type rank struct {
	prefix uint64
	a, b   int32
}

// rankEntries returns, in entry_id byte order, a rank per entry holding the
// first eight bytes of its entry_id and its input index (a). It sorts 16-byte
// ranks rather than the entries, comparing whole strings only when the first
// eight bytes tie.
func rankEntries(src []Entry) []rank {
	ranks := make([]rank, len(src))
	parallelFor(len(src), 8192, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ranks[i] = rank{prefix: prefix8(src[i].EntryID), a: int32(i)}
		}
	})
	parallelSort(ranks, func(x, y rank) int {
		if c := cmp.Compare(x.prefix, y.prefix); c != 0 {
			return c
		}
		return strings.Compare(src[x.a].EntryID, src[y.a].EntryID)
	})
	return ranks
}

// firstDuplicate returns the input index of an entry_id that appears twice,
// or -1.
func firstDuplicate(src []Entry, ranks []rank) int {
	for i := 1; i < len(ranks); i++ {
		if ranks[i].prefix == ranks[i-1].prefix && src[ranks[i].a].EntryID == src[ranks[i-1].a].EntryID {
			return int(ranks[i].a)
		}
	}
	return -1
}

// sortedIndex returns the input index of each entry in entry_id order.
func sortedIndex(ranks []rank) []int32 {
	idx := make([]int32, len(ranks))
	for i, r := range ranks {
		idx[i] = r.a
	}
	return idx
}

// gather sets dst[i] = src[idx[i]].
func gather[T any](dst, src []T, idx []int32) {
	parallelFor(len(idx), 8192, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] = src[idx[i]]
		}
	})
}

// prefix8 packs the first eight bytes of s big-endian, zero padded. Zero sorts
// below every byte allowed in an identifier, so prefixes order like strings.
func prefix8(s string) uint64 {
	var b [8]byte
	copy(b[:], s)
	return binary.BigEndian.Uint64(b[:])
}

// hashKeys sets keys[j] to the entry key of src[j].
func hashKeys(seed string, src []Entry, keys [][32]byte) {
	parallelFor(len(src), 2048, func(lo, hi int) {
		kh := newKeyHasher(seed)
		for j := lo; j < hi; j++ {
			keys[j] = kh.key(src[j].EntryID, src[j].Tickets)
		}
	})
}

// keyHasher computes entry keys for one seed. The hex seed is exactly one
// SHA-256 block, so it hashes that block once and resumes from the saved
// state for every ticket, halving the work.
type keyHasher struct {
	seed     string
	h        hash.Hash
	resume   encoding.BinaryUnmarshaler
	state    []byte
	buf      []byte
	sum      []byte
	midstate bool
}

func newKeyHasher(seed string) *keyHasher {
	kh := &keyHasher{seed: seed, h: sha256.New(), buf: make([]byte, 0, 128), sum: make([]byte, 0, sha256.Size)}
	m, ok1 := kh.h.(encoding.BinaryMarshaler)
	u, ok2 := kh.h.(encoding.BinaryUnmarshaler)
	if len(seed) == sha256.BlockSize && ok1 && ok2 {
		kh.h.Write([]byte(seed))
		if state, err := m.MarshalBinary(); err == nil {
			kh.state, kh.resume, kh.midstate = state, u, true
		}
	}
	return kh
}

func (kh *keyHasher) key(entryID string, tickets int) [32]byte {
	if !kh.midstate {
		return EntryKey(kh.seed, entryID, tickets)
	}
	buf := append(append(append(kh.buf[:0], '|'), entryID...), '|')
	base := len(buf)
	var best [32]byte
	for k := range max(tickets, 1) {
		buf = strconv.AppendInt(buf[:base], int64(k), 10)
		if err := kh.resume.UnmarshalBinary(kh.state); err != nil {
			kh.midstate = false // cannot happen with crypto/sha256; stay correct anyway
			return EntryKey(kh.seed, entryID, tickets)
		}
		kh.h.Write(buf)
		kh.sum = kh.h.Sum(kh.sum[:0])
		if k == 0 || bytes.Compare(kh.sum, best[:]) < 0 {
			copy(best[:], kh.sum)
		}
	}
	kh.buf = buf
	return best
}

// numberGroups identifies the groups: groupOf[j] is 0 for a solo src[j], else
// a number in 1..limit-1 shared by exactly the entries of src[j]'s group.
// grouped counts the entries in groups, nGroups the distinct groups. Groups
// are sharded by hash across goroutines, each numbering its own with its own
// map; the numbers mean nothing else, so the sharding cannot show in a draw.
func numberGroups(src []Entry) (groupOf []int32, limit, grouped, nGroups int) {
	const solo = 0xff
	workers := min(runtime.GOMAXPROCS(0), 64, max(1, len(src)/16384))
	if len(src) > math.MaxInt32/workers {
		workers = 1
	}
	// shard[j] is the goroutine that numbers src[j]'s group.
	shard := make([]uint8, len(src))
	seed := maphash.MakeSeed()
	var count atomic.Int64
	parallelFor(len(src), 8192, func(lo, hi int) {
		n := 0
		for j := lo; j < hi; j++ {
			switch g := src[j].Group; {
			case g == "":
				shard[j] = solo
			case workers > 1:
				shard[j] = uint8(maphash.String(seed, g) % uint64(workers))
				n++
			default:
				n++
			}
		}
		count.Add(int64(n))
	})
	grouped = int(count.Load())

	groupOf = make([]int32, len(src))
	counts := make([]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			groups := make(map[string]int32, grouped/(2*workers))
			for j, sh := range shard {
				if sh != uint8(w) {
					continue
				}
				g := src[j].Group
				id, ok := groups[g]
				if !ok {
					id = int32(len(groups))
					groups[g] = id
				}
				groupOf[j] = id*int32(workers) + int32(w) + 1
			}
			counts[w] = len(groups)
		})
	}
	wg.Wait()
	for _, c := range counts {
		nGroups += c
	}
	return groupOf, workers*slices.Max(counts) + 1, grouped, nGroups
}

// unit is a group or solo entry while the order is built. It holds indexes
// into the entries in entry_id order rather than strings, so that the garbage
// collector need not scan the units.
type unit struct {
	leader int32 // the first member, whose group or entry_id is the unit_id
	minKey int32 // input index of the member holding the smallest key
	first  int32 // offset of the members in the shared entry_ids array
	size   int32
}

// unitID returns the unit_id of a unit led by e.
func unitID(e *Entry) string {
	if e.Group != "" {
		return e.Group
	}
	return e.EntryID
}

// buildOrder groups the entries into units, orders them by (key, unit_id)
// and allocates capacity. entries are in entry_id order, keys in input order:
// entries[i] is src[idx[i]], whose key is keys[idx[i]]. buf is reused for the
// units' ranks.
func buildOrder(src []Entry, idx []int32, entries []Entry, keys [][32]byte, buf []rank, capacity int) []OrderItem {
	n := len(entries)
	groupOf, limit, grouped, nGroups := numberGroups(src)
	sortedGroup := make([]int32, n) // groupOf in entry_id order
	gather(sortedGroup, groupOf, idx)
	unitOf := groupOf // reused: groupOf is no longer needed

	// Units are numbered by their first member in entry_id order, so the
	// passes below mostly walk memory in order; unit numbers are internal,
	// as units are sorted by (key, unit_id) at the end.
	units := make([]unit, n-grouped+nGroups)
	groupUnit := make([]int32, limit) // 1 + unit number of each group
	next := int32(0)
	for i := range entries {
		var u int32
		switch g := sortedGroup[i]; {
		case g == 0:
			u = next
			next++
		case groupUnit[g] == 0:
			u = next
			next++
			groupUnit[g] = u + 1
		default:
			u = groupUnit[g] - 1
		}
		unitOf[i] = u
		p := &units[u]
		if j := idx[i]; p.size == 0 {
			p.leader, p.minKey = int32(i), j
		} else if bytes.Compare(keys[j][:], keys[p.minKey][:]) < 0 {
			p.minKey = j
		}
		p.size++
	}
	groupUnit, sortedGroup = nil, nil

	// Members go into one shared array. first starts at each unit's end
	// offset and is decremented while filling backwards, which keeps every
	// unit's members in entry_id order.
	end := int32(0)
	for u := range units {
		end += units[u].size
		units[u].first = end
	}
	members := make([]string, n)
	for i := n - 1; i >= 0; i-- {
		p := &units[unitOf[i]]
		p.first--
		members[p.first] = entries[i].EntryID
	}
	unitOf = nil

	ranks := buf[:len(units)] // unit ranks: a is the unit, b its size
	for u := range units {
		ranks[u] = rank{binary.BigEndian.Uint64(keys[units[u].minKey][:8]), int32(u), units[u].size}
	}
	parallelSort(ranks, func(x, y rank) int {
		if c := cmp.Compare(x.prefix, y.prefix); c != 0 {
			return c
		}
		ua, ub := &units[x.a], &units[y.a]
		if c := bytes.Compare(keys[ua.minKey][:], keys[ub.minKey][:]); c != 0 {
			return c
		}
		return strings.Compare(unitID(&entries[ua.leader]), unitID(&entries[ub.leader]))
	})

	order := make([]OrderItem, len(units))
	remaining := capacity
	for r := range ranks {
		if size := int(ranks[r].b); size <= remaining {
			remaining -= size
			order[r].Selected = true
		}
	}
	parallelFor(len(order), 4096, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			u := &units[ranks[r].a]
			it := &order[r]
			it.Position = r + 1
			it.UnitID = unitID(&entries[u.leader])
			it.EntryIDs = members[u.first : u.first+u.size : u.first+u.size]
		}
	})
	return order
}

func validateHeader(eventID, subqueue, beacon string, capacity int) error {
	if !isIdent(eventID, 1, 64, true) {
		return fmt.Errorf("%w: event_id %q does not match [a-z0-9-]{1,64}", ErrInvalidInput, eventID)
	}
	course, pace, ok := strings.Cut(subqueue, ":")
	if !ok || !isIdent(course, 1, 32, true) || !isIdent(pace, 1, 32, true) {
		return fmt.Errorf("%w: subqueue %q is not <course>:<pace> with parts [a-z0-9-]{1,32}", ErrInvalidInput, subqueue)
	}
	if !isIdent(beacon, 0, 256, false) {
		return fmt.Errorf("%w: beacon %q does not match [a-z0-9]{0,256}", ErrInvalidInput, beacon)
	}
	if capacity < 0 {
		return fmt.Errorf("%w: capacity is %d, want ≥ 0", ErrInvalidInput, capacity)
	}
	return nil
}

// validateEntries checks every field's format; duplicates are found once the
// entries are ranked. The common all-valid case is checked concurrently; the
// error, if any, comes from a sequential pass so that it names the first bad
// entry.
func validateEntries(entries []Entry) error {
	if len(entries) > math.MaxInt32 {
		return fmt.Errorf("%w: %d entries, want at most %d", ErrInvalidInput, len(entries), math.MaxInt32)
	}
	var bad atomic.Bool
	parallelFor(len(entries), 16384, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if validateEntry(i, &entries[i]) != nil {
				bad.Store(true)
				return
			}
		}
	})
	if !bad.Load() {
		return nil
	}
	for i := range entries {
		if err := validateEntry(i, &entries[i]); err != nil {
			return err
		}
	}
	return nil
}

func validateEntry(i int, e *Entry) error {
	if !isIdent(e.EntryID, 1, 64, true) {
		return fmt.Errorf("%w: entries[%d].entry_id %q does not match [a-z0-9-]{1,64}", ErrInvalidInput, i, e.EntryID)
	}
	if e.Tickets < 1 || e.Tickets > MaxTickets {
		return fmt.Errorf("%w: entries[%d] (%s): tickets is %d, want 1..%d", ErrInvalidInput, i, e.EntryID, e.Tickets, MaxTickets)
	}
	if !isIdent(e.Group, 0, 64, true) {
		return fmt.Errorf("%w: entries[%d] (%s): group %q does not match [a-z0-9-]{0,64}", ErrInvalidInput, i, e.EntryID, e.Group)
	}
	return nil
}

const (
	alnum = 1 << iota // [a-z0-9]
	dash              // '-'
)

// identChars classifies the bytes allowed in identifiers; a table beats
// range checks on the hex-and-dash mix of UUIDs, which defeats the branch
// predictor.
var identChars = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = alnum
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = alnum
	}
	t['-'] = dash
	return t
}()

// isIdent reports whether s is minLen..maxLen bytes of [a-z0-9], plus '-'
// when withDash is set.
func isIdent(s string, minLen, maxLen int, withDash bool) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	allowed := uint8(alnum)
	if withDash {
		allowed |= dash
	}
	for i := 0; i < len(s); i++ {
		if identChars[s[i]]&allowed == 0 {
			return false
		}
	}
	return true
}

// isHex32 reports whether s is 32 bytes in lowercase hex.
func isHex32(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9') && !('a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
