// Package textin holds the rules for text that comes from outside (paths,
// queries, headers, form and JSON values): what is refused, how it is cut,
// and how free-form JSON is made safe to store. The rules are pure functions
// so the HTTP adapters apply them once, at the edge, and the store only ever
// sees valid text (PostgreSQL refuses NUL and invalid UTF-8 in text and
// jsonb, which used to surface as a 500).
package textin

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problems Check reports.
var (
	ErrInvalidUTF8 = errors.New("not valid UTF-8 text")
	ErrControl     = errors.New("holds a control character")
)

// allowedControl are the control characters multi-line text may carry.
func allowedControl(r rune) bool { return r == '\t' || r == '\n' || r == '\r' }

// Check reports whether s is text the service accepts: valid UTF-8 with no
// control characters (NUL, the rest of C0, DEL and C1) other than tab, line
// feed and carriage return. It returns ErrInvalidUTF8 or ErrControl.
func Check(s string) error {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !isReplacementChar(s[i:]):
			return ErrInvalidUTF8
		case unicode.IsControl(r) && !allowedControl(r):
			return ErrControl
		}
	}
	return nil
}

// isReplacementChar tells an encoded U+FFFD (valid) from an invalid byte,
// both of which range reports as utf8.RuneError.
func isReplacementChar(s string) bool { return strings.HasPrefix(s, "\uFFFD") }

// Cut returns the longest prefix of s of at most n bytes that does not end
// inside a UTF-8 sequence. Invalid bytes count as one-byte characters, so
// Cut of valid text is valid text.
func Cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	// Find the start of the character holding the last byte kept; drop
	// that character if it runs past n.
	j := n - 1
	for j > 0 && j > n-utf8.UTFMax && !utf8.RuneStart(s[j]) {
		j--
	}
	if r, size := utf8.DecodeRuneInString(s[j:]); !(r == utf8.RuneError && size == 1) && j+size > n {
		return s[:j]
	}
	return s[:n]
}

// Clean makes s valid text for a value the service reads but does not
// refuse (a user agent, a language list): each invalid byte sequence and
// each control character other than tab, line feed and carriage return
// becomes U+FFFD, then the result is cut to at most n bytes on a character
// boundary. n <= 0 means no limit.
func Clean(s string, n int) string {
	if Check(s) == nil {
		if n > 0 {
			return Cut(s, n)
		}
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		if r == utf8.RuneError && !isReplacementChar(s[i:]) || unicode.IsControl(r) && !allowedControl(r) {
			r = utf8.RuneError
		}
		if n > 0 && b.Len()+utf8.RuneLen(r) > n {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Visible reports whether s shows anything: at least one letter, digit,
// punctuation mark or symbol that is not one of the blank look-alikes
// (Hangul fillers, the braille blank). A name made only of spaces,
// zero-width characters, joiners, marks without a base or fillers is
// invisible on every page and list, so names must be Visible.
func Visible(s string) bool {
	for _, r := range s {
		if blank(r) {
			continue
		}
		if unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S) {
			return true
		}
	}
	return false
}

// blank are letters and symbols by category that render as nothing.
func blank(r rune) bool {
	switch r {
	case '\u115F', '\u1160', '\u3164', '\uFFA0', // Hangul fillers
		'\u2800', // braille pattern blank
		'\uFFFC': // object replacement character
		return true
	}
	return false
}

// MaxJSONDepth bounds the nesting CleanJSON accepts: client signals are
// flat, and deep documents are costly to parse again in the database.
const MaxJSONDepth = 32

// ErrJSON is returned by CleanJSON for a document it cannot make safe.
var ErrJSON = errors.New("not a JSON document the service can store")

// CleanJSON re-encodes a free-form JSON document (the client's signals) so
// that PostgreSQL's jsonb accepts it whatever the client sent: strings and
// keys become valid text (lone UTF-16 surrogates and invalid bytes turn
// into U+FFFD as Go's decoder reads them; NUL and other control characters
// into U+FFFD by Clean), numbers are read as float64 (a number no float
// holds, e.g. 1e1000000, which jsonb's numeric may also refuse, is an
// error), and nesting deeper than MaxJSONDepth is an error. Key order is
// not kept.
func CleanJSON(raw []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, errors.Join(ErrJSON, err)
	}
	v, ok := cleanValue(v, 0)
	if !ok {
		return nil, errors.Join(ErrJSON, errors.New("nested too deeply"))
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, errors.Join(ErrJSON, err)
	}
	return out, nil
}

func cleanValue(v any, depth int) (any, bool) {
	switch t := v.(type) {
	case string:
		return Clean(t, 0), true
	case []any:
		if depth >= MaxJSONDepth {
			return nil, false
		}
		for i, e := range t {
			var ok bool
			if t[i], ok = cleanValue(e, depth+1); !ok {
				return nil, false
			}
		}
		return t, true
	case map[string]any:
		if depth >= MaxJSONDepth {
			return nil, false
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			c, ok := cleanValue(e, depth+1)
			if !ok {
				return nil, false
			}
			out[Clean(k, 0)] = c
		}
		return out, true
	}
	return v, true // numbers, booleans, null
}
