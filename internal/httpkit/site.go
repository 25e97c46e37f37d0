// Package httpkit holds what the API and the web pages share about HTTP
// itself: the Gin engine they mount on, the edge check of outside text
// (CheckInput), the one table from error codes to HTTP statuses (StatusOf)
// and the outage answer (Unavailable), the staff session cookie with its
// CSRF token and same-origin rules, the site's public origin, whose word
// about a request's scheme and host is believed, the cookie policy that
// follows from both, and which redirect targets stay on the site. The
// anti-bot request gate both call is internal/gate.
package httpkit

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Site is the service's public face: its public URL (STARTLINE_PUBLIC_URL)
// and the proxies (STARTLINE_TRUSTED_PROXIES) whose X-Forwarded-Proto and
// X-Forwarded-Host are believed. Every cookie the service sets goes through
// SetCookie, and every absolute URL it builds for a request starts from
// Origin, so a TLS-terminating proxy changes neither.
//
// A nil *Site knows no public URL and trusts no proxy: cookies are Secure
// only on a direct TLS connection (tests of unrelated behaviour).
type Site struct {
	public  *url.URL
	trusted []netip.Prefix
}

// NewSite validates the public URL (empty, or an absolute http(s) URL with a
// host) and the trusted proxies (CIDRs or single addresses).
func NewSite(publicURL string, trustedProxies []string) (*Site, error) {
	s := &Site{}
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("public URL %q: want an absolute http(s) URL such as https://run.example", publicURL)
		}
		s.public = &url.URL{Scheme: u.Scheme, Host: u.Host}
	}
	for _, p := range trustedProxies {
		p = strings.TrimSpace(p)
		if pfx, err := netip.ParsePrefix(p); err == nil {
			s.trusted = append(s.trusted, pfx.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: not a CIDR or IP", p)
		}
		a = a.Unmap()
		s.trusted = append(s.trusted, netip.PrefixFrom(a, a.BitLen()))
	}
	return s, nil
}

// fromTrustedProxy reports whether the request's peer, the address that
// connected to us, is one of the trusted proxies. Only then are its
// forwarding headers believed; a client's own are ignored.
func (s *Site) fromTrustedProxy(r *http.Request) bool {
	if s == nil || len(s.trusted) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(strings.TrimSpace(r.RemoteAddr))
	if err != nil {
		host = strings.TrimSpace(r.RemoteAddr)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwarded returns the value the nearest proxy put in a forwarding header:
// the last of its comma-separated values (a proxy that appends leaves the
// client's own claims to the left), or "" unless the peer is trusted.
func (s *Site) forwarded(r *http.Request, name string) string {
	if !s.fromTrustedProxy(r) {
		return ""
	}
	vals := r.Header.Values(name)
	if len(vals) == 0 {
		return ""
	}
	last := vals[len(vals)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.TrimSpace(last)
}

// Secure reports whether the browser reached us over HTTPS, which is when
// cookies get the Secure attribute: the public URL is https, the connection
// itself is TLS, or a trusted proxy says X-Forwarded-Proto: https. A client's
// own X-Forwarded-Proto is never believed. In dev over plain http all three
// are false and cookies stay usable.
func (s *Site) Secure(r *http.Request) bool {
	if s != nil && s.public != nil && s.public.Scheme == "https" {
		return true
	}
	if r.TLS != nil {
		return true
	}
	return strings.EqualFold(s.forwarded(r, "X-Forwarded-Proto"), "https")
}

// SetCookie writes c with its Secure attribute decided by Secure(r). Every
// cookie the service sets goes through here.
func (s *Site) SetCookie(w http.ResponseWriter, r *http.Request, c *http.Cookie) {
	c.Secure = s.Secure(r)
	http.SetCookie(w, c)
}

// Origin returns the scheme and host the browser used for r: the public URL
// when one is configured, else the request's own, with a trusted proxy's
// X-Forwarded-Proto and X-Forwarded-Host believed.
func (s *Site) Origin(r *http.Request) *url.URL {
	if s != nil && s.public != nil {
		return &url.URL{Scheme: s.public.Scheme, Host: s.public.Host}
	}
	scheme := "http"
	if s.Secure(r) {
		scheme = "https"
	}
	host := r.Host
	if h := s.forwarded(r, "X-Forwarded-Host"); h != "" && validHost(h) {
		host = h
	}
	return &url.URL{Scheme: scheme, Host: host}
}

// validHost accepts host or host:port, nothing that could carry a path or
// user info into a URL built from it.
func validHost(h string) bool {
	if strings.ContainsAny(h, "/\\@?#% \t") {
		return false
	}
	u, err := url.Parse("//" + h)
	return err == nil && u.Host == h
}

// Absolute resolves a path on this site (see LocalPath) against Origin(r).
func (s *Site) Absolute(r *http.Request, path string) (string, error) {
	local, err := LocalPath(path)
	if err != nil {
		return "", err
	}
	u, _ := url.Parse(local) // LocalPath parsed it already
	return s.Origin(r).ResolveReference(u).String(), nil
}

// OnSite accepts a return address given by a client: a path on this site, or
// an absolute URL whose scheme and host are this site's Origin(r) (what a
// client behind a trusted proxy sees). It returns the path form.
func (s *Site) OnSite(r *http.Request, raw string) (string, error) {
	if local, err := LocalPath(raw); err == nil {
		return local, nil
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return "", errNotLocal
	}
	o := s.Origin(r)
	if !strings.EqualFold(u.Scheme, o.Scheme) || !strings.EqualFold(u.Host, o.Host) || u.User != nil {
		return "", errNotLocal
	}
	u.Scheme, u.Host = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	return LocalPath(u.String())
}
