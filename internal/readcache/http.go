package readcache

import (
	"net/http"
	"strconv"
	"strings"
)

// Cache-Control values for the views.
const (
	// Public views (event, draws, results): a CDN or browser may keep them
	// briefly and answer from the old copy while it revalidates.
	PublicShort = "public, max-age=2, stale-while-revalidate=10"
	// Personal views (an entry's status, read with its receipt token): a
	// browser must revalidate every time (a 304 is cheap) and no shared
	// cache may store them.
	Personal = "private, no-cache"
)

// Write answers a GET or HEAD with v: 304 Not Modified when the request's
// If-None-Match names v's ETag, else the body. vary lists the request
// headers the body depends on besides the URL ("Accept-Language").
func Write(w http.ResponseWriter, r *http.Request, v View, contentType, cacheControl string, vary ...string) {
	h := w.Header()
	h["Etag"] = []string{v.ETag} // canonical form of "ETag"; no re-canonicalising on the hot path
	h["Cache-Control"] = []string{cacheControl}
	if len(vary) > 0 {
		h["Vary"] = vary
	}
	if NoneMatch(r.Header.Get("If-None-Match"), v.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = []string{contentType}
	h["Content-Length"] = []string{strconv.Itoa(len(v.Body))}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(v.Body)
	}
}

// NoneMatch reports whether an If-None-Match header matches etag by weak
// comparison (RFC 9110 §13.1.2): "*", or any listed tag equal to it once a
// W/ prefix is set aside.
func NoneMatch(header, etag string) bool {
	if header == "" || etag == "" {
		return false
	}
	for header != "" {
		var t string
		t, header, _ = strings.Cut(header, ",")
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		if strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}
