package textin

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzCut: a cut is a prefix of at most n bytes, valid text stays valid,
// and nothing that fits is dropped but the one character across the cut.
func FuzzCut(f *testing.F) {
	f.Add(strings.Repeat("f", 127)+"é", 128)
	f.Add(strings.Repeat("a", 511)+"é", 512)
	f.Add("ab김😀", 5)
	f.Add("a\x80\x80\x80\x80", 3)
	f.Add("\xff\xfe", 1)
	f.Fuzz(func(t *testing.T, s string, n int) {
		got := Cut(s, n)
		if !strings.HasPrefix(s, got) || len(got) > max(n, 0) {
			t.Fatalf("Cut(%q, %d) = %q: not a prefix of at most n bytes", s, n, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Cut(%q, %d) = %q: cut inside a character", s, n, got)
		}
		if n > 0 && len(got) < n-utf8.UTFMax+1 && len(got) < len(s) {
			t.Fatalf("Cut(%q, %d) = %q: dropped more than one character", s, n, got)
		}
	})
}

// FuzzClean: whatever comes in, what comes out passes Check and fits.
func FuzzClean(f *testing.F) {
	f.Add("Mozilla/5.0 \xff\x00", 512)
	f.Add(strings.Repeat("a", 511)+"é", 512)
	f.Add("\xed\xa0\x80", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		got := Clean(s, n)
		if err := Check(got); err != nil {
			t.Fatalf("Clean(%q, %d) = %q: %v", s, n, got, err)
		}
		if n > 0 && len(got) > n {
			t.Fatalf("Clean(%q, %d) = %q: longer than n", s, n, got)
		}
		if Check(s) == nil && !strings.HasPrefix(s, got) {
			t.Fatalf("Clean(%q, %d) = %q changed valid text", s, n, got)
		}
	})
}

// FuzzCheck: Check accepts exactly valid UTF-8 without disallowed
// controls, and Visible never accepts a string of only blank characters.
func FuzzCheck(f *testing.F) {
	f.Add("Kim Minjun")
	f.Add("\u200b\u200d\ufeff")
	f.Add("a\x00")
	f.Add("\xff")
	f.Add("\u3164")
	f.Fuzz(func(t *testing.T, s string) {
		err := Check(s)
		if !utf8.ValidString(s) && err == nil || err == ErrInvalidUTF8 && utf8.ValidString(s) {
			t.Fatalf("Check(%q) = %v disagrees with utf8.ValidString", s, err)
		}
		if err == nil && strings.ContainsRune(s, 0) {
			t.Fatalf("Check(%q) accepted a NUL", s)
		}
		shows := false
		for _, r := range s {
			shows = shows || !unicode.In(r, unicode.Cc, unicode.Cf, unicode.Z, unicode.Mn, unicode.Me) && !blank(r)
		}
		if Visible(s) && !shows {
			t.Fatalf("Visible(%q) for blanks only", s)
		}
	})
}

// FuzzCleanJSON: what CleanJSON returns is one JSON value that jsonb takes
// and that cleaning again leaves as it is.
func FuzzCleanJSON(f *testing.F) {
	f.Add([]byte(`{"webdriver":false,"fill_ms":42000,"timezone":"Asia/Seoul","fingerprint":"ffaa11"}`))
	f.Add([]byte(`{"platform":"\u0000","languages":["\ud800"],"x\u0000":"\udfff"}`))
	f.Add([]byte(`{"fill_ms":1e1000000}`))
	f.Add([]byte("{\"p\":\"\xff\"}"))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := CleanJSON(raw)
		if err != nil {
			return
		}
		if !json.Valid(out) || !jsonbSafe(out) {
			t.Fatalf("CleanJSON(%q) = %q: not storable", raw, out)
		}
		again, err := CleanJSON(out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("CleanJSON is not idempotent on %q: %q, %v", out, again, err)
		}
	})
}
