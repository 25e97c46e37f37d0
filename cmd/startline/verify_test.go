package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/startline/startline/lottery/draws"
	"github.com/startline/startline/lottery/fairdraw"
	"github.com/startline/startline/lottery/prequeue"
)

func testArtifact(t *testing.T) []byte {
	t.Helper()
	secret := bytes.Repeat([]byte{7}, 32)
	in := fairdraw.Input{EventID: "demo", SubQueue: "half:sub-130", Capacity: 3, SeedSecret: secret}
	for i, id := range []string{"0a", "1b", "2c", "3d", "4e", "5f"} {
		g := ""
		if i < 2 {
			g = "g-1"
		}
		in.Entries = append(in.Entries, fairdraw.Entry{EntryID: id, Tickets: i + 1, Group: g})
	}
	a, err := fairdraw.Draw(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := draws.MarshalArtifact(a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeFile writes b to dir/name and returns its path.
func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyCommand(t *testing.T) {
	good := testArtifact(t)
	dir := t.TempDir()
	write := func(name string, b []byte) string { return writeFile(t, dir, name, b) }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"verify", write("good.json", good)}, &out); err != nil || !strings.HasPrefix(out.String(), "OK") {
		t.Fatalf("good artifact: %v %s", err, out.String())
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(good) }))
	defer srv.Close()
	out.Reset()
	if err := run(context.Background(), []string{"verify", srv.URL + "/artifact.json"}, &out); err != nil {
		t.Fatalf("URL: %v %s", err, out.String())
	}

	// Any edited value in the entries, the seed or the order must fail.
	edits := map[string]func(m map[string]any){
		"tickets":     func(m map[string]any) { m["entries"].([]any)[2].(map[string]any)["tickets"] = 9.0 },
		"group":       func(m map[string]any) { m["entries"].([]any)[4].(map[string]any)["group"] = "g-1" },
		"seed_secret": func(m map[string]any) { m["seed_secret"] = strings.Repeat("08", 32) },
		"commitment":  func(m map[string]any) { m["commitment"] = strings.Repeat("0", 64) },
		"capacity":    func(m map[string]any) { m["capacity"] = 4.0 },
		"order swap": func(m map[string]any) {
			o := m["order"].([]any)
			o[0].(map[string]any)["unit_id"], o[1].(map[string]any)["unit_id"] = o[1].(map[string]any)["unit_id"], o[0].(map[string]any)["unit_id"]
			o[0].(map[string]any)["entry_ids"], o[1].(map[string]any)["entry_ids"] = o[1].(map[string]any)["entry_ids"], o[0].(map[string]any)["entry_ids"]
		},
		"selected": func(m map[string]any) {
			o := m["order"].([]any)
			last := o[len(o)-1].(map[string]any)
			last["selected"] = !last["selected"].(bool)
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			var m map[string]any
			json.Unmarshal(good, &m)
			edit(m)
			b, _ := json.Marshal(m)
			out.Reset()
			err := run(context.Background(), []string{"verify", write(name+".json", b)}, &out)
			if !errors.Is(err, errMismatch) || !strings.HasPrefix(out.String(), "FAIL") {
				t.Errorf("edited %s: %v %s", name, err, out.String())
			}
		})
	}
	// A flipped byte anywhere in the seed secret's hex.
	bad := bytes.Replace(good, []byte(`"seed_secret":"07`), []byte(`"seed_secret":"17`), 1)
	if err := run(context.Background(), []string{"verify", write("flip.json", bad)}, &out); !errors.Is(err, errMismatch) {
		t.Errorf("flipped seed byte: %v", err)
	}
}

func TestVerifyProof(t *testing.T) {
	entries := []fairdraw.Entry{{EntryID: "0a", Tickets: 1}, {EntryID: "1b", Tickets: 2, Group: "g-1"}, {EntryID: "2c", Tickets: 1, Group: "g-1"}}
	idx, size, path, err := fairdraw.InclusionProof(entries, "1b")
	if err != nil {
		t.Fatal(err)
	}
	doc := proofDoc{SubQueue: "half:open", EntriesRoot: fairdraw.EntriesRoot(entries), LeafData: fairdraw.LeafData(entries[1]),
		LeafIndex: idx, TreeSize: size, AuditPath: path}
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		edit func(p *proofDoc)
		ok   bool
	}{
		"valid":         {func(*proofDoc) {}, true},
		"other tickets": {func(p *proofDoc) { p.LeafData = "1b|3|g-1" }, false},
		"wrong index":   {func(p *proofDoc) { p.LeafIndex = 0 }, false},
		"wrong root":    {func(p *proofDoc) { p.EntriesRoot = strings.Repeat("0", 64) }, false},
	} {
		p := doc
		tc.edit(&p)
		b, _ := json.Marshal(p)
		file := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		os.WriteFile(file, b, 0o600)
		var out bytes.Buffer
		err := run(context.Background(), []string{"verify", file}, &out)
		if tc.ok != (err == nil) {
			t.Errorf("%s: %v %s", name, err, out.String())
		}
	}
}

// TestVerifyPrequeue: a published pre-queue order recomputes; any edit, or
// an artifact with nothing placed yet, does not pass.
func TestVerifyPrequeue(t *testing.T) {
	a, err := prequeue.Order(prequeue.Input{EventID: "demo-marathon", SubQueue: "5k:walk", SeedSecret: bytes.Repeat([]byte{9}, 32),
		Tickets: []string{"5f1d", "0a9c", "77be", "c3d2", "e001"}})
	if err != nil {
		t.Fatal(err)
	}
	good, _ := json.Marshal(a)
	dir := t.TempDir()
	write := func(name string, b []byte) string { return writeFile(t, dir, name, b) }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"verify", write("good.json", good)}, &out); err != nil ||
		!strings.HasPrefix(out.String(), "OK: demo-marathon 5k:walk pre-queue") {
		t.Fatalf("good pre-queue: %v %s", err, out.String())
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(good) }))
	defer srv.Close()
	out.Reset()
	if err := run(context.Background(), []string{"verify", srv.URL + "/prequeue/5k:walk/artifact.json"}, &out); err != nil {
		t.Fatalf("URL: %v %s", err, out.String())
	}

	edits := map[string]struct {
		edit func(m map[string]any)
		says string
	}{
		"places swapped": {func(m map[string]any) {
			o := m["order"].([]any)
			o[0].(map[string]any)["ticket_id"], o[1].(map[string]any)["ticket_id"] = o[1].(map[string]any)["ticket_id"], o[0].(map[string]any)["ticket_id"]
		}, "FAIL"},
		"ticket added":  {func(m map[string]any) { m["tickets"] = append(m["tickets"].([]any), "ffff") }, "FAIL"},
		"seed_secret":   {func(m map[string]any) { m["seed_secret"] = strings.Repeat("08", 32) }, "FAIL"},
		"subqueue":      {func(m map[string]any) { m["subqueue"] = "5k:run" }, "FAIL"},
		"order cut":     {func(m map[string]any) { m["order"] = m["order"].([]any)[:4] }, "FAIL"},
		"no commitment": {func(m map[string]any) { delete(m, "commitment") }, "FAIL"},
		"nothing placed": {func(m map[string]any) {
			for _, k := range []string{"seed_secret", "tickets_root", "seed", "tickets", "order"} {
				delete(m, k)
			}
			m["status"] = "committed"
		}, "NOT PLACED YET"},
	}
	for name, tc := range edits {
		t.Run(name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(good, &m); err != nil {
				t.Fatal(err)
			}
			tc.edit(m)
			b, _ := json.Marshal(m)
			out.Reset()
			err := run(context.Background(), []string{"verify", write(strings.ReplaceAll(name, " ", "-")+".json", b)}, &out)
			if !errors.Is(err, errMismatch) || !strings.HasPrefix(out.String(), tc.says) {
				t.Errorf("edited %s: %v %s", name, err, out.String())
			}
		})
	}
}
