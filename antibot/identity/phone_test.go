package identity

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		region string
		want   string
	}{
		{"KR mobile dashes", "010-1234-5678", "KR", "+821012345678"},
		{"KR mobile digits", "01012345678", "KR", "+821012345678"},
		{"KR mobile spaces", " 010 1234 5678 ", "KR", "+821012345678"},
		{"KR mobile dots", "010.1234.5678", "KR", "+821012345678"},
		{"KR mobile parentheses", "(010) 1234-5678", "KR", "+821012345678"},
		{"KR international", "+82 10-1234-5678", "KR", "+821012345678"},
		{"KR international no region", "+821012345678", "", "+821012345678"},
		{"KR international with trunk zero", "+82 (0)10 1234 5678", "", "+821012345678"},
		{"KR 00 prefix", "0082 10 1234 5678", "KR", "+821012345678"},
		{"KR 00 prefix from US region", "0082-10-1234-5678", "US", "+821012345678"},
		{"KR 00 prefix no region", "00821012345678", "", "+821012345678"},
		{"KR carrier prefix 001", "001 1 650 253 0000", "KR", "+16502530000"},
		{"KR Seoul landline", "02-123-4567", "KR", "+8221234567"},
		{"KR Gyeonggi landline", "031-123-4567", "KR", "+82311234567"},
		{"KR lowercase region", "010-1234-5678", "kr", "+821012345678"},
		{"KR full-width digits", "０１０－１２３４－５６７８", "KR", "+821012345678"},
		{"US parentheses", "(650) 253-0000", "US", "+16502530000"},
		{"US dashes", "650-253-0000", "US", "+16502530000"},
		{"US leading 1", "1 650 253 0000", "US", "+16502530000"},
		{"US international", "+1 (202) 456-1111", "", "+12024561111"},
		{"US 00 prefix", "00 1 202 456 1111", "KR", "+12024561111"},
		{"US 011 prefix", "011 82 10 1234 5678", "US", "+821012345678"},
		{"UK 00 prefix", "00 44 20 7946 0958", "US", "+442079460958"},
		{"en dashes", "010–1234–5678", "KR", "+821012345678"},
		{"no-break spaces", "010\u00a01234\u00a05678", "KR", "+821012345678"},
		{"slashes", "010/1234/5678", "KR", "+821012345678"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizePhone(tt.raw, tt.region)
			if err != nil {
				t.Fatalf("NormalizePhone(%q, %q) error: %v", tt.raw, tt.region, err)
			}
			if got != tt.want {
				t.Errorf("NormalizePhone(%q, %q) = %q, want %q", tt.raw, tt.region, got, tt.want)
			}
		})
	}
}

func TestNormalizePhoneInvalid(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		region string
	}{
		{"empty", "", "KR"},
		{"spaces", "   ", "KR"},
		{"too short", "010-1234", "KR"},
		{"too long", "010-1234-5678-9999", "KR"},
		{"national without region", "010-1234-5678", ""},
		{"unknown region", "010-1234-5678", "XX"},
		{"letters", "010-CALL-ME", "KR"},
		{"vanity", "1-800-FLOWERS", "US"},
		{"extension", "650-253-0000 ext 12", "US"},
		{"hash extension", "650-253-0000#12", "US"},
		{"plus in middle", "010+1234+5678", "KR"},
		{"double plus", "++821012345678", ""},
		{"invalid country code", "+999 1234 5678", ""},
		{"invalid US area code", "(123) 456-7890", "US"},
		{"00 then garbage", "0010 1234 5678", "KR"},
		{"only punctuation", "(-)", "KR"},
		{"tel uri", "tel:+821012345678", ""},
		{"way too long", strings.Repeat("1", 100), "KR"},
		{"arabic-indic digits", "٠١٠١٢٣٤٥٦٧٨", "KR"},
		{"invalid utf8", "010\xff1234", "KR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizePhone(tt.raw, tt.region)
			if !errors.Is(err, ErrInvalidPhone) {
				t.Fatalf("NormalizePhone(%q, %q) = %q, %v; want ErrInvalidPhone", tt.raw, tt.region, got, err)
			}
			if got != "" {
				t.Errorf("NormalizePhone(%q, %q) returned %q with error", tt.raw, tt.region, got)
			}
		})
	}
}

// FuzzNormalizePhone checks that no input panics and that the E.164 result
// normalizes to itself whatever the default region.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{
		"010-1234-5678", "+82 10 1234 5678", "0082 10 1234 5678", "(650) 253-0000",
		"001 1 650 253 0000", "011 82 10 1234 5678", "02-123-4567", "+", "00", "()",
		"０１０－１２３４－５６７８",
	} {
		f.Add(s, "KR")
		f.Add(s, "US")
	}
	f.Add("+442079460958", "")
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := NormalizePhone(raw, region)
		if err != nil {
			if !errors.Is(err, ErrInvalidPhone) {
				t.Fatalf("NormalizePhone(%q, %q) error %v does not wrap ErrInvalidPhone", raw, region, err)
			}
			return
		}
		if !strings.HasPrefix(got, "+") || strings.Trim(got[1:], "0123456789") != "" || len(got) > 16 {
			t.Fatalf("NormalizePhone(%q, %q) = %q, not E.164", raw, region, got)
		}
		for _, r := range []string{region, "", "KR", "US"} {
			again, err := NormalizePhone(got, r)
			if err != nil || again != got {
				t.Fatalf("not idempotent: %q → %q, then (%q) → %q, %v", raw, got, r, again, err)
			}
		}
	})
}
