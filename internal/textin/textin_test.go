package textin

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", nil},
		{"ascii", "spring-2027", nil},
		{"hangul", "김민준", nil},
		{"replacement character is text", "a\uFFFDb", nil},
		{"tab and newlines", "line one\r\n\tline two", nil},
		{"NUL", "a\x00b", ErrControl},
		{"bell", "\a", ErrControl},
		{"escape", "\x1b[31m", ErrControl},
		{"DEL", "\x7f", ErrControl},
		{"C1 next line", "a\u0085b", ErrControl},
		{"lone 0xFF", "key-\xff", ErrInvalidUTF8},
		{"cut two-byte character", "caf\xc3", ErrInvalidUTF8},
		{"encoded surrogate", "\xed\xa0\x80", ErrInvalidUTF8},
		{"overlong slash", "\xc0\xaf", ErrInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Check(tt.in); !errors.Is(got, tt.want) {
				t.Errorf("Check(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestCut(t *testing.T) {
	f127 := strings.Repeat("f", 127)
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "abc", 10, "abc"},
		{"exact", "abc", 3, "abc"},
		{"ascii", "abcdef", 4, "abcd"},
		{"zero", "abc", 0, ""},
		{"negative", "abc", -1, ""},
		{"two-byte character across the cut", f127 + "é", 128, f127},
		{"two-byte character before the cut", f127 + "é", 129, f127 + "é"},
		{"three-byte character, one byte in", "ab김", 3, "ab"},
		{"three-byte character, two bytes in", "ab김", 4, "ab"},
		{"three-byte character whole", "ab김c", 5, "ab김"},
		{"four-byte character, three bytes in", "a😀", 4, "a"},
		{"four-byte character whole", "a😀b", 5, "a😀"},
		{"invalid bytes count as one", "ab\xff\xfe\xfd", 4, "ab\xff\xfe"},
		{"stray continuation bytes", "a\x80\x80\x80\x80\x80", 4, "a\x80\x80\x80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Cut(tt.in, tt.n); got != tt.want {
				t.Errorf("Cut(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestClean(t *testing.T) {
	ua := strings.Repeat("a", 511) + "é" + "bbb"
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"valid kept", "Mozilla/5.0 (X11)", 512, "Mozilla/5.0 (X11)"},
		{"cut on a character boundary", ua, 512, strings.Repeat("a", 511)},
		{"invalid byte replaced", "Mozilla \xff", 0, "Mozilla \uFFFD"},
		{"NUL replaced", "a\x00b", 0, "a\uFFFDb"},
		{"tab kept", "a\tb", 0, "a\tb"},
		{"replacement that does not fit is dropped", "ab\xff", 3, "ab"},
		{"no limit", strings.Repeat("x", 2000), 0, strings.Repeat("x", 2000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clean(tt.in, tt.n); got != tt.want {
				t.Errorf("Clean(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestVisible(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"latin", "Kim Minjun", true},
		{"hangul", "김민준", true},
		{"digits", "10K", true},
		{"punctuation only", "—", true},
		{"emoji", "🏃", true},
		{"empty", "", false},
		{"spaces", " \t\u00a0\u3000", false},
		{"zero-width space, joiners, BOM", "\u200b\u200c\u200d\u2060\ufeff", false},
		{"soft hyphen", "\u00ad\u00ad", false},
		{"combining marks without a base", "\u0301\u0308\u034f", false},
		{"variation selectors", "\ufe0f\ufe0e", false},
		{"Hangul fillers", "\u3164\u115f\u1160\uffa0", false},
		{"braille blank", "\u2800\u2800", false},
		{"tag characters", "\U000E0041\U000E007F", false},
		{"mongolian vowel separator", "\u180e", false},
		{"line separators", "\u2028\u2029", false},
		{"invisible around a letter", "\u200bA\u200b", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Visible(tt.in); got != tt.want {
				t.Errorf("Visible(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanJSON(t *testing.T) {
	deep := strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1)
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{"object kept", `{"webdriver":false,"fill_ms":42000,"languages":["ko-KR","en"]}`,
			`{"fill_ms":42000,"languages":["ko-KR","en"],"webdriver":false}`, false},
		{"NUL in a value", `{"platform":"a\u0000b"}`, `{"platform":"a\ufffdb"}`, false},
		{"NUL in a key", `{"a\u0000":1}`, `{"a\ufffd":1}`, false},
		{"lone high surrogate", `{"p":"\ud800"}`, `{"p":"\ufffd"}`, false},
		{"lone low surrogate in an array", `["\udfff",1]`, `["\ufffd",1]`, false},
		{"surrogate pair kept", `{"e":"\ud83d\ude00"}`, `{"e":"😀"}`, false},
		{"raw invalid byte", "{\"p\":\"\xff\"}", `{"p":"\ufffd"}`, false},
		{"control escapes", `{"p":"\u001b\u007f\t"}`, `{"p":"\ufffd\ufffd\t"}`, false},
		{"null", `null`, `null`, false},
		{"number beyond float64", `{"fill_ms":1e1000000}`, "", true},
		{"trailing data", `{} {}`, "", true},
		{"not JSON", `{"a":`, "", true},
		{"too deep", deep, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanJSON([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("CleanJSON(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrJSON) {
					t.Errorf("error %v is not ErrJSON", err)
				}
				return
			}
			// Compare as decoded JSON: the encoder escapes some characters.
			var g, w any
			if json.Unmarshal(got, &g) != nil || json.Unmarshal([]byte(tt.want), &w) != nil {
				t.Fatalf("got %s", got)
			}
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			if string(gj) != string(wj) {
				t.Errorf("CleanJSON(%q) = %s, want %s", tt.in, got, tt.want)
			}
			if !jsonbSafe(got) {
				t.Errorf("CleanJSON(%q) = %s is not safe for jsonb", tt.in, got)
			}
		})
	}
}

// jsonbSafe is what PostgreSQL's jsonb input requires of a document's
// text: valid UTF-8, no \u0000 escape, no lone surrogate escape.
func jsonbSafe(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' { // backslashes appear only in strings, always escaping the next byte
			continue
		}
		i++
		if i+4 < len(b) && b[i] == 'u' {
			// The encoder writes characters beyond ASCII as UTF-8, so a
			// surrogate escape would be one jsonb may refuse.
			h := strings.ToLower(string(b[i+1 : i+5]))
			if h == "0000" || h >= "d800" && h <= "dfff" {
				return false
			}
		}
	}
	return true
}
