package identity

import (
	"slices"
	"strings"
	"time"
	"unicode"

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

// SameNameThreshold is the NameSimilarity score from which two names are
// likely the same person written differently (typo, spacing, order, accents).
// Different people with similar names can score above it, so treat a match as
// a signal to combine with birth date or phone, not as proof.
const SameNameThreshold = 0.94

// NameSimilarity scores how alike two names are, from 0 (nothing shared) to 1
// (same after NormalizeName, ignoring token order and spacing: "Kim Minjun"
// and "Minjun Kim" score 1). It is Jaro-Winkler over the normalized names,
// with Hangul split into jamo so a mistyped syllable costs the jamo that
// differ rather than a whole character. Compare with SameNameThreshold. An
// empty name scores 0 against anything.
func NameSimilarity(a, b string) float64 {
	ta, tb := strings.Fields(NormalizeName(a)), strings.Fields(NormalizeName(b))
	if len(ta) == 0 || len(tb) == 0 {
		return 0
	}
	// Compare the tokens in a fixed order, and the tokens run together, so
	// that neither order ("Minjun Kim") nor spacing ("김 민준") matters.
	sorted := jaroWinkler(similarityRunes(sortedTokens(ta), " "), similarityRunes(sortedTokens(tb), " "))
	joined := jaroWinkler(similarityRunes(ta, ""), similarityRunes(tb, ""))
	return max(sorted, joined)
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
	r := []rune(norm.NFD.String(strings.Join(tokens, sep)))
	return r[:min(len(r), maxSimilarityRunes)]
}

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
	matchedA := make([]bool, len(a))
	matchedB := make([]bool, len(b))
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
