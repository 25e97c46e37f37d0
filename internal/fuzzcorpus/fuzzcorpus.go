// Package fuzzcorpus reads the seed corpora that `go test -fuzz` keeps in
// testdata/fuzz/<FuzzName>/, so a normal test can replay every seed through
// the full server (database and all), which the fuzz targets themselves
// leave out to stay fast.
package fuzzcorpus

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Entry is one corpus file: its name and its values in order (string,
// []byte, int, uint8, bool: the types the targets take).
type Entry struct {
	Name   string
	Values []any
}

// Read returns the entries of testdata/fuzz/<target> under dir, sorted by
// name; none when the directory does not exist.
func Read(dir, target string) ([]Entry, error) {
	root := filepath.Join(dir, "testdata", "fuzz", target)
	files, err := os.ReadDir(root)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, f := range files {
		if f.IsDir() {
			continue
		}
		e, err := readFile(filepath.Join(root, f.Name()))
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", target, f.Name(), err)
		}
		e.Name = f.Name()
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func readFile(path string) (Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return Entry{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var e Entry
	for first := true; sc.Scan(); first = false {
		line := strings.TrimSpace(sc.Text())
		if first {
			if line != "go test fuzz v1" {
				return Entry{}, fmt.Errorf("not a fuzz corpus file")
			}
			continue
		}
		if line == "" {
			continue
		}
		typ, lit, ok := strings.Cut(line, "(")
		if !ok || !strings.HasSuffix(lit, ")") {
			return Entry{}, fmt.Errorf("bad line %q", line)
		}
		lit = strings.TrimSuffix(lit, ")")
		v, err := value(typ, lit)
		if err != nil {
			return Entry{}, fmt.Errorf("bad line %q: %w", line, err)
		}
		e.Values = append(e.Values, v)
	}
	return e, sc.Err()
}

func value(typ, lit string) (any, error) {
	switch typ {
	case "string":
		return strconv.Unquote(lit)
	case "[]byte":
		s, err := strconv.Unquote(lit)
		return []byte(s), err
	case "int":
		return strconv.Atoi(lit)
	case "uint8", "byte":
		if strings.HasPrefix(lit, "'") { // Go writes a byte as a character literal
			s, err := strconv.Unquote(lit)
			if len(s) == 1 { // '\xff' unquotes to the byte itself
				return s[0], err
			}
			r, _ := utf8.DecodeRuneInString(s)
			return uint8(r), err
		}
		n, err := strconv.ParseUint(lit, 0, 8)
		return uint8(n), err
	case "bool":
		return strconv.ParseBool(lit)
	}
	return nil, fmt.Errorf("type %s not read", typ)
}
