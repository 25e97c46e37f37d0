package identity

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizeEmail(t *testing.T) {
	local64 := strings.Repeat("a", 64)
	domain189 := strings.Repeat(strings.Repeat("b", 61)+".", 3) + "com"
	tests := []struct {
		name string
		raw  string
		want Email
	}{
		{"plain", "runner@example.com", Email{"runner@example.com", "runner@example.com", "example.com"}},
		{"surrounding whitespace", " \t runner@example.com \n", Email{"runner@example.com", "runner@example.com", "example.com"}},
		{"uppercase domain kept local", "Runner@EXAMPLE.COM", Email{"Runner@example.com", "runner@example.com", "example.com"}},
		{"other domain keeps plus", "a+b@example.com", Email{"a+b@example.com", "a+b@example.com", "example.com"}},
		{"other domain keeps dots", "j.smith@example.com", Email{"j.smith@example.com", "j.smith@example.com", "example.com"}},
		{"gmail dots", "j.o.h.n.smith@gmail.com", Email{"j.o.h.n.smith@gmail.com", "johnsmith@gmail.com", "gmail.com"}},
		{"gmail plus", "johnsmith+marathon2026@gmail.com", Email{"johnsmith+marathon2026@gmail.com", "johnsmith@gmail.com", "gmail.com"}},
		{"gmail plus with dots after", "john+a.b@gmail.com", Email{"john+a.b@gmail.com", "john@gmail.com", "gmail.com"}},
		{"gmail dots plus case", "John.Smith+Race@Gmail.COM", Email{"John.Smith+Race@gmail.com", "johnsmith@gmail.com", "gmail.com"}},
		{"googlemail alias", "john.smith@googlemail.com", Email{"john.smith@googlemail.com", "johnsmith@gmail.com", "gmail.com"}},
		{"googlemail uppercase plus", "JOHN.SMITH+x@GoogleMail.com", Email{"JOHN.SMITH+x@googlemail.com", "johnsmith@gmail.com", "gmail.com"}},
		{"outlook plus", "kim+spam@outlook.com", Email{"kim+spam@outlook.com", "kim@outlook.com", "outlook.com"}},
		{"outlook keeps dots", "kim.minjun@outlook.com", Email{"kim.minjun@outlook.com", "kim.minjun@outlook.com", "outlook.com"}},
		{"hotmail plus", "Kim+1@Hotmail.com", Email{"Kim+1@hotmail.com", "kim@hotmail.com", "hotmail.com"}},
		{"live plus", "kim+1@live.com", Email{"kim+1@live.com", "kim@live.com", "live.com"}},
		{"icloud plus", "kim+1@icloud.com", Email{"kim+1@icloud.com", "kim@icloud.com", "icloud.com"}},
		{"me.com plus", "kim+1@me.com", Email{"kim+1@me.com", "kim@me.com", "me.com"}},
		{"fastmail plus", "kim+1@fastmail.com", Email{"kim+1@fastmail.com", "kim@fastmail.com", "fastmail.com"}},
		{"proton.me plus", "kim+1@proton.me", Email{"kim+1@proton.me", "kim@proton.me", "proton.me"}},
		{"protonmail plus", "kim+1@protonmail.com", Email{"kim+1@protonmail.com", "kim@protonmail.com", "protonmail.com"}},
		{"yahoo keeps dash", "kim-race@yahoo.com", Email{"kim-race@yahoo.com", "kim-race@yahoo.com", "yahoo.com"}},
		{"yahoo keeps plus", "kim+race@yahoo.com", Email{"kim+race@yahoo.com", "kim+race@yahoo.com", "yahoo.com"}},
		{"subdomain of provider is not provider", "a+b@mail.gmail.com", Email{"a+b@mail.gmail.com", "a+b@mail.gmail.com", "mail.gmail.com"}},
		{"naver", "Runner_01@Naver.com", Email{"Runner_01@naver.com", "runner_01@naver.com", "naver.com"}},
		{"IDN domain", "user@bücher.de", Email{"user@xn--bcher-kva.de", "user@xn--bcher-kva.de", "xn--bcher-kva.de"}},
		{"IDN uppercase", "user@BÜCHER.DE", Email{"user@xn--bcher-kva.de", "user@xn--bcher-kva.de", "xn--bcher-kva.de"}},
		{"IDN punycode input", "user@XN--BCHER-KVA.de", Email{"user@xn--bcher-kva.de", "user@xn--bcher-kva.de", "xn--bcher-kva.de"}},
		{"IDN Korean domain", "a@한국.kr", Email{"a@xn--3e0b707e.kr", "a@xn--3e0b707e.kr", "xn--3e0b707e.kr"}},
		{"IDN non-transitional sharp s", "a@faß.de", Email{"a@xn--fa-hia.de", "a@xn--fa-hia.de", "xn--fa-hia.de"}},
		{"full-width domain", "a@ｅｘａｍｐｌｅ．ｃｏｍ", Email{"a@example.com", "a@example.com", "example.com"}},
		{"special chars in local", "o'brien!#$%&*=?^_`{|}~@example.com", Email{"o'brien!#$%&*=?^_`{|}~@example.com", "o'brien!#$%&*=?^_`{|}~@example.com", "example.com"}},
		{"hyphenated domain", "a@my-club.co.kr", Email{"a@my-club.co.kr", "a@my-club.co.kr", "my-club.co.kr"}},
		{"64 char local", local64 + "@example.com", Email{local64 + "@example.com", local64 + "@example.com", "example.com"}},
		{"254 chars", local64 + "@" + domain189, Email{local64 + "@" + domain189, local64 + "@" + domain189, domain189}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeEmail(tt.raw)
			if err != nil {
				t.Fatalf("NormalizeEmail(%q) error: %v", tt.raw, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NormalizeEmail(%q) mismatch (-want +got):\n%s", tt.raw, diff)
			}
		})
	}
}

func TestNormalizeEmailSameKey(t *testing.T) {
	groups := [][]string{
		{"johnsmith@gmail.com", "John.Smith@gmail.com", "j.o.h.n.s.m.i.t.h+x@googlemail.com", " JOHNSMITH+a+b@GMAIL.COM "},
		{"kim@outlook.com", "KIM+race@Outlook.com"},
		{"user@xn--bcher-kva.de", "user@bücher.de", "USER@BÜCHER.DE"},
	}
	for _, g := range groups {
		first, err := NormalizeEmail(g[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range g[1:] {
			got, err := NormalizeEmail(raw)
			if err != nil {
				t.Fatalf("NormalizeEmail(%q): %v", raw, err)
			}
			if got.Key != first.Key {
				t.Errorf("NormalizeEmail(%q).Key = %q, want %q", raw, got.Key, first.Key)
			}
		}
	}
	// Different mailboxes must not collapse.
	a, _ := NormalizeEmail("a.b@example.com")
	b, _ := NormalizeEmail("ab@example.com")
	if a.Key == b.Key {
		t.Errorf("dots collapsed outside gmail: %q", a.Key)
	}
}

func TestNormalizeEmailInvalid(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"empty", ""},
		{"spaces only", "   "},
		{"no at", "runner.example.com"},
		{"two ats", "a@b@example.com"},
		{"empty local", "@example.com"},
		{"empty domain", "runner@"},
		{"display name", "Kim Minjun <kim@example.com>"},
		{"angle brackets", "<kim@example.com>"},
		{"comment", "kim@example.com (Kim)"},
		{"comment in local", "kim(x)@example.com"},
		{"quoted local", `"kim minjun"@example.com`},
		{"quoted local no space", `"kim"@example.com`},
		{"space in local", "kim minjun@example.com"},
		{"leading dot", ".kim@example.com"},
		{"trailing dot", "kim.@example.com"},
		{"double dot", "kim..minjun@example.com"},
		{"non-ASCII local", "김민준@example.com"},
		{"control char", "kim\x00@example.com"},
		{"invalid utf8", "kim@exam\xffple.com"},
		{"local too long", strings.Repeat("a", 65) + "@example.com"},
		{"address too long", strings.Repeat("a", 64) + "@" + strings.Repeat(strings.Repeat("b", 61)+".", 3) + "comm"},
		{"domain too long", "a@" + strings.Repeat(strings.Repeat("b", 62)+".", 4) + "com"},
		{"label too long", "a@" + strings.Repeat("b", 64) + ".com"},
		{"single label", "kim@localhost"},
		{"trailing dot domain", "kim@example.com."},
		{"leading dot domain", "kim@.example.com"},
		{"empty label", "kim@example..com"},
		{"ip address", "kim@192.168.0.1"},
		{"ip literal", "kim@[192.168.0.1]"},
		{"underscore domain", "kim@ex_ample.com"},
		{"leading hyphen label", "kim@-example.com"},
		{"one letter tld", "kim@example.c"},
		{"space in domain", "kim@exa mple.com"},
		{"bad punycode", "kim@xn--.com"},
		{"gmail only tag", "+race@gmail.com"},
		{"outlook only tag", "+race@outlook.com"},
		{"mailto", "mailto:kim@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeEmail(tt.raw)
			if !errors.Is(err, ErrInvalidEmail) {
				t.Fatalf("NormalizeEmail(%q) = %+v, %v; want ErrInvalidEmail", tt.raw, got, err)
			}
			if got != (Email{}) {
				t.Errorf("NormalizeEmail(%q) returned %+v with error", tt.raw, got)
			}
			if tt.raw != "" && strings.Contains(err.Error(), tt.raw) {
				t.Errorf("error %q echoes the input", err)
			}
		})
	}
}

// FuzzNormalizeEmail checks that no input panics and that normalizing is
// idempotent: the Address and the Key of a result normalize to the same Key.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"runner@example.com", "John.Smith+race@GoogleMail.com", "user@bücher.de",
		"a@ｅｘａｍｐｌｅ．ｃｏｍ", "kim+x@outlook.com", `"a b"@x.com`, "a@b@c", "x@xn--bcher-kva.de",
		"Kim <kim@example.com>", ".@gmail.com", "a.+b@gmail.com", "a@faß.de", "a@한국.kr",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		e, err := NormalizeEmail(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidEmail) {
				t.Fatalf("NormalizeEmail(%q) error %v does not wrap ErrInvalidEmail", raw, err)
			}
			return
		}
		if len(e.Address) > maxEmailLen || len(e.Key) > maxEmailLen {
			t.Fatalf("NormalizeEmail(%q) = %+v: too long", raw, e)
		}
		if !strings.HasSuffix(e.Key, "@"+e.Domain) {
			t.Fatalf("NormalizeEmail(%q) = %+v: Key not in Domain", raw, e)
		}
		for _, again := range []string{e.Address, e.Key} {
			e2, err := NormalizeEmail(again)
			if err != nil {
				t.Fatalf("NormalizeEmail(%q) = %+v, but NormalizeEmail(%q): %v", raw, e, again, err)
			}
			if e2.Key != e.Key || e2.Domain != e.Domain {
				t.Fatalf("not idempotent: %q → %+v, %q → %+v", raw, e, again, e2)
			}
		}
		if e3, _ := NormalizeEmail(e.Key); e3.Address != e.Key {
			t.Fatalf("key %q is not a fixed point: %+v", e.Key, e3)
		}
	})
}

func BenchmarkNormalizeEmail(b *testing.B) {
	for _, bc := range []struct{ name, raw string }{
		{"plain", "runner@example.com"},
		{"gmail", " John.Smith+race@GoogleMail.com "},
		{"idn", "user@bücher.de"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NormalizeEmail(bc.raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
