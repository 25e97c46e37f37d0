package httpkit

import (
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"
)

var errNotLocal = errors.New("not a path on this site")

// LocalPath accepts a redirect target only when it is a path on this site
// (with an optional query and fragment) and returns it re-serialized. It
// refuses what browsers would turn into another site: a scheme or host,
// a "//" prefix, backslashes (browsers read "/\evil" as "//evil"), control
// characters (browsers drop a tab or newline, so "/\t/evil" becomes
// "//evil"), in the raw text or once percent-decoded, and invalid UTF-8.
func LocalPath(raw string) (string, error) {
	if raw == "" || raw[0] != '/' || strings.HasPrefix(raw, "//") || !clean(raw) {
		return "", errNotLocal
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", errNotLocal
	}
	if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || !clean(u.Path) {
		return "", errNotLocal
	}
	return u.String(), nil
}

// SafeRedirect is LocalPath with a fallback: the target when it stays on
// the site, else fallback.
func SafeRedirect(raw, fallback string) string {
	if p, err := LocalPath(raw); err == nil {
		return p
	}
	return fallback
}

// clean reports valid UTF-8 with no backslash and no control character.
func clean(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '\\' || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}
