package fuzzcorpus

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "testdata", "fuzz", "FuzzX")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"b": "go test fuzz v1\nstring(\"a\\x00\\xff\")\n[]byte(\"{}\")\nint(-3)\nbyte('\\xff')\nbool(true)\n",
		"a": "go test fuzz v1\nstring(\"é\")\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Read(dir, "FuzzX")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{{Name: "a", Values: []any{"é"}}, {Name: "b", Values: []any{"a\x00\xff", []byte("{}"), -3, uint8(0xff), true}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Read (-want +got):\n%s", d)
	}
	if none, err := Read(dir, "FuzzMissing"); err != nil || none != nil {
		t.Errorf("missing target: %v %v", none, err)
	}
	if err := os.WriteFile(filepath.Join(root, "c"), []byte("not a corpus\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir, "FuzzX"); err == nil {
		t.Error("a file that is not a corpus file was read")
	}
}
