package web_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/startline/startline/internal/readcache"
)

// TestPublicPagesRevalidate (issue 16): the event and results pages carry
// a strong ETag, answer 304 to a request naming it, vary on the language
// inputs, and may be kept by a CDN unless the answer sets a cookie.
func TestPublicPagesRevalidate(t *testing.T) {
	s := newSite(t, true)
	_, _, first := s.get("/events/spring")
	var device string
	for _, ck := range first.Values("Set-Cookie") {
		if strings.HasPrefix(ck, "sl_device=") {
			device, _, _ = strings.Cut(ck, ";")
		}
	}
	if device == "" {
		t.Fatalf("first visit sets no device cookie: %v", first)
	}
	if cc := first.Get("Cache-Control"); cc != readcache.Personal {
		t.Errorf("a page that sets a cookie: Cache-Control %q, want %q", cc, readcache.Personal)
	}
	for _, tc := range []struct {
		name, path string
		header     []string
	}{
		{"event page", "/events/spring", []string{"Cookie", device}},
		{"event page in Korean", "/events/spring", []string{"Cookie", device, "Accept-Language", "ko-KR"}},
		{"results page", "/events/spring/results", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, h := s.get(tc.path, tc.header...)
			etag := h.Get("ETag")
			if code != 200 || etag == "" || body == "" {
				t.Fatalf("%d ETag %q", code, etag)
			}
			for k, want := range map[string]string{"Cache-Control": readcache.PublicShort, "Vary": "Accept-Language, Cookie, Accept-Encoding",
				"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
				if got := h.Get(k); got != want {
					t.Errorf("%s %q, want %q", k, got, want)
				}
			}
			code, body, h = s.get(tc.path, append([]string{"If-None-Match", etag}, tc.header...)...)
			if code != http.StatusNotModified || body != "" || h.Get("ETag") != etag {
				t.Errorf("revalidation: %d, %d bytes, ETag %q; want 304, none, %q", code, len(body), h.Get("ETag"), etag)
			}
		})
	}
	// Gzipped once for the clients that take it; the same page inside.
	_, plain, _ := s.get("/events/spring/results")
	code, zipped, h := s.get("/events/spring/results", "Accept-Encoding", "gzip")
	if code != 200 || h.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip asked: %d, Content-Encoding %q", code, h.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(strings.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	if unzipped, _ := io.ReadAll(zr); string(unzipped) != plain || len(zipped) >= len(plain) {
		t.Errorf("gzipped page (%d bytes) is not the page (%d bytes)", len(zipped), len(plain))
	}
	for _, ae := range []string{"gzip;q=0", "br", "identity"} {
		if _, _, h := s.get("/events/spring/results", "Accept-Encoding", ae); h.Get("Content-Encoding") != "" {
			t.Errorf("Accept-Encoding %q: got %q", ae, h.Get("Content-Encoding"))
		}
	}

	_, en, _ := s.get("/events/spring", "Cookie", device)
	_, ko, _ := s.get("/events/spring", "Cookie", device, "Accept-Language", "ko-KR")
	if en == ko {
		t.Error("the Korean page is the English one")
	}
}
