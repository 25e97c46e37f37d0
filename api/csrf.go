package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
)

// CSRFHeader carries the session's CSRF token on cookie-authenticated API
// calls that change state (the web console's forms send it as the "csrf"
// field instead).
const CSRFHeader = "X-CSRF-Token"

// CSRFToken is the anti-forgery token of a staff session: an HMAC of the
// session token under the cookie key. Another site can make a browser send
// the session cookie, but cannot read the cookie or any page holding the
// token, so it cannot send the token.
func CSRFToken(key []byte, session string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("csrf|" + session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF reports whether got is session's token, in constant time.
func validCSRF(key []byte, session, got string) bool {
	return got != "" && hmac.Equal([]byte(got), []byte(CSRFToken(key, session)))
}

// SameOrigin reports whether the browser says the request comes from this
// site's own pages: Sec-Fetch-Site "same-origin", or, from browsers that
// send no fetch metadata, an Origin whose host is this site's (the
// request's Host, or the public origin's host from site, which is what a
// browser saw behind a proxy that rewrites Host). A
// page elsewhere cannot make a browser send either. (The host alone is
// compared: behind a TLS-terminating proxy the scheme the browser used is
// not the request's, and another scheme on the same host is no other
// party.) Absent headers are not same-origin.
func SameOrigin(site *httpkit.Site, r *http.Request) bool {
	if sfs := r.Header.Get("Sec-Fetch-Site"); sfs != "" {
		return sfs == "same-origin"
	}
	return ownHost(site, r, originHost(r))
}

// CrossSite reports whether the browser says the request comes from
// another origin (a Sec-Fetch-Site other than same-origin or none, or an
// Origin naming another host or "null"). Requests without those headers
// (scripts, old browsers) are not known to be cross-site; the forms that
// use this check a CSRF token as well.
func CrossSite(site *httpkit.Site, r *http.Request) bool {
	if sfs := r.Header.Get("Sec-Fetch-Site"); sfs != "" {
		return sfs != "same-origin" && sfs != "none"
	}
	if r.Header.Get("Origin") == "" {
		return false
	}
	return !ownHost(site, r, originHost(r))
}

// ownHost reports whether host (lower case, from Origin) is this site's:
// the request's Host or the public origin's host.
func ownHost(site *httpkit.Site, r *http.Request, host string) bool {
	if host == "" {
		return false
	}
	return host == strings.ToLower(r.Host) || host == strings.ToLower(site.Origin(r).Host)
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

// changesState reports whether a method may change state (RFC 9110 safe
// methods do not).
func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// checkCSRF guards a state change authenticated by the session cookie:
// the session's CSRF token in X-CSRF-Token, or a same-origin browser
// request. SameSite=Strict alone is not enough (a sibling subdomain is
// same-site; older browsers ignore it), and neither is the JSON content
// type: the handlers read bodies sent as text/plain, which any page can
// post. Bearer tokens are not sent by browsers on their own and are exempt.
func (h *handler) checkCSRF(c *gin.Context, session string) bool {
	if !changesState(c.Request.Method) || SameOrigin(h.Site, c.Request) ||
		validCSRF(h.Guard.CookieKey, session, c.GetHeader(CSRFHeader)) {
		return true
	}
	writeError(c, h.Log, lottery.ErrCSRFFailed)
	return false
}

// refuseCrossSite stops a login posted from another site's page (login
// CSRF: signing a victim's browser in to the attacker's account). Scripts
// send neither Origin nor fetch metadata and pass.
func (h *handler) refuseCrossSite(c *gin.Context) {
	if CrossSite(h.Site, c.Request) {
		writeError(c, h.Log, lottery.ErrCSRFFailed)
		return
	}
	c.Next()
}
