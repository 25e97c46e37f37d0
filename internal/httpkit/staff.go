package httpkit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The staff browser session, shared by the API's cookie-authenticated calls
// and the web console: one cookie, one CSRF token bound to it, one rule for
// what counts as a request from this site's own pages.

// StaffCookie is the staff browser session cookie (HttpOnly, SameSite=Strict).
const StaffCookie = "sl_staff"

// CSRFHeader carries the session's CSRF token on cookie-authenticated API
// calls that change state (the web console's forms send it as the "csrf"
// field instead).
const CSRFHeader = "X-CSRF-Token"

// SetStaffCookie sets the staff session cookie to last as long as the
// session (ttl); Secure as for every cookie (SetCookie).
func (s *Site) SetStaffCookie(w http.ResponseWriter, r *http.Request, tok string, ttl time.Duration) {
	s.SetCookie(w, r, &http.Cookie{Name: StaffCookie, Value: tok, Path: "/",
		MaxAge: int(ttl.Round(time.Second).Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// ClearStaffCookie deletes the staff session cookie.
func (s *Site) ClearStaffCookie(w http.ResponseWriter, r *http.Request) {
	s.SetCookie(w, r, &http.Cookie{Name: StaffCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
}

// CSRFToken is the anti-forgery token of a staff session: an HMAC of the
// session token under the cookie key. Another site can make a browser send
// the session cookie, but cannot read the cookie or any page holding the
// token, so it cannot send the token.
func CSRFToken(key []byte, session string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("csrf|" + session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ValidCSRF reports whether got is session's token, in constant time.
func ValidCSRF(key []byte, session, got string) bool {
	return got != "" && hmac.Equal([]byte(got), []byte(CSRFToken(key, session)))
}

// SameOrigin reports whether the browser says the request comes from this
// site's own pages: Sec-Fetch-Site "same-origin", or, from browsers that
// send no fetch metadata, an Origin whose host is this site's (the
// request's Host, or the public origin's host, which is what a browser saw
// behind a proxy that rewrites Host). A page elsewhere cannot make a
// browser send either. (The host alone is compared: behind a
// TLS-terminating proxy the scheme the browser used is not the request's,
// and another scheme on the same host is no other party.) Absent headers
// are not same-origin.
func (s *Site) SameOrigin(r *http.Request) bool {
	if sfs := r.Header.Get("Sec-Fetch-Site"); sfs != "" {
		return sfs == "same-origin"
	}
	return s.ownHost(r, originHost(r))
}

// CrossSite reports whether the browser says the request comes from
// another origin (a Sec-Fetch-Site other than same-origin or none, or an
// Origin naming another host or "null"). Requests without those headers
// (scripts, old browsers) are not known to be cross-site; the forms that
// use this check a CSRF token as well.
func (s *Site) CrossSite(r *http.Request) bool {
	if sfs := r.Header.Get("Sec-Fetch-Site"); sfs != "" {
		return sfs != "same-origin" && sfs != "none"
	}
	if r.Header.Get("Origin") == "" {
		return false
	}
	return !s.ownHost(r, originHost(r))
}

// ownHost reports whether host (lower case, from Origin) is this site's:
// the request's Host or the public origin's host.
func (s *Site) ownHost(r *http.Request, host string) bool {
	if host == "" {
		return false
	}
	return host == strings.ToLower(r.Host) || host == strings.ToLower(s.Origin(r).Host)
}

// originHost returns the lower-case host[:port] of the Origin header, or ""
// when it is absent, "null" or not an http(s) origin.
func originHost(r *http.Request) string {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return ""
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.User != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// ChangesState reports whether a method may change state (RFC 9110 safe
// methods do not).
func ChangesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}
