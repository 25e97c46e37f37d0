package fairdraw_test

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery/fairdraw"
)

// reference is a deliberately naive fairdraw-v1, written straight from the
// spec with fmt and maps, to check the optimised Draw against.
func reference(in fairdraw.Input) fairdraw.Artifact {
	entries := slices.Clone(in.Entries)
	slices.SortFunc(entries, func(a, b fairdraw.Entry) int { return strings.Compare(a.EntryID, b.EntryID) })
	leaves := make([][]byte, len(entries))
	for i, e := range entries {
		leaves[i] = []byte(fmt.Sprintf("%s|%d|%s", e.EntryID, e.Tickets, e.Group))
	}
	rootSum := refMTH(leaves)
	root := hex.EncodeToString(rootSum[:])
	secretHex := hex.EncodeToString(in.SeedSecret)
	seedSum := sha256.Sum256([]byte(fmt.Sprintf("fairdraw-v1|%s|%s|%s|%s|%s", secretHex, root, in.EventID, in.SubQueue, in.Beacon)))
	seed := hex.EncodeToString(seedSum[:])

	type refUnit struct {
		id      string
		key     []byte
		members []string
	}
	units := map[string]*refUnit{}
	var ids []string
	for _, e := range entries {
		var best []byte
		for k := 0; k < e.Tickets; k++ {
			sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d", seed, e.EntryID, k)))
			if best == nil || bytes.Compare(sum[:], best) < 0 {
				best = sum[:]
			}
		}
		id, mapKey := e.Group, "group "+e.Group
		if id == "" {
			id, mapKey = e.EntryID, "solo "+e.EntryID
		}
		u, ok := units[mapKey]
		if !ok {
			u = &refUnit{id: id, key: best}
			units[mapKey] = u
			ids = append(ids, mapKey)
		} else if bytes.Compare(best, u.key) < 0 {
			u.key = best
		}
		u.members = append(u.members, e.EntryID)
	}
	list := make([]*refUnit, 0, len(units))
	for _, id := range ids {
		list = append(list, units[id])
	}
	slices.SortFunc(list, func(a, b *refUnit) int {
		return cmp.Or(bytes.Compare(a.key, b.key), strings.Compare(a.id, b.id))
	})
	order := []fairdraw.OrderItem{}
	remaining := in.Capacity
	for i, u := range list {
		sel := len(u.members) <= remaining
		if sel {
			remaining -= len(u.members)
		}
		order = append(order, fairdraw.OrderItem{Position: i + 1, UnitID: u.id, EntryIDs: u.members, Selected: sel})
	}
	if entries == nil {
		entries = []fairdraw.Entry{}
	}
	return fairdraw.Artifact{
		Algorithm:   "fairdraw-v1",
		EventID:     in.EventID,
		SubQueue:    in.SubQueue,
		Capacity:    in.Capacity,
		Commitment:  fmt.Sprintf("%x", sha256.Sum256(in.SeedSecret)),
		SeedSecret:  secretHex,
		Beacon:      in.Beacon,
		EntriesRoot: root,
		Seed:        seed,
		Entries:     entries,
		Order:       order,
	}
}

// randomInput returns a small random draw input. Identifiers come from a
// small alphabet so that a group may share its name with a solo entry_id.
func randomInput(r *rand.Rand, maxEntries int) fairdraw.Input {
	n := r.IntN(maxEntries + 1)
	seen := map[string]bool{}
	var entries []fairdraw.Entry
	for len(entries) < n {
		id := fmt.Sprintf("e%d", r.IntN(4*maxEntries+10))
		if r.IntN(3) == 0 {
			id = fmt.Sprintf("%016x-%x", r.Uint64(), r.IntN(16))
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		e := fairdraw.Entry{EntryID: id, Tickets: 1 + r.IntN(8)}
		if r.IntN(50) == 0 {
			e.Tickets = 1 + r.IntN(fairdraw.MaxTickets)
		}
		if r.IntN(5) < 2 {
			e.Group = fmt.Sprintf("e%d", r.IntN(6)) // some groups of 1; may equal an entry_id
		}
		entries = append(entries, e)
	}
	secret := make([]byte, fairdraw.SecretSize)
	for i := range secret {
		secret[i] = byte(r.Uint32())
	}
	beacon := ""
	if r.IntN(2) == 0 {
		beacon = fmt.Sprintf("%x", r.Uint64())
	}
	return fairdraw.Input{
		EventID:    "ev-" + fmt.Sprint(r.IntN(100)),
		SubQueue:   "full:sub-" + fmt.Sprint(r.IntN(10)),
		Capacity:   r.IntN(n + 3),
		SeedSecret: secret,
		Beacon:     beacon,
		Entries:    entries,
	}
}

func TestDrawProperties(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 1))
		in := randomInput(r, 40)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			got, err := fairdraw.Draw(in)
			if err != nil {
				t.Fatalf("Draw: %v", err)
			}
			if diff := gocmp.Diff(reference(in), got); diff != "" {
				t.Fatalf("Draw differs from the reference (-ref +got):\n%s", diff)
			}
			if err := fairdraw.Verify(got); err != nil {
				t.Errorf("Verify: %v", err)
			}

			// Capacity is never exceeded and allocation is the greedy walk.
			selected, remaining := 0, in.Capacity
			for _, it := range got.Order {
				if fits := len(it.EntryIDs) <= remaining; fits != it.Selected {
					t.Errorf("position %d (size %d, %d slots left): selected = %v", it.Position, len(it.EntryIDs), remaining, it.Selected)
				}
				if it.Selected {
					selected += len(it.EntryIDs)
					remaining -= len(it.EntryIDs)
				}
			}
			if selected > in.Capacity {
				t.Errorf("%d selected, capacity %d", selected, in.Capacity)
			}

			// The order is a permutation of the units; groups are whole.
			unitOf := map[string]string{} // entry_id → unit_id
			for i, it := range got.Order {
				if it.Position != i+1 {
					t.Errorf("order[%d].position = %d", i, it.Position)
				}
				if !slices.IsSorted(it.EntryIDs) {
					t.Errorf("order[%d].entry_ids not sorted: %q", i, it.EntryIDs)
				}
				for _, id := range it.EntryIDs {
					if _, dup := unitOf[id]; dup {
						t.Errorf("entry %s appears twice in the order", id)
					}
					unitOf[id] = it.UnitID
				}
			}
			groupPos := map[string]int{} // group → position of its unit
			for _, e := range in.Entries {
				u, ok := unitOf[e.EntryID]
				switch {
				case !ok:
					t.Errorf("entry %s missing from the order", e.EntryID)
				case e.Group == "" && u != e.EntryID:
					t.Errorf("solo entry %s in unit %s", e.EntryID, u)
				case e.Group != "" && u != e.Group:
					t.Errorf("entry %s of group %s in unit %s", e.EntryID, e.Group, u)
				}
				if e.Group == "" {
					continue
				}
				pos := positionOf(got.Order, e.EntryID)
				if prev, ok := groupPos[e.Group]; ok && prev != pos {
					t.Errorf("group %s split across positions %d and %d", e.Group, prev, pos)
				}
				groupPos[e.Group] = pos
			}
			if len(unitOf) != len(in.Entries) {
				t.Errorf("order holds %d entries, input %d", len(unitOf), len(in.Entries))
			}

			// Every entry proves its inclusion in entries_root, at its
			// own index only.
			for _, e := range in.Entries {
				idx, size, path, err := fairdraw.InclusionProof(in.Entries, e.EntryID)
				if err != nil {
					t.Fatalf("InclusionProof(%s): %v", e.EntryID, err)
				}
				if err := fairdraw.VerifyInclusion(fairdraw.LeafData(e), idx, size, path, got.EntriesRoot); err != nil {
					t.Errorf("VerifyInclusion(%s): %v", e.EntryID, err)
				}
				wrong := e
				wrong.Tickets = e.Tickets%fairdraw.MaxTickets + 1
				if fairdraw.VerifyInclusion(fairdraw.LeafData(wrong), idx, size, path, got.EntriesRoot) == nil {
					t.Errorf("VerifyInclusion(%s) accepted tickets %d", e.EntryID, wrong.Tickets)
				}
				if size > 1 && fairdraw.VerifyInclusion(fairdraw.LeafData(e), (idx+1)%size, size, path, got.EntriesRoot) == nil {
					t.Errorf("VerifyInclusion(%s) accepted index %d", e.EntryID, (idx+1)%size)
				}
			}

			// The input order does not matter.
			shuffled := in
			shuffled.Entries = slices.Clone(in.Entries)
			r.Shuffle(len(shuffled.Entries), func(i, j int) {
				shuffled.Entries[i], shuffled.Entries[j] = shuffled.Entries[j], shuffled.Entries[i]
			})
			again, err := fairdraw.Draw(shuffled)
			if err != nil {
				t.Fatalf("Draw(shuffled): %v", err)
			}
			if diff := gocmp.Diff(got, again); diff != "" {
				t.Errorf("shuffled entries give another artifact (-orig +shuffled):\n%s", diff)
			}
		})
	}
}

func positionOf(order []fairdraw.OrderItem, entryID string) int {
	for _, it := range order {
		if slices.Contains(it.EntryIDs, entryID) {
			return it.Position
		}
	}
	return 0
}

// TestDrawLargeParallel runs a draw big enough for every concurrent code path
// under several GOMAXPROCS settings: the result must not change, and must
// match the reference.
func TestDrawLargeParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("large draw")
	}
	in := syntheticInput(60_000, 7)
	want := reference(in)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 3, 8} {
		runtime.GOMAXPROCS(procs)
		got, err := fairdraw.Draw(in)
		if err != nil {
			t.Fatalf("GOMAXPROCS=%d: Draw: %v", procs, err)
		}
		if !reflect.DeepEqual(want, got) { // cmp.Diff is slow on 60,000 entries; use it to explain only
			t.Fatalf("GOMAXPROCS=%d: Draw differs from the reference (-ref +got):\n%s", procs, gocmp.Diff(want, got))
		}
		if root := fairdraw.EntriesRoot(in.Entries); root != want.EntriesRoot {
			t.Errorf("GOMAXPROCS=%d: EntriesRoot = %s, want %s", procs, root, want.EntriesRoot)
		}
	}
}

func TestEntryKey(t *testing.T) {
	seed := strings.Repeat("ab", 32)
	key := func(k int) [32]byte { return sha256.Sum256([]byte(seed + "|e-1|" + fmt.Sprint(k))) }
	tests := []struct {
		tickets int
		want    [32]byte
	}{
		{1, key(0)},
		{0, key(0)},
		{12, slices.MinFunc([][32]byte{key(0), key(1), key(2), key(3), key(4), key(5), key(6), key(7), key(8), key(9), key(10), key(11)},
			func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })},
	}
	for _, tt := range tests {
		if got := fairdraw.EntryKey(seed, "e-1", tt.tickets); got != tt.want {
			t.Errorf("EntryKey(tickets=%d) = %x, want %x", tt.tickets, got, tt.want)
		}
	}
}

func TestDrawRejectsInvalidInput(t *testing.T) {
	valid := func() fairdraw.Input {
		return fairdraw.Input{
			EventID:    "spring-2027",
			SubQueue:   "half:sub-130",
			Capacity:   2,
			SeedSecret: make([]byte, 32),
			Beacon:     "abc123",
			Entries: []fairdraw.Entry{
				{EntryID: "a-1", Tickets: 1},
				{EntryID: "b-2", Tickets: 4096, Group: "team"},
			},
		}
	}
	tests := []struct {
		name   string
		mutate func(*fairdraw.Input)
		want   string // in the error message
	}{
		{"event_id empty", func(in *fairdraw.Input) { in.EventID = "" }, "event_id"},
		{"event_id upper", func(in *fairdraw.Input) { in.EventID = "Spring" }, "event_id"},
		{"event_id too long", func(in *fairdraw.Input) { in.EventID = strings.Repeat("a", 65) }, "event_id"},
		{"subqueue without colon", func(in *fairdraw.Input) { in.SubQueue = "half" }, "subqueue"},
		{"subqueue two colons", func(in *fairdraw.Input) { in.SubQueue = "half:a:b" }, "subqueue"},
		{"subqueue empty pace", func(in *fairdraw.Input) { in.SubQueue = "half:" }, "subqueue"},
		{"subqueue part too long", func(in *fairdraw.Input) { in.SubQueue = "half:" + strings.Repeat("p", 33) }, "subqueue"},
		{"beacon dash", func(in *fairdraw.Input) { in.Beacon = "ab-cd" }, "beacon"},
		{"beacon upper", func(in *fairdraw.Input) { in.Beacon = "ABCD" }, "beacon"},
		{"beacon too long", func(in *fairdraw.Input) { in.Beacon = strings.Repeat("0", 257) }, "beacon"},
		{"capacity negative", func(in *fairdraw.Input) { in.Capacity = -1 }, "capacity"},
		{"secret short", func(in *fairdraw.Input) { in.SeedSecret = make([]byte, 31) }, "seed_secret"},
		{"secret nil", func(in *fairdraw.Input) { in.SeedSecret = nil }, "seed_secret"},
		{"entry_id empty", func(in *fairdraw.Input) { in.Entries[1].EntryID = "" }, "entries[1].entry_id"},
		{"entry_id underscore", func(in *fairdraw.Input) { in.Entries[0].EntryID = "a_1" }, "entries[0].entry_id"},
		{"entry_id non-ascii", func(in *fairdraw.Input) { in.Entries[0].EntryID = "é" }, "entries[0].entry_id"},
		{"tickets zero", func(in *fairdraw.Input) { in.Entries[0].Tickets = 0 }, "tickets"},
		{"tickets too many", func(in *fairdraw.Input) { in.Entries[1].Tickets = 4097 }, "tickets"},
		{"group upper", func(in *fairdraw.Input) { in.Entries[1].Group = "Team" }, "group"},
		{"group too long", func(in *fairdraw.Input) { in.Entries[1].Group = strings.Repeat("g", 65) }, "group"},
		{"duplicate entry_id", func(in *fairdraw.Input) { in.Entries[1].EntryID = "a-1" }, `entry_id "a-1" appears more than once`},
	}
	if _, err := fairdraw.Draw(valid()); err != nil {
		t.Fatalf("Draw(valid) = %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.mutate(&in)
			_, err := fairdraw.Draw(in)
			if !errors.Is(err, fairdraw.ErrInvalidInput) {
				t.Fatalf("Draw = %v, want ErrInvalidInput", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Draw = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestDrawEdgeCases(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	tests := []struct {
		name     string
		capacity int
		entries  []fairdraw.Entry
		selected int // units
	}{
		{"no entries", 3, nil, 0},
		{"capacity zero", 0, []fairdraw.Entry{{"a", 1, ""}, {"b", 1, "g"}}, 0},
		{"exact fit", 3, []fairdraw.Entry{{"a", 1, ""}, {"b", 1, "g"}, {"c", 1, "g"}}, 2},
		{"group larger than capacity", 2, []fairdraw.Entry{{"a", 1, "g"}, {"b", 1, "g"}, {"c", 1, "g"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := fairdraw.Draw(fairdraw.Input{EventID: "e", SubQueue: "c:p", Capacity: tt.capacity, SeedSecret: secret, Entries: tt.entries})
			if err != nil {
				t.Fatal(err)
			}
			if a.Entries == nil || a.Order == nil {
				t.Errorf("Entries or Order is nil; want [] in JSON")
			}
			got := 0
			for _, it := range a.Order {
				if it.Selected {
					got++
				}
			}
			if got != tt.selected {
				t.Errorf("%d units selected, want %d", got, tt.selected)
			}
		})
	}
}
