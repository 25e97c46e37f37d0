package fairdraw_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery/fairdraw"
)

// vector is one known answer of DRAW-VECTORS.json, decoded without
// ParseArtifact so that the known-answer test does not rely on it.
type vector struct {
	Name        string               `json:"name"`
	Seed        string               `json:"seed"`
	Algorithm   string               `json:"algorithm"`
	EventID     string               `json:"event_id"`
	SubQueue    string               `json:"subqueue"`
	Capacity    int                  `json:"capacity"`
	Commitment  string               `json:"commitment"`
	SeedSecret  string               `json:"seed_secret"`
	Beacon      string               `json:"beacon"`
	EntriesRoot string               `json:"entries_root"`
	Entries     []fairdraw.Entry     `json:"entries"`
	Order       []fairdraw.OrderItem `json:"order"`
	Raw         json.RawMessage      `json:"-"`
}

// vectorsPath finds shared/DRAW-VECTORS.json in the package directory or one
// of its parents (shared/ sits beside the repository), else falls back to the
// copy in testdata.
func vectorsPath(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "DRAW-VECTORS.json")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join("testdata", "DRAW-VECTORS.json")
		}
		dir = parent
	}
}

func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	path := vectorsPath(tb)
	if t, ok := tb.(*testing.T); ok {
		t.Logf("known answers from %s", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if len(raws) == 0 {
		tb.Fatalf("%s holds no vectors", path)
	}
	vs := make([]vector, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &vs[i]); err != nil {
			tb.Fatalf("%s: vector %d: %v", path, i, err)
		}
		vs[i].Raw = raw
	}
	return vs
}

func (v vector) input(tb testing.TB) fairdraw.Input {
	tb.Helper()
	secret, err := hex.DecodeString(v.SeedSecret)
	if err != nil {
		tb.Fatalf("%s: seed_secret: %v", v.Name, err)
	}
	return fairdraw.Input{
		EventID:    v.EventID,
		SubQueue:   v.SubQueue,
		Capacity:   v.Capacity,
		SeedSecret: secret,
		Beacon:     v.Beacon,
		Entries:    v.Entries,
	}
}

func TestKnownAnswers(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			in := v.input(t)
			if got := fairdraw.Commitment(in.SeedSecret); got != v.Commitment {
				t.Errorf("Commitment = %s, want %s", got, v.Commitment)
			}
			if got := fairdraw.EntriesRoot(v.Entries); got != v.EntriesRoot {
				t.Errorf("EntriesRoot = %s, want %s", got, v.EntriesRoot)
			}
			if got := fairdraw.Seed(v.SeedSecret, v.EntriesRoot, v.EventID, v.SubQueue, v.Beacon); got != v.Seed {
				t.Errorf("Seed = %s, want %s", got, v.Seed)
			}

			got, err := fairdraw.Draw(in)
			if err != nil {
				t.Fatalf("Draw: %v", err)
			}
			want := fairdraw.Artifact{
				Algorithm:   v.Algorithm,
				EventID:     v.EventID,
				SubQueue:    v.SubQueue,
				Capacity:    v.Capacity,
				Commitment:  v.Commitment,
				SeedSecret:  v.SeedSecret,
				Beacon:      v.Beacon,
				EntriesRoot: v.EntriesRoot,
				Seed:        v.Seed,
				Entries:     slices.Clone(v.Entries),
				Order:       v.Order,
			}
			// Draw lists the entries by entry_id.
			slices.SortFunc(want.Entries, func(a, b fairdraw.Entry) int { return strings.Compare(a.EntryID, b.EntryID) })
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Draw mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerifyVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			a, err := fairdraw.ParseArtifact(v.Raw)
			if err != nil {
				t.Fatalf("ParseArtifact: %v", err)
			}
			if err := fairdraw.Verify(a); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// cloneArtifact returns a deep copy of a.
func cloneArtifact(a fairdraw.Artifact) fairdraw.Artifact {
	a.Entries = slices.Clone(a.Entries)
	a.Order = slices.Clone(a.Order)
	for i := range a.Order {
		a.Order[i].EntryIDs = slices.Clone(a.Order[i].EntryIDs)
	}
	return a
}

// flipHex changes the first hex digit of s.
func flipHex(s string) string {
	b := []byte(s)
	if b[0] == '0' {
		b[0] = '1'
	} else {
		b[0] = '0'
	}
	return string(b)
}

func TestVerifyDetectsTampering(t *testing.T) {
	type mutation struct {
		name   string
		mutate func(*fairdraw.Artifact)
	}
	for _, v := range loadVectors(t) {
		orig, err := fairdraw.ParseArtifact(v.Raw)
		if err != nil {
			t.Fatalf("%s: ParseArtifact: %v", v.Name, err)
		}
		muts := []mutation{
			{"commitment", func(a *fairdraw.Artifact) { a.Commitment = flipHex(a.Commitment) }},
			{"seed_secret", func(a *fairdraw.Artifact) { a.SeedSecret = flipHex(a.SeedSecret) }},
			{"entries_root", func(a *fairdraw.Artifact) { a.EntriesRoot = flipHex(a.EntriesRoot) }},
			{"seed", func(a *fairdraw.Artifact) { a.Seed = flipHex(a.Seed) }},
			{"event_id", func(a *fairdraw.Artifact) { a.EventID += "-x" }},
			{"subqueue", func(a *fairdraw.Artifact) { a.SubQueue += "x" }},
			{"beacon", func(a *fairdraw.Artifact) { a.Beacon += "0" }},
			{"algorithm", func(a *fairdraw.Artifact) { a.Algorithm = "fairdraw-v2" }},
			{"add entry", func(a *fairdraw.Artifact) {
				a.Entries = append(a.Entries, fairdraw.Entry{EntryID: "zz-late", Tickets: 1})
			}},
			{"add order item", func(a *fairdraw.Artifact) {
				a.Order = append(a.Order, fairdraw.OrderItem{Position: len(a.Order) + 1, UnitID: "zz-late", EntryIDs: []string{"zz-late"}})
			}},
		}
		if len(orig.Entries) > 0 {
			muts = append(muts, mutation{"remove entry", func(a *fairdraw.Artifact) { a.Entries = a.Entries[1:] }})
			muts = append(muts, mutation{"remove order item", func(a *fairdraw.Artifact) { a.Order = a.Order[:len(a.Order)-1] }})
		}
		if slices.ContainsFunc(orig.Order, func(it fairdraw.OrderItem) bool { return it.Selected }) {
			muts = append(muts, mutation{"capacity 0", func(a *fairdraw.Artifact) { a.Capacity = 0 }})
		}
		for i, e := range orig.Entries {
			muts = append(muts,
				mutation{"entries[" + itoa(i) + "].tickets", func(a *fairdraw.Artifact) {
					if e.Tickets < fairdraw.MaxTickets {
						a.Entries[i].Tickets++
					} else {
						a.Entries[i].Tickets--
					}
				}},
				mutation{"entries[" + itoa(i) + "].group", func(a *fairdraw.Artifact) {
					if e.Group == "" {
						a.Entries[i].Group = "zz-new-group"
					} else {
						a.Entries[i].Group = ""
					}
				}},
				mutation{"entries[" + itoa(i) + "].entry_id", func(a *fairdraw.Artifact) { a.Entries[i].EntryID += "0" }},
			)
		}
		for i, it := range orig.Order {
			muts = append(muts,
				mutation{"order[" + itoa(i) + "].selected", func(a *fairdraw.Artifact) { a.Order[i].Selected = !a.Order[i].Selected }},
				mutation{"order[" + itoa(i) + "].position", func(a *fairdraw.Artifact) { a.Order[i].Position++ }},
				mutation{"order[" + itoa(i) + "].unit_id", func(a *fairdraw.Artifact) { a.Order[i].UnitID += "0" }},
			)
			if len(it.EntryIDs) > 1 {
				muts = append(muts, mutation{"order[" + itoa(i) + "].entry_ids reversed", func(a *fairdraw.Artifact) {
					slices.Reverse(a.Order[i].EntryIDs)
				}})
			}
			if i+1 < len(orig.Order) {
				muts = append(muts,
					mutation{"swap order[" + itoa(i) + "] and next", func(a *fairdraw.Artifact) {
						a.Order[i], a.Order[i+1] = a.Order[i+1], a.Order[i]
					}},
					mutation{"swap units at order[" + itoa(i) + "] and next, keeping positions", func(a *fairdraw.Artifact) {
						a.Order[i], a.Order[i+1] = a.Order[i+1], a.Order[i]
						a.Order[i].Position, a.Order[i+1].Position = a.Order[i+1].Position, a.Order[i].Position
					}},
				)
			}
		}
		for _, m := range muts {
			t.Run(v.Name+"/"+m.name, func(t *testing.T) {
				a := cloneArtifact(orig)
				m.mutate(&a)
				err := fairdraw.Verify(a)
				if err == nil {
					t.Fatal("Verify accepted the tampered artifact")
				}
				if !errors.Is(err, fairdraw.ErrMismatch) && !errors.Is(err, fairdraw.ErrInvalidInput) && !errors.Is(err, fairdraw.ErrUnknownAlgorithm) {
					t.Errorf("Verify error %v wraps none of the sentinels", err)
				}
			})
		}
		if err := fairdraw.Verify(orig); err != nil {
			t.Errorf("%s: mutations changed the original: %v", v.Name, err)
		}
	}
}

// TestVerifyByteFlips flips bits of every byte of the published JSON: each
// result must fail to parse, fail to verify, or mean the same artifact (a flip
// in an extra field such as "name", or a renamed "seed", which is optional
// and derived).
func TestVerifyByteFlips(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Name != "one-entry" && v.Name != "group-skipped-later-unit-fits" {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			orig, err := fairdraw.ParseArtifact(v.Raw)
			if err != nil {
				t.Fatal(err)
			}
			for i := range v.Raw {
				for _, mask := range []byte{0x01, 0x20} {
					data := slices.Clone([]byte(v.Raw))
					data[i] ^= mask
					a, err := fairdraw.ParseArtifact(data)
					if err != nil || fairdraw.Verify(a) != nil {
						continue
					}
					if a.Seed == "" {
						a.Seed = orig.Seed
					}
					if diff := cmp.Diff(orig, a); diff != "" {
						t.Errorf("byte %d ^ %#x: tampered artifact verifies (-orig +tampered):\n%s", i, mask, diff)
					}
				}
			}
		})
	}
}

func TestVerifyReportsFirstMismatch(t *testing.T) {
	var v vector
	for _, x := range loadVectors(t) {
		if x.Name == "groups-with-beacon" {
			v = x
		}
	}
	orig, err := fairdraw.ParseArtifact(v.Raw)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*fairdraw.Artifact)
		want   string
	}{
		{
			name:   "commitment before everything else",
			mutate: func(a *fairdraw.Artifact) { a.SeedSecret = flipHex(a.SeedSecret); a.Order[0].Selected = false },
			want:   "commitment mismatch: artifact says " + orig.Commitment + ", recomputed ",
		},
		{
			name:   "unit id",
			mutate: func(a *fairdraw.Artifact) { a.Order[3].UnitID = "team-9" },
			want:   `order[3].unit_id mismatch: artifact says "team-9", recomputed "` + orig.Order[3].UnitID + `"`,
		},
		{
			name:   "selected",
			mutate: func(a *fairdraw.Artifact) { a.Order[8].Selected = true; a.Order[7].Selected = true },
			want:   "order[7].selected mismatch: artifact says true, recomputed false",
		},
		{
			name:   "length",
			mutate: func(a *fairdraw.Artifact) { a.Order = a.Order[:5] },
			want:   "len(order) mismatch: artifact says 5, recomputed 9",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := cloneArtifact(orig)
			tt.mutate(&a)
			err := fairdraw.Verify(a)
			var me *fairdraw.MismatchError
			if !errors.As(err, &me) {
				t.Fatalf("Verify = %v, want a *MismatchError", err)
			}
			if got := err.Error(); len(got) < len(tt.want) || got[:len(tt.want)] != tt.want {
				t.Errorf("Verify = %q, want prefix %q", got, tt.want)
			}
		})
	}
}
