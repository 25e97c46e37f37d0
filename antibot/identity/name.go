package identity

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// latinFold spells Latin letters that carry a stroke or ligature rather than
// a combining mark, so decomposition alone does not reach them.
var latinFold = map[rune]string{
	'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'ħ': "h", 'ı': "i",
	'æ': "ae", 'œ': "oe", 'þ': "th", 'ŧ': "t", 'ƀ': "b", 'ɨ': "i",
}

// isApostrophe reports marks that join a name (O'Brien) rather than split it.
func isApostrophe(r rune) bool {
	switch r {
	case '\'', '`', '´', 'ʻ', 'ʼ', '\u2018', '\u2019', '\uff07':
		return true
	}
	return false
}

// NormalizeName returns a comparable form of a person's name: NFKC, case
// folded, Latin diacritics removed (José → jose), apostrophes dropped, other
// punctuation and symbols turned into spaces, whitespace collapsed. Other
// scripts keep their letters and marks, so Hangul survives intact.
func NormalizeName(raw string) string {
	s := cases.Fold().String(norm.NFKC.String(raw))
	var b strings.Builder
	b.Grow(len(s))
	var base rune // last non-mark rune, to tell Latin diacritics from others
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r):
			if !unicode.Is(unicode.Latin, base) {
				b.WriteRune(r)
			}
			continue
		case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mc, r):
			if f, ok := latinFold[r]; ok {
				b.WriteString(f)
			} else {
				b.WriteRune(r)
			}
		case isApostrophe(r):
			// dropped: O'Brien → obrien
		default:
			b.WriteByte(' ')
		}
		base = r
	}
	// NFC puts decomposed Hangul and kept marks back together.
	return strings.Join(strings.Fields(norm.NFC.String(b.String())), " ")
}

// SameNameThreshold is the name similarity score from which two names are
// likely the same person written differently (typo, spacing, order, accents).
// Different people with similar names can score above it, so treat a match as
// a signal to combine with birth date or phone, not as proof.
const SameNameThreshold = 0.94

// firstLetter is the block letter of a normalized name: its first rune, or
// for a Hangul syllable its initial consonant, as the jamo comparison sees it.
func firstLetter(name string) rune {
	r, _ := utf8.DecodeRuneInString(name)
	if r >= hangulBase && r <= hangulLast {
		return 0x1100 + (r-hangulBase)/588
	}
	return r
}

// preparedName is a name ready for comparison: its tokens in a fixed order,
// and run together, so that neither order ("Minjun Kim") nor spacing
// ("김 민준") matters.
type preparedName struct{ sorted, joined []rune }

// prepareNormalized prepares a name NormalizeName already returned (as
// person keys hold them).
func prepareNormalized(name string) preparedName {
	t := strings.Fields(name)
	if len(t) == 0 {
		return preparedName{}
	}
	return preparedName{similarityRunes(sortedTokens(t), " "), similarityRunes(t, "")}
}

// similarity scores how alike two names are, from 0 (nothing shared) to 1
// (same after NormalizeName, ignoring token order and spacing: "Kim Minjun"
// and "Minjun Kim" score 1). It is Jaro-Winkler over the normalized names,
// with Hangul split into jamo so a mistyped syllable costs the jamo that
// differ rather than a whole character. Compare with SameNameThreshold. An
// empty name scores 0 against anything.
func (a preparedName) similarity(b preparedName) float64 {
	if len(a.joined) == 0 || len(b.joined) == 0 {
		return 0
	}
	return max(jaroWinkler(a.sorted, b.sorted), jaroWinkler(a.joined, b.joined))
}

// SimilarPersons links person keys (see PersonKey) of one birth date whose
// names are alike (similarity at least SameNameThreshold): "kim
// minjun|1990-03-15" and "kim minjoon|1990-03-15" are probably one person
// entering twice with a typo. It returns each key's group representative (the
// smallest key of its group, so the result does not depend on input order);
// a key alike to no other is its own. Comparisons run within blocks of one
// birth date and one first letter (first jamo for Hangul), which keeps a
// million entries to a few million comparisons; a typo in the very first
// letter is missed. Empty keys are ignored.
func SimilarPersons(keys []string) map[string]string {
	type block struct {
		date  string
		first rune
	}
	blocks := map[block][]string{}
	rep := make(map[string]string, len(keys))
	for _, k := range keys {
		if _, seen := rep[k]; seen || k == "" {
			continue
		}
		rep[k] = k
		name, date, ok := strings.Cut(k, "|")
		if !ok || name == "" {
			continue
		}
		b := block{date, firstLetter(name)}
		blocks[b] = append(blocks[b], k)
	}
	parent := map[string]string{}
	var find func(string) string
	find = func(k string) string {
		p, ok := parent[k]
		if !ok || p == k {
			return k
		}
		r := find(p)
		parent[k] = r
		return r
	}
	for _, ks := range blocks {
		if len(ks) < 2 {
			continue // most blocks: nothing to compare, nothing to prepare
		}
		names := make([]preparedName, len(ks))
		for i, k := range ks {
			name, _, _ := strings.Cut(k, "|")
			names[i] = prepareNormalized(name)
		}
		for i := range ks {
			for j := i + 1; j < len(ks); j++ {
				if names[i].similarity(names[j]) < SameNameThreshold {
					continue
				}
				a, b := find(ks[i]), find(ks[j])
				if a != b {
					parent[max(a, b)] = min(a, b) // the smaller key is the root
				}
			}
		}
	}
	for k := range rep {
		rep[k] = find(k)
	}
	return rep
}

func sortedTokens(t []string) []string {
	t = slices.Clone(t)
	slices.Sort(t)
	return t
}

// maxSimilarityRunes bounds the quadratic-time comparison; real names are
// far shorter, and a longer tail adds nothing to the score.
const maxSimilarityRunes = 256

// similarityRunes joins tokens and decomposes Hangul syllables into jamo.
func similarityRunes(tokens []string, sep string) []rune {
	s := strings.Join(tokens, sep)
	r := make([]rune, 0, len(s))
	for _, c := range s {
		switch {
		case c < utf8.RuneSelf:
			r = append(r, c)
		case c >= hangulBase && c <= hangulLast:
			// A syllable's NFD by arithmetic (Unicode 3.12), the common
			// case, without the normalizer's tables.
			i := c - hangulBase
			r = append(r, 0x1100+i/588, 0x1161+i%588/28)
			if t := i % 28; t != 0 {
				r = append(r, 0x11A7+t)
			}
		default:
			r = []rune(norm.NFD.String(s)) // other scripts: the full decomposition
			return r[:min(len(r), maxSimilarityRunes)]
		}
	}
	return r[:min(len(r), maxSimilarityRunes)]
}

// The precomposed Hangul syllables.
const (
	hangulBase = 0xAC00
	hangulLast = 0xD7A3
)

// jaroWinkler is the Jaro-Winkler similarity with the usual prefix scale 0.1
// over at most four leading runes.
func jaroWinkler(a, b []rune) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if slices.Equal(a, b) {
		return 1
	}
	window := max(len(a), len(b))/2 - 1
	window = max(window, 0)
	// Names fit the stack buffer; only pathological input allocates.
	var buf [128]bool
	matched := buf[:0]
	if len(a)+len(b) > len(buf) {
		matched = make([]bool, 0, len(a)+len(b))
	}
	matched = matched[:len(a)+len(b)]
	matchedA, matchedB := matched[:len(a):len(a)], matched[len(a):]
	matches := 0
	for i, r := range a {
		lo, hi := max(0, i-window), min(len(b), i+window+1)
		for j := lo; j < hi; j++ {
			if !matchedB[j] && b[j] == r {
				matchedA[i], matchedB[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	transpositions, j := 0, 0
	for i, r := range a {
		if !matchedA[i] {
			continue
		}
		for !matchedB[j] {
			j++
		}
		if r != b[j] {
			transpositions++
		}
		j++
	}
	m := float64(matches)
	jaro := (m/float64(len(a)) + m/float64(len(b)) + (m-float64(transpositions/2))/m) / 3
	prefix := 0
	for prefix < min(4, len(a), len(b)) && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

// PersonKey returns an exact-match key for a person: the normalized name
// tokens in sorted order plus the birth date, "kim minjun|1990-03-15". Names
// written only in scripts that do not use spaces between name parts (Hangul,
// Han, kana) are run together in their given order instead, so "김 민준" and
// "김민준" share a key. Only birth's calendar date in its own location is used.
// It returns "" when the name is empty or birth is the zero time: there is
// nothing to dedupe on, and callers must not treat "" as a key.
func PersonKey(name string, birth time.Time) string {
	tokens := strings.Fields(NormalizeName(name))
	if len(tokens) == 0 || birth.IsZero() {
		return ""
	}
	var n string
	if allUnspaced(tokens) {
		n = strings.Join(tokens, "")
	} else {
		n = strings.Join(sortedTokens(tokens), " ")
	}
	return n + "|" + birth.Format(time.DateOnly)
}

// allUnspaced reports whether every letter is Hangul, Han or kana, scripts
// whose names are commonly written without spaces.
func allUnspaced(tokens []string) bool {
	for _, t := range tokens {
		for _, r := range t {
			if unicode.IsLetter(r) && !unicode.In(r, unicode.Hangul, unicode.Han, unicode.Hiragana, unicode.Katakana) {
				return false
			}
		}
	}
	return true
}
