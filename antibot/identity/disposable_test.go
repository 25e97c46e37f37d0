package identity

import (
	"bufio"
	"slices"
	"strings"
	"testing"
)

func TestDefaultDisposable(t *testing.T) {
	l := DefaultDisposable()
	if l != DefaultDisposable() {
		t.Error("DefaultDisposable returned different lists")
	}
	if l.Len() < 1000 {
		t.Fatalf("embedded list has %d domains, want the full list", l.Len())
	}
	tests := []struct {
		domain string
		want   bool
	}{
		{"mailinator.com", true},
		{"guerrillamail.com", true},
		{"yopmail.com", true},
		{"10minutemail.com", true},
		{"sub.mailinator.com", true},
		{"a.b.c.mailinator.com", true},
		{"MAILINATOR.COM", true},
		{"mailinator.com.", true},
		{"gmail.com", false},
		{"googlemail.com", false},
		{"naver.com", false},
		{"daum.net", false},
		{"outlook.com", false},
		{"icloud.com", false},
		{"proton.me", false},
		{"example.com", false},
		{"notmailinator.example", false},
		{"mailinator.com.evil", false},
		{"mailinator.com.example.org", false},
		{"com", false},
		{"", false},
		{"xn--bcher-kva.de", false},
		{"bücher.de", false},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			if got := l.IsDisposable(tt.domain); got != tt.want {
				t.Errorf("IsDisposable(%q) = %v, want %v", tt.domain, got, tt.want)
			}
		})
	}
}

func TestEmbeddedListFormat(t *testing.T) {
	sc := bufio.NewScanner(strings.NewReader(disposableDomains))
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "# source: disposable-email-domains (CC0), npm version ") {
		t.Fatalf("first line %q is not the source header", sc.Text())
	}
	var domains []string
	for sc.Scan() {
		domains = append(domains, sc.Text())
	}
	if !slices.IsSorted(domains) {
		t.Error("disposable_domains.txt is not sorted")
	}
	if len(slices.Compact(slices.Clone(domains))) != len(domains) {
		t.Error("disposable_domains.txt has duplicates")
	}
	if got := DefaultDisposable().Len(); got != len(domains) {
		t.Errorf("loaded %d domains from %d lines", got, len(domains))
	}
	// Providers that real runners use must never be listed.
	for _, d := range []string{"gmail.com", "googlemail.com", "naver.com", "daum.net", "hanmail.net", "kakao.com", "nate.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "proton.me"} {
		if DefaultDisposable().IsDisposable(d) {
			t.Errorf("%s is listed as disposable", d)
		}
	}
}

func TestLoadDisposable(t *testing.T) {
	in := `# override list
mailinator.com

  Throwaway.Example  
*.wild.test
.dot.test
한국.kr
`
	l, err := LoadDisposable(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.Len(), 5; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	tests := []struct {
		domain string
		want   bool
	}{
		{"mailinator.com", true},
		{"throwaway.example", true},
		{"x.throwaway.example", true},
		{"a.wild.test", true},
		{"wild.test", true},
		{"dot.test", true},
		{"xn--3e0b707e.kr", true},
		{"mail.한국.kr", true},
		{"yopmail.com", false}, // an override replaces the default list
		{"example", false},
	}
	for _, tt := range tests {
		if got := l.IsDisposable(tt.domain); got != tt.want {
			t.Errorf("IsDisposable(%q) = %v, want %v", tt.domain, got, tt.want)
		}
	}
}

func TestLoadDisposableInvalid(t *testing.T) {
	for _, in := range []string{
		"ok.com\nnot a domain\n",
		"ok.com\nbad_domain.com\n",
		"trailing.com.\n",
		"*.\n",
	} {
		if l, err := LoadDisposable(strings.NewReader(in)); err == nil {
			t.Errorf("LoadDisposable(%q) = %d domains, want error", in, l.Len())
		}
	}
	_, err := LoadDisposable(strings.NewReader("ok.com\n\nbad domain\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("error %v does not name line 3", err)
	}
}

func TestNilDisposableList(t *testing.T) {
	var l *DisposableList
	if l.IsDisposable("mailinator.com") || l.Len() != 0 {
		t.Error("nil list matched")
	}
}

func TestIsDisposableNoAllocs(t *testing.T) {
	l := DefaultDisposable()
	for _, d := range []string{"mailinator.com", "a.b.sub.mailinator.com", "gmail.com", "deep.sub.domain.example.co.kr"} {
		if n := testing.AllocsPerRun(100, func() { l.IsDisposable(d) }); n != 0 {
			t.Errorf("IsDisposable(%q) allocates %v times", d, n)
		}
	}
}

func BenchmarkIsDisposable(b *testing.B) {
	l := DefaultDisposable()
	for _, bc := range []struct{ name, domain string }{
		{"hit", "mailinator.com"},
		{"subdomain_hit", "x.y.mailinator.com"},
		{"miss", "gmail.com"},
		{"deep_miss", "mail.sub.example.co.kr"},
		{"idn", "bücher.de"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l.IsDisposable(bc.domain)
			}
		})
	}
}
