package identity

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{"Kim Minjun", "kim minjun"},
		{"  KIM   MINJUN  ", "kim minjun"},
		{"kim\tminjun\n", "kim minjun"},
		{"José Álvarez", "jose alvarez"},
		{"JOSÉ ÁLVAREZ", "jose alvarez"},
		{"Jose\u0301 A\u0301lvarez", "jose alvarez"}, // decomposed input
		{"Ngô Bảo Châu", "ngo bao chau"},
		{"Łukasz Żółć", "lukasz zolc"},
		{"Søren Kierkegaard", "soren kierkegaard"},
		{"Straße", "strasse"},
		{"Æsa Œrsted", "aesa oersted"},
		{"Đặng Thị Ngọc", "dang thi ngoc"},
		{"İlkay Gündoğan", "ilkay gundogan"},
		{"O'Brien", "obrien"},
		{"O’Brien", "obrien"},
		{"Jean-Luc Picard", "jean luc picard"},
		{"Smith, John", "smith john"},
		{"J. R. R. Tolkien", "j r r tolkien"},
		{"ＫＩＭ　Ｍｉｎｊｕｎ", "kim minjun"}, // full-width letters and space
		{"김민준", "김민준"},
		{"김 민준", "김 민준"},
		{"  김   민준 ", "김 민준"},
		{"김민준!", "김민준"},
		{"남궁·민수", "남궁 민수"},
		{"\u1100\u1175\u11B7\u1106\u1175\u11AB\u110C\u116E\u11AB", "김민준"}, // conjoining jamo
		{"Kim 민준", "kim 민준"},
		{"山田 太郎", "山田 太郎"},
		{"がっこう", "がっこう"}, // kana voicing marks kept
		{"Алексей Иванов", "алексей иванов"},
		{"Ἀθηνᾶ", "ἀθηνᾶ"}, // non-Latin marks kept
		{"John Smith III", "john smith iii"},
		{"Ⅻ", "xii"},
		{"", ""},
		{"  -- ' ", ""},
		{"😀 Kim", "kim"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			if got := NormalizeName(tt.raw); got != tt.want {
				t.Errorf("NormalizeName(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestNameSimilarity(t *testing.T) {
	tests := []struct {
		a, b     string
		min, max float64
	}{
		// Same person, written differently.
		{"Kim Minjun", "Kim Minjun", 1, 1},
		{"Kim Minjun", "Minjun Kim", 1, 1},
		{"KIM minjun", "  minjun   kim ", 1, 1},
		{"Kim Min-jun", "Kim Minjun", 1, 1},
		{"José Álvarez", "Jose Alvarez", 1, 1},
		{"김민준", "김 민준", 1, 1},
		{"민준 김", "김 민준", 1, 1},
		{"Jon Smith", "John Smith", SameNameThreshold, 1},
		{"Martha Jones", "Marhta Jones", SameNameThreshold, 1},
		{"Minjun Kim", "Minjoon Kim", SameNameThreshold, 1},
		{"김민준", "김민중", SameNameThreshold, 1},
		{"Christopher Lee", "Christpher Lee", SameNameThreshold, 1},
		// Different people.
		{"Kim Minjun", "Lee Minjun", 0, 0.9},
		{"Kim Minjun", "Park Jiho", 0, 0.6},
		{"John Smith", "Jane Smith", 0, SameNameThreshold},
		{"김민준", "김민지", 0, SameNameThreshold},
		{"김민준", "이서연", 0, 0.6},
		{"김민준", "Kim Minjun", 0, 0.1}, // no romanization
		{"abc", "xyz", 0, 0},
		// Nothing to compare.
		{"", "", 0, 0},
		{"Kim", "", 0, 0},
		{"!!", "Kim", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.a+"|"+tt.b, func(t *testing.T) {
			got := nameSimilarity(tt.a, tt.b)
			if got < tt.min || got > tt.max {
				t.Errorf("nameSimilarity(%q, %q) = %.3f, want in [%.2f, %.2f]", tt.a, tt.b, got, tt.min, tt.max)
			}
			if rev := nameSimilarity(tt.b, tt.a); math.Abs(rev-got) > 1e-9 {
				t.Errorf("not symmetric: %.6f vs %.6f", got, rev)
			}
		})
	}
}

func TestNameSimilarityLongInput(t *testing.T) {
	long := strings.Repeat("abcdefghij ", 100_000)
	start := time.Now()
	if got := nameSimilarity(long, long+"x"); got < SameNameThreshold {
		t.Errorf("nameSimilarity(long, long+x) = %v", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("nameSimilarity on 1 MB names took %v", d)
	}
}

func TestJaroWinkler(t *testing.T) {
	// Reference values from Winkler's paper.
	tests := []struct {
		a, b string
		want float64
	}{
		{"martha", "marhta", 0.961},
		{"dwayne", "duane", 0.840},
		{"dixon", "dicksonx", 0.813},
		{"a", "a", 1},
		{"a", "b", 0},
	}
	for _, tt := range tests {
		got := jaroWinkler([]rune(tt.a), []rune(tt.b))
		if math.Abs(got-tt.want) > 0.001 {
			t.Errorf("jaroWinkler(%q, %q) = %.4f, want %.3f", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestPersonKey(t *testing.T) {
	birth := time.Date(1990, 3, 15, 0, 0, 0, 0, time.UTC)
	seoul := time.FixedZone("KST", 9*3600)
	tests := []struct {
		name  string
		birth time.Time
		want  string
	}{
		{"Kim Minjun", birth, "kim minjun|1990-03-15"},
		{"Minjun Kim", birth, "kim minjun|1990-03-15"},
		{"  MINJUN   kim ", birth, "kim minjun|1990-03-15"},
		{"José Álvarez", birth, "alvarez jose|1990-03-15"},
		{"Álvarez, José", birth, "alvarez jose|1990-03-15"},
		{"김민준", birth, "김민준|1990-03-15"},
		{"김 민준", birth, "김민준|1990-03-15"},
		{"남궁 민수", birth, "남궁민수|1990-03-15"},
		{"山田 太郎", birth, "山田太郎|1990-03-15"},
		{"Kim 민준", birth, "kim 민준|1990-03-15"},
		{"Kim Minjun", time.Date(1990, 3, 15, 23, 59, 0, 0, seoul), "kim minjun|1990-03-15"},
		{"Kim Minjun", time.Date(1990, 3, 15, 0, 30, 0, 0, seoul), "kim minjun|1990-03-15"},
		{"", birth, ""},
		{"--", birth, ""},
		{"Kim Minjun", time.Time{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PersonKey(tt.name, tt.birth); got != tt.want {
				t.Errorf("PersonKey(%q, %v) = %q, want %q", tt.name, tt.birth, got, tt.want)
			}
		})
	}
	if PersonKey("Kim Minjun", birth) == PersonKey("Kim Minjun", birth.AddDate(0, 0, 1)) {
		t.Error("different birth dates share a key")
	}
}

// FuzzNormalizeName checks that names normalize idempotently and that a name
// is fully similar to itself.
func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"José Álvarez", "김 민준", "O'Brien", "Straße", "İlkay", "ＫＩＭ", "がっこう", "Ⅻ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if !utf8.ValidString(raw) {
			return
		}
		n := NormalizeName(raw)
		if again := NormalizeName(n); again != n {
			t.Fatalf("not idempotent: %q → %q → %q", raw, n, again)
		}
		if s := nameSimilarity(raw, raw); n != "" && s != 1 {
			t.Fatalf("nameSimilarity(%q, itself) = %v", raw, s)
		}
	})
}

func TestSimilarPersons(t *testing.T) {
	d := time.Date(1990, 3, 15, 0, 0, 0, 0, time.UTC)
	key := func(name string, birth time.Time) string { return PersonKey(name, birth) }
	keys := []string{
		key("Kim Minjun", d), key("Kim Minjoon", d), key("Minjun Kim", d), // one person, three spellings
		key("Kim Minjun", d.AddDate(0, 0, 1)), // another birthday: another person
		key("김민준", d), key("김민중", d),          // a mistyped syllable
		key("김민지", d),       // a different name
		key("Park Jiho", d), // nothing alike
		"",
	}
	got := SimilarPersons(keys)
	same := func(a, b string) bool { return got[a] == got[b] }
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{keys[0], keys[1], true},
		{keys[0], keys[2], true}, // exact key: the same already
		{keys[0], keys[3], false},
		{keys[4], keys[5], true},
		{keys[4], keys[6], false},
		{keys[0], keys[7], false},
	} {
		if same(tt.a, tt.b) != tt.want {
			t.Errorf("%q ~ %q: %v, want %v (%v)", tt.a, tt.b, !tt.want, tt.want, got)
		}
	}
	if got[keys[1]] != min(keys[0], keys[1]) || got[keys[7]] != keys[7] {
		t.Errorf("representatives: %v", got)
	}
	if _, ok := got[""]; ok {
		t.Error("the empty key is not a person")
	}
	// Order does not matter.
	rev := slices.Clone(keys)
	slices.Reverse(rev)
	if again := SimilarPersons(rev); !maps.Equal(again, got) {
		t.Errorf("reversed input: %v, want %v", again, got)
	}
}

// A million entries have about 20,000 distinct birth dates; the blocks keep
// the comparisons near-linear.
func BenchmarkSimilarPersons100k(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	surnames := []string{"김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"}
	syll := []rune("민준서연지호우현수아하은도윤예린시우주원채")
	keys := make([]string, 100_000)
	base := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range keys {
		name := surnames[r.IntN(len(surnames))] + string(syll[r.IntN(len(syll))]) + string(syll[r.IntN(len(syll))])
		keys[i] = PersonKey(name, base.AddDate(0, 0, r.IntN(365*40)))
	}
	b.ReportAllocs()
	for b.Loop() {
		SimilarPersons(keys)
	}
}

// The arithmetic Hangul decomposition is exactly NFD.
func TestSimilarityRunesMatchNFD(t *testing.T) {
	var all strings.Builder
	for r := rune(hangulBase); r <= hangulLast; r++ {
		all.WriteRune(r)
	}
	for _, s := range []string{string([]rune(all.String())[:100]), "김민준", "kim minjun", "김 민준 kim", "ελένη", "nguyễn"} {
		want := []rune(norm.NFD.String(s))
		want = want[:min(len(want), maxSimilarityRunes)]
		if got := similarityRunes([]string{s}, ""); !slices.Equal(got, want) {
			t.Errorf("%q: %U, want %U", s, got[:min(len(got), 8)], want[:min(len(want), 8)])
		}
	}
	n := 0
	for r := rune(hangulBase); r <= hangulLast; r++ {
		if got, want := similarityRunes([]string{string(r)}, ""), []rune(norm.NFD.String(string(r))); !slices.Equal(got, want) {
			t.Fatalf("%c: %U, want %U", r, got, want)
		}
		n++
	}
	if n != 11172 {
		t.Fatalf("%d syllables", n)
	}
}

// nameSimilarity is the score SimilarPersons compares with SameNameThreshold,
// for two raw names.
func nameSimilarity(a, b string) float64 {
	return prepareNormalized(NormalizeName(a)).similarity(prepareNormalized(NormalizeName(b)))
}
