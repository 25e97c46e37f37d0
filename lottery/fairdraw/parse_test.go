package fairdraw_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/startline/startline/lottery/fairdraw"
)

// baseArtifact is a valid, verifying artifact in compact JSON, edited by the
// parse tests with plain string replacement.
func baseArtifact(t *testing.T) string {
	t.Helper()
	a, err := fairdraw.Draw(fairdraw.Input{
		EventID:    "ev",
		SubQueue:   "full:p1",
		Capacity:   2,
		SeedSecret: []byte(strings.Repeat("s", 32)),
		Beacon:     "b1",
		Entries: []fairdraw.Entry{
			{EntryID: "a1", Tickets: 2, Group: "grp"},
			{EntryID: "a2", Tickets: 1, Group: "grp"},
			{EntryID: "a3", Tickets: 3},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestParseArtifact(t *testing.T) {
	base := baseArtifact(t)
	want, err := fairdraw.ParseArtifact([]byte(base))
	if err != nil {
		t.Fatalf("ParseArtifact(base): %v", err)
	}
	if err := fairdraw.Verify(want); err != nil {
		t.Fatalf("Verify(base): %v", err)
	}
	replace := func(old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("base artifact has no %q: %s", old, base)
		}
		return strings.Replace(base, old, new, 1)
	}
	tests := []struct {
		name    string
		data    string
		wantErr error // nil: parses to the base artifact
	}{
		{"extra top-level field", replace(`{"algorithm"`, `{"name":"x","extra":{"deep":[1,null]},"algorithm"`), nil},
		{"extra entry field", replace(`"tickets":3`, `"tickets":3,"note":null`), nil},
		{"minus zero in an extra field", replace(`{"algorithm"`, `{"x":-0,"algorithm"`), nil},
		{"big extra object", replace(`{"algorithm"`, `{"x":{`+bigObject(20, "")+`},"algorithm"`), nil},
		{"raw UTF-8 extra key", replace(`{"algorithm"`, `{"é":1,"algorithm"`), nil},
		{"extra order field", replace(`"position":1`, `"position":1,"Label":"x"`), nil},
		{"whitespace", strings.ReplaceAll(base, ",", " ,\n "), nil},
		{"no seed", replace(`"seed":"`, `"seed_":"`), nil},

		{"empty", "", fairdraw.ErrMalformedArtifact},
		{"not json", "{", fairdraw.ErrMalformedArtifact},
		{"trailing data", base + "{}", fairdraw.ErrMalformedArtifact},
		{"null", "null", fairdraw.ErrMalformedArtifact},
		{"array", "[]", fairdraw.ErrMalformedArtifact},
		{"missing field", replace(`"capacity":2,`, ``), fairdraw.ErrMalformedArtifact},
		{"missing entry field", replace(`,"group":""`, ``), fairdraw.ErrMalformedArtifact},
		{"missing order field", replace(`,"selected":true`, ``), fairdraw.ErrMalformedArtifact},
		{"null field", replace(`"beacon":"b1"`, `"beacon":null`), fairdraw.ErrMalformedArtifact},
		{"null entries", replace(`"entries":[`, `"entries":null,"x":[`), fairdraw.ErrMalformedArtifact},
		{"entries not array", replace(`"entries":[`, `"entries":{"a":[`), fairdraw.ErrMalformedArtifact},
		{"duplicate key", replace(`"capacity":2`, `"capacity":2,"capacity":9`), fairdraw.ErrMalformedArtifact},
		{"case-variant duplicate", replace(`"capacity":2`, `"capacity":2,"Capacity":9`), fairdraw.ErrMalformedArtifact},
		{"duplicate in big extra object", replace(`{"algorithm"`, `{"x":{`+bigObject(20, `,"K7":0`)+`},"algorithm"`), fairdraw.ErrMalformedArtifact},
		{"dotted capital I does not fold to i", replace(`"capacity":2`, `"CAPACİTY":2,"capacity":2`), nil},
		{"case-variant key", replace(`"capacity":2`, `"CAPACITY":2`), fairdraw.ErrMalformedArtifact},
		{"kelvin-sign key", replace(`"tickets":3`, `"tic\u212aets":3`), fairdraw.ErrMalformedArtifact},
		{"capacity string", replace(`"capacity":2`, `"capacity":"2"`), fairdraw.ErrMalformedArtifact},
		{"capacity float", replace(`"capacity":2`, `"capacity":2.0`), fairdraw.ErrMalformedArtifact},
		{"tickets exponent", replace(`"tickets":3`, `"tickets":3e0`), fairdraw.ErrMalformedArtifact},
		{"selected string", replace(`"selected":true`, `"selected":"true"`), fairdraw.ErrMalformedArtifact},

		{"wrong algorithm", replace(`"fairdraw-v1"`, `"fairdraw-v2"`), fairdraw.ErrUnknownAlgorithm},
		{"capacity minus zero", replace(`"capacity":2`, `"capacity":-0`), fairdraw.ErrMalformedArtifact},
		{"capacity negative", replace(`"capacity":2`, `"capacity":-1`), fairdraw.ErrInvalidInput},
		{"tickets zero", replace(`"tickets":3`, `"tickets":0`), fairdraw.ErrInvalidInput},
		{"tickets too many", replace(`"tickets":3`, `"tickets":4097`), fairdraw.ErrInvalidInput},
		{"uppercase hex", strings.Replace(base, want.Commitment, strings.ToUpper(want.Commitment), 1), fairdraw.ErrInvalidInput},
		{"short secret", strings.Replace(base, want.SeedSecret, want.SeedSecret[2:], 1), fairdraw.ErrInvalidInput},
		{"non-hex root", strings.Replace(base, want.EntriesRoot, "g"+want.EntriesRoot[1:], 1), fairdraw.ErrInvalidInput},
		{"bad seed", strings.Replace(base, want.Seed, want.Seed[1:], 1), fairdraw.ErrInvalidInput},
		{"event_id upper", replace(`"event_id":"ev"`, `"event_id":"EV"`), fairdraw.ErrInvalidInput},
		{"subqueue no colon", replace(`"subqueue":"full:p1"`, `"subqueue":"full-p1"`), fairdraw.ErrInvalidInput},
		{"beacon dash", replace(`"beacon":"b1"`, `"beacon":"b-1"`), fairdraw.ErrInvalidInput},
		{"entry_id upper", replace(`"entry_id":"a3"`, `"entry_id":"A3"`), fairdraw.ErrInvalidInput},
		{"group space", replace(`"group":"grp"`, `"group":"g p"`), fairdraw.ErrInvalidInput},
		{"duplicate entry_id", replace(`"entry_id":"a3"`, `"entry_id":"a1"`), fairdraw.ErrInvalidInput},
		{"position zero", replace(`"position":1`, `"position":0`), fairdraw.ErrInvalidInput},
		{"empty unit", replace(`"entry_ids":["a3"]`, `"entry_ids":[]`), fairdraw.ErrInvalidInput},
		{"bad unit_id", replace(`"unit_id":"a3"`, `"unit_id":"a 3"`), fairdraw.ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fairdraw.ParseArtifact([]byte(tt.data))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("ParseArtifact = %v, want %v\ninput: %s", err, tt.wantErr, tt.data)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseArtifact: %v\ninput: %s", err, tt.data)
			}
			if tt.name == "no seed" {
				got.Seed = want.Seed
			}
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("ParseArtifact (-want +got):\n%s", diff)
			}
		})
	}
}

// bigObject returns the members of an object with n distinct keys, then tail.
func bigObject(n int, tail string) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
	}
	return b.String() + tail
}

func FuzzParseArtifact(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add([]byte(v.Raw))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"algorithm":"fairdraw-v1","entries":[{"entry_id":"a","tickets":1,"group":""}],"order":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := fairdraw.ParseArtifact(data)
		if err != nil {
			return
		}
		_ = fairdraw.Verify(a) // must not panic
		out, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := fairdraw.ParseArtifact(out)
		if err != nil {
			t.Fatalf("ParseArtifact(Marshal(a)): %v\n%s", err, out)
		}
		if diff := gocmp.Diff(a, again); diff != "" {
			t.Fatalf("round trip changed the artifact (-first +second):\n%s", diff)
		}
	})
}
