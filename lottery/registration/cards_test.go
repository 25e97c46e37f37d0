package registration

import (
	"net/url"
	"strings"
	"testing"
)

func TestLocalPath(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"/events/spring/apply", true},
		{"/events/spring/apply/card?subqueue=half%3Aopen", true},
		{"/", true},
		{"", false},
		{"events/spring", false},
		{"//evil.example/x", false},
		{"/\\evil.example", false},
		{"https://evil.example/", false},
		{"/%2fevil.example", false},
		{"/%2Fevil.example", false},
		{"/x\r\nLocation: https://evil.example", false},
		{"/x\tTab", false},
		{"/" + strings.Repeat("a", 2048), false},
	} {
		if got := LocalPath(c.in); got != c.ok {
			t.Errorf("LocalPath(%q) = %t, want %t", c.in, got, c.ok)
		}
	}
}

// FuzzLocalPath: whatever LocalPath accepts, a browser resolves on this
// site: no scheme, no host.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/events/x/apply", "//evil", "/\\evil", "https://x", "/%2fx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !LocalPath(p) {
			return
		}
		base, _ := url.Parse("https://run.example/events/spring/apply")
		u, err := url.Parse(p)
		if err != nil {
			return // a browser would not follow it anywhere else either
		}
		if r := base.ResolveReference(u); r.Host != "run.example" || r.Scheme != "https" {
			t.Fatalf("LocalPath(%q) accepted, resolves to %s", p, r)
		}
	})
}
