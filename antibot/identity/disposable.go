package identity

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"sync"
)

// disposableDomains is the CC0 list of the disposable-email-domains project,
// one domain per line. To refresh it:
//
//	npm pack disposable-email-domains-js && tar xzf disposable-email-domains-js-*.tgz
//	jq -r '.[]' package/dist/dict/disposable_email_blocklist.json | tr A-Z a-z | LC_ALL=C sort -u
//
// and put the "# source:" header line back on top.
//
//go:embed disposable_domains.txt
var disposableDomains string

// DisposableList is a set of throwaway-mail domains. A domain is disposable
// when it or any parent domain is listed. It is read-only once loaded and safe
// for concurrent use.
type DisposableList struct {
	domains map[string]struct{}
}

// LoadDisposable reads a list with one domain per line; blank lines and lines
// starting with # are ignored, and a leading "*." or "." is allowed. Because
// it takes any reader, a service can load an override file named in its config
// at start and so update the list without a release. Domains are stored in
// lowercase ASCII form; a line that is not a domain is an error naming its
// line number, so a bad override fails at start instead of silently matching
// nothing.
func LoadDisposable(r io.Reader) (*DisposableList, error) {
	l := &DisposableList{domains: make(map[string]struct{})}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "*")
		line = strings.TrimPrefix(line, ".")
		d, err := emailIDNA.ToASCII(line)
		if err != nil || d == "" || strings.HasSuffix(d, ".") {
			return nil, fmt.Errorf("load disposable list: line %d: invalid domain %q", n, line)
		}
		l.domains[d] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("load disposable list: %w", err)
	}
	return l, nil
}

// defaultDisposable parses the embedded list once, on first use.
var defaultDisposable = sync.OnceValue(func() *DisposableList {
	l, err := LoadDisposable(strings.NewReader(disposableDomains))
	if err != nil {
		panic("identity: embedded disposable list: " + err.Error()) // covered by tests
	}
	return l
})

// DefaultDisposable returns the list embedded at build time (see
// disposable_domains.txt for its source and date). Every call returns the
// same shared, read-only list.
func DefaultDisposable() *DisposableList {
	return defaultDisposable()
}

// Len reports how many domains the list holds, for logging at start.
func (l *DisposableList) Len() int {
	if l == nil {
		return 0
	}
	return len(l.domains)
}

// IsDisposable reports whether domain or one of its parent domains is listed
// (sub.mailinator.com matches mailinator.com). It expects the lowercase ASCII
// form, as in Email.Domain, and then does one map lookup per label without
// allocating; other forms are normalized first. A nil list matches nothing.
func (l *DisposableList) IsDisposable(domain string) bool {
	if l == nil || len(l.domains) == 0 {
		return false
	}
	domain = strings.TrimSuffix(domain, ".")
	if !isLowerASCIIDomain(domain) {
		d, err := emailIDNA.ToASCII(domain)
		if err != nil {
			return false
		}
		domain = d
	}
	for {
		if _, ok := l.domains[domain]; ok {
			return true
		}
		i := strings.IndexByte(domain, '.')
		if i < 0 {
			return false
		}
		domain = domain[i+1:]
	}
}

// isLowerASCIIDomain reports whether s needs no IDNA mapping before lookup.
func isLowerASCIIDomain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
