package fairdraw

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MismatchError is Verify's report of the first published value that differs
// from its recomputation. errors.Is(err, ErrMismatch) holds for it.
type MismatchError struct {
	Field      string // e.g. "commitment", "order[3].unit_id"
	Artifact   string // the value the artifact publishes
	Recomputed string // the value recomputed from the artifact's inputs
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s mismatch: artifact says %s, recomputed %s", e.Field, e.Artifact, e.Recomputed)
}

// Is makes errors.Is(err, ErrMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

// ParseArtifact decodes a published artifact and checks that it is
// well-formed fairdraw-v1: every field present, non-null, spelled exactly once
// and canonical. Fields it does not know are allowed and dropped. It does not
// recompute anything; Verify does.
func ParseArtifact(data []byte) (Artifact, error) {
	var a Artifact
	if err := json.Unmarshal(data, &a); err != nil { // also checks the syntax
		return Artifact{}, fmt.Errorf("%w: %v", ErrMalformedArtifact, err)
	}
	check := shapeChecker{data: data}
	if _, err := check.value(artifactShape); err != nil {
		return Artifact{}, err
	}
	if err := validateArtifact(&a); err != nil {
		return Artifact{}, err
	}
	// Verify finds duplicates while sorting; a parsed artifact should not
	// need Verify to be known well-formed.
	seen := make(map[string]struct{}, len(a.Entries))
	for _, e := range a.Entries {
		if _, dup := seen[e.EntryID]; dup {
			return Artifact{}, fmt.Errorf("%w: entry_id %q appears more than once", ErrInvalidInput, e.EntryID)
		}
		seen[e.EntryID] = struct{}{}
	}
	return a, nil
}

// Verify recomputes a draw from the artifact alone: the commitment from
// seed_secret, entries_root from entries, the seed, and the whole order with
// its selection. It returns nil when everything matches, a *MismatchError
// (ErrMismatch) for the first value that differs, in that order, or an
// ErrInvalidInput / ErrUnknownAlgorithm error for a non-canonical artifact.
func Verify(a Artifact) error {
	if err := validateArtifact(&a); err != nil {
		return err
	}
	secret, _ := hex.DecodeString(a.SeedSecret) // validated
	want, err := Draw(Input{
		EventID:    a.EventID,
		SubQueue:   a.SubQueue,
		Capacity:   a.Capacity,
		SeedSecret: secret,
		Beacon:     a.Beacon,
		Entries:    a.Entries,
	})
	if err != nil {
		return err
	}
	if a.Commitment != want.Commitment {
		return &MismatchError{"commitment", a.Commitment, want.Commitment}
	}
	if a.EntriesRoot != want.EntriesRoot {
		return &MismatchError{"entries_root", a.EntriesRoot, want.EntriesRoot}
	}
	if a.Seed != "" && a.Seed != want.Seed {
		return &MismatchError{"seed", a.Seed, want.Seed}
	}
	for i := range min(len(a.Order), len(want.Order)) {
		got, exp := &a.Order[i], &want.Order[i]
		field := "order[" + strconv.Itoa(i) + "]."
		switch {
		case got.Position != exp.Position:
			return &MismatchError{field + "position", strconv.Itoa(got.Position), strconv.Itoa(exp.Position)}
		case got.UnitID != exp.UnitID:
			return &MismatchError{field + "unit_id", strconv.Quote(got.UnitID), strconv.Quote(exp.UnitID)}
		case !slices.Equal(got.EntryIDs, exp.EntryIDs):
			return &MismatchError{field + "entry_ids", fmt.Sprintf("%q", got.EntryIDs), fmt.Sprintf("%q", exp.EntryIDs)}
		case got.Selected != exp.Selected:
			return &MismatchError{field + "selected", strconv.FormatBool(got.Selected), strconv.FormatBool(exp.Selected)}
		}
	}
	if len(a.Order) != len(want.Order) {
		return &MismatchError{"len(order)", strconv.Itoa(len(a.Order)), strconv.Itoa(len(want.Order))}
	}
	return nil
}

// validateArtifact checks the format of every field an artifact publishes.
func validateArtifact(a *Artifact) error {
	if a.Algorithm != Algorithm {
		return fmt.Errorf("%w: %q, want %q", ErrUnknownAlgorithm, a.Algorithm, Algorithm)
	}
	if err := validateHeader(a.EventID, a.SubQueue, a.Beacon, a.Capacity); err != nil {
		return err
	}
	for _, f := range []struct{ name, value string }{
		{"commitment", a.Commitment},
		{"seed_secret", a.SeedSecret},
		{"entries_root", a.EntriesRoot},
	} {
		if !isHex32(f.value) {
			return fmt.Errorf("%w: %s %q is not 32 bytes of lowercase hex", ErrInvalidInput, f.name, f.value)
		}
	}
	if a.Seed != "" && !isHex32(a.Seed) {
		return fmt.Errorf("%w: seed %q is not 32 bytes of lowercase hex", ErrInvalidInput, a.Seed)
	}
	if err := validateEntries(a.Entries); err != nil {
		return err
	}
	for i := range a.Order {
		it := &a.Order[i]
		if it.Position < 1 {
			return fmt.Errorf("%w: order[%d].position is %d, want ≥ 1", ErrInvalidInput, i, it.Position)
		}
		if !isIdent(it.UnitID, 1, 64, true) {
			return fmt.Errorf("%w: order[%d].unit_id %q does not match [a-z0-9-]{1,64}", ErrInvalidInput, i, it.UnitID)
		}
		if len(it.EntryIDs) == 0 {
			return fmt.Errorf("%w: order[%d].entry_ids is empty", ErrInvalidInput, i)
		}
		for j, id := range it.EntryIDs {
			if !isIdent(id, 1, 64, true) {
				return fmt.Errorf("%w: order[%d].entry_ids[%d] %q does not match [a-z0-9-]{1,64}", ErrInvalidInput, i, j, id)
			}
		}
	}
	return nil
}

// shape describes what ParseArtifact insists on in one JSON value: an object
// with the given fields, or an array of elements of a shape.
type shape struct {
	fields   []string          // required, exactly spelled, non-null
	optional []string          // exactly spelled, non-null when present
	children map[string]*shape // shapes of the fields' values
	elem     *shape            // shape of an array's elements
	names    []string          // fields, then optional
	known    map[string]int    // folded name → index in names
}

func objectShape(fields, optional []string, children map[string]*shape) *shape {
	s := &shape{fields: fields, optional: optional, children: children, names: slices.Concat(fields, optional), known: map[string]int{}}
	for i, f := range s.names {
		s.known[foldKey(f)] = i
	}
	return s
}

// knownScalar is the shape of a known field that is neither object nor
// array.
var knownScalar = &shape{}

var artifactShape = objectShape(
	[]string{"algorithm", "event_id", "subqueue", "capacity", "commitment", "seed_secret", "beacon", "entries_root", "entries", "order"},
	[]string{"seed"},
	map[string]*shape{
		"entries": {elem: objectShape([]string{"entry_id", "tickets", "group"}, nil, nil)},
		"order":   {elem: objectShape([]string{"position", "unit_id", "entry_ids", "selected"}, nil, nil)},
	},
)

// shapeChecker walks a document known to be valid JSON and checks it
// against a shape. Within every object, keys must differ even after Unicode
// case folding, and a key that folds to a known field must be spelled as the
// field: encoding/json would silently take the last duplicate and match names
// case-insensitively, and another verifier might read such a document
// differently.
type shapeChecker struct {
	data []byte
	pos  int
	path []pathStep // where the walk is, for error messages
}

// pathStep is an object key, or an array index when key is empty.
type pathStep struct {
	key   string
	index int
}

func (c *shapeChecker) errorf(format string, args ...any) error {
	var where strings.Builder
	where.WriteString("artifact")
	for _, p := range c.path {
		if p.key == "" {
			fmt.Fprintf(&where, "[%d]", p.index)
		} else {
			fmt.Fprintf(&where, ".%s", p.key)
		}
	}
	return fmt.Errorf("%w: %s%s", ErrMalformedArtifact, where.String(), fmt.Sprintf(format, args...))
}

func (c *shapeChecker) space() {
	for c.pos < len(c.data) {
		switch c.data[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

// value checks the value at c.pos against s (nil: any value) and reports
// whether it was null.
func (c *shapeChecker) value(s *shape) (isNull bool, err error) {
	c.space()
	switch c.data[c.pos] {
	case 'n':
		c.pos += len("null")
		if s == artifactShape {
			return true, c.errorf(" is null")
		}
		return true, nil
	case '{':
		if s != nil && s.elem != nil {
			return false, c.errorf(" is not an array")
		}
		return false, c.object(s)
	case '[':
		if s != nil && s.fields != nil {
			return false, c.errorf(" is not an object")
		}
		return false, c.array(s)
	}
	if s != nil && s.fields != nil {
		return false, c.errorf(" is not an object")
	}
	if s != nil && s.elem != nil {
		return false, c.errorf(" is not an array")
	}
	if c.data[c.pos] == '"' {
		_, err := c.str(false)
		return false, err
	}
	start := c.pos
	for c.pos < len(c.data) && !strings.ContainsRune(",]} \t\n\r", rune(c.data[c.pos])) {
		c.pos++ // a number, true or false
	}
	if s == knownScalar && string(c.data[start:c.pos]) == "-0" {
		// The one non-canonical integer that encoding/json decodes
		// into an int without complaint.
		return false, c.errorf(" is -0")
	}
	return false, nil
}

func (c *shapeChecker) array(s *shape) error {
	var elem *shape
	if s != nil {
		elem = s.elem
	}
	c.pos++ // past [
	for i := 0; ; i++ {
		c.space()
		switch c.data[c.pos] {
		case ']':
			c.pos++
			return nil
		case ',':
			c.pos++
		}
		c.path = append(c.path, pathStep{index: i})
		if _, err := c.value(elem); err != nil {
			return err
		}
		c.path = c.path[:len(c.path)-1]
	}
}

func (c *shapeChecker) object(s *shape) error {
	c.pos++ // past {
	// Folded keys seen so far: a small array, as objects are small, unless
	// an extra field holds a big one.
	var seenArray [16]string
	seen := seenArray[:0]
	var seenMap map[string]bool
	var present uint64 // bit i: known field i is present
	for {
		c.space()
		switch c.data[c.pos] {
		case '}':
			c.pos++
			if s != nil {
				for i, f := range s.fields {
					if present&(1<<i) == 0 {
						return c.errorf(" has no %q", f)
					}
				}
			}
			return nil
		case ',':
			c.pos++
			c.space()
		}
		key, err := c.str(true)
		if err != nil {
			return err
		}
		c.space()
		c.pos++ // past :
		folded := foldKey(key)
		if slices.Contains(seen, folded) || seenMap[folded] {
			return c.errorf(": key %q appears twice (perhaps differently cased)", key)
		}
		if seenMap == nil && len(seen) < len(seenArray) {
			seen = append(seen, folded)
		} else {
			if seenMap == nil {
				seenMap = map[string]bool{}
			}
			seenMap[folded] = true
		}
		var child *shape
		i, isKnown := -1, false
		if s != nil {
			i, isKnown = s.known[folded]
		}
		if isKnown {
			if name := s.names[i]; name != key {
				return c.errorf(": key %q must be spelled %q", key, name)
			}
			present |= 1 << i
			child = s.children[key]
			if child == nil {
				child = knownScalar
			}
		}
		c.path = append(c.path, pathStep{key: key})
		isNull, err := c.value(child)
		if err != nil {
			return err
		}
		if isNull && isKnown {
			return c.errorf(" is null")
		}
		c.path = c.path[:len(c.path)-1]
	}
}

// str reads the string at c.pos, decoding it only when asked.
func (c *shapeChecker) str(decode bool) (string, error) {
	start := c.pos
	plain := true
	for c.pos++; c.data[c.pos] != '"'; c.pos++ {
		switch b := c.data[c.pos]; {
		case b == '\\':
			c.pos++
			plain = false
		case b >= utf8.RuneSelf:
			plain = false
		}
	}
	c.pos++
	raw := c.data[start:c.pos]
	if !decode {
		return "", nil
	}
	if plain {
		return string(raw[1 : len(raw)-1]), nil
	}
	// Escapes and non-ASCII bytes are decoded exactly as encoding/json
	// does, invalid UTF-8 included.
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", c.errorf(": %v", err)
	}
	return s, nil
}

// foldKey maps s to a canonical form under Unicode simple case folding, so
// that two keys fold alike exactly when strings.EqualFold holds: each rune
// becomes the smallest rune of its fold orbit, lowercased when that is ASCII.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		if m < utf8.RuneSelf {
			m = unicode.ToLower(m)
		}
		b.WriteRune(m)
	}
	return b.String()
}
