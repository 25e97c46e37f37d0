package httpkit

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestLocalPath(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"/review", "/review", true},
		{"/review?event=spring&reason=webdriver", "/review?event=spring&reason=webdriver", true},
		{"/entries/abc?token=x%2By#top", "/entries/abc?token=x%2By#top", true},
		{"/이벤트", "/%EC%9D%B4%EB%B2%A4%ED%8A%B8", true},
		{"/a:b", "/a:b", true},
		{"/..//evil.example", "/..//evil.example", true}, // a path: the browser keeps the host
		{"", "", false},
		{"review", "", false},
		{"./review", "", false},
		{"//evil.example/x", "", false},
		{"///evil.example", "", false},
		{`/\evil.example/x`, "", false},
		{`\\evil.example`, "", false},
		{"/%5Cevil.example", "", false},
		{"/\t/evil.example", "", false},
		{"/\n/evil.example", "", false},
		{"/\r\n/evil.example", "", false},
		{"/%09/evil.example", "", false},
		{"/%2F%2Fevil.example", "", false},
		{"/x\x00", "", false},
		{"/x\x7f", "", false},
		{"/x\u0085", "", false},
		{"/x\xff", "", false},
		{"https://evil.example/x", "", false},
		{"http:/evil.example", "", false},
		{"javascript:alert(1)", "", false},
		{" /review", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := LocalPath(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("LocalPath(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
			if fb := SafeRedirect(tt.in, "/fallback"); (fb == "/fallback") == tt.ok {
				t.Errorf("SafeRedirect(%q) = %q", tt.in, fb)
			}
		})
	}
}

func TestNewSite(t *testing.T) {
	tests := []struct {
		name    string
		public  string
		proxies []string
		ok      bool
	}{
		{"nothing", "", nil, true},
		{"https", "https://run.example", []string{"10.0.0.0/8", "192.0.2.7", "::1"}, true},
		{"http with port and path", "http://127.0.0.1:8080/", nil, true},
		{"relative", "/startline", nil, false},
		{"other scheme", "ftp://run.example", nil, false},
		{"no host", "https://", nil, false},
		{"user info", "https://a@run.example", nil, false},
		{"query", "https://run.example/?x=1", nil, false},
		{"bad proxy", "", []string{"10.0.0.0/33"}, false},
		{"proxy name", "", []string{"proxy.internal"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewSite(tt.public, tt.proxies); (err == nil) != tt.ok {
				t.Errorf("NewSite(%q, %q) = %v, want ok %v", tt.public, tt.proxies, err, tt.ok)
			}
		})
	}
}

// request is a request from peer carrying the given header pairs.
func request(peer string, tlsConn bool, header ...string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "internal:8080"
	r.RemoteAddr = peer
	if !tlsConn {
		r.TLS = nil
	} else {
		r.TLS = &tls.ConnectionState{}
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

func TestSecureAndOrigin(t *testing.T) {
	const proxy, client = "10.1.2.3:4000", "203.0.113.9:5000"
	tests := []struct {
		name       string
		public     string
		r          *http.Request
		wantSecure bool
		wantOrigin string
	}{
		{"dev over plain http", "", request(client, false), false, "http://internal:8080"},
		{"dev with an http public URL", "http://127.0.0.1:8080", request(client, false), false, "http://127.0.0.1:8080"},
		{"https public URL", "https://run.example", request(client, false), true, "https://run.example"},
		{"direct TLS", "", request(client, true), true, "https://internal:8080"},
		{"trusted proxy says https", "", request(proxy, false, "X-Forwarded-Proto", "https", "X-Forwarded-Host", "run.example"),
			true, "https://run.example"},
		{"trusted proxy over an http public URL", "http://127.0.0.1:8080", request(proxy, false, "X-Forwarded-Proto", "https"),
			true, "http://127.0.0.1:8080"},
		{"trusted proxy says http", "", request(proxy, false, "X-Forwarded-Proto", "http"), false, "http://internal:8080"},
		{"trusted proxy appends to a client's claim", "", request(proxy, false, "X-Forwarded-Proto", "https, http"),
			false, "http://internal:8080"},
		{"trusted proxy adds a header line", "", request(proxy, false, "X-Forwarded-Proto", "http", "X-Forwarded-Proto", "HTTPS"),
			true, "https://internal:8080"},
		{"untrusted client says https", "", request(client, false, "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.example"),
			false, "http://internal:8080"},
		{"untrusted client over an http public URL", "http://127.0.0.1:8080",
			request(client, false, "X-Forwarded-Proto", "https"), false, "http://127.0.0.1:8080"},
		{"trusted proxy forwards a bad host", "", request(proxy, false, "X-Forwarded-Host", "evil.example/x@"), false,
			"http://internal:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSite(tt.public, []string{"10.0.0.0/8"})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Secure(tt.r); got != tt.wantSecure {
				t.Errorf("Secure = %v, want %v", got, tt.wantSecure)
			}
			if got := s.Origin(tt.r).String(); got != tt.wantOrigin {
				t.Errorf("Origin = %q, want %q", got, tt.wantOrigin)
			}
			rec := httptest.NewRecorder()
			s.SetCookie(rec, tt.r, &http.Cookie{Name: "c", Value: "v"})
			if got := rec.Result().Cookies()[0].Secure; got != tt.wantSecure {
				t.Errorf("cookie Secure = %v, want %v", got, tt.wantSecure)
			}
		})
	}
	var none *Site // no policy: only a direct TLS connection counts
	if none.Secure(request(proxy, false, "X-Forwarded-Proto", "https")) || !none.Secure(request(client, true)) {
		t.Error("nil Site: want Secure only over TLS")
	}
}

func TestOnSite(t *testing.T) {
	s, _ := NewSite("", []string{"10.0.0.0/8"})
	viaProxy := request("10.1.2.3:4000", false, "X-Forwarded-Proto", "https", "X-Forwarded-Host", "run.example")
	direct := request("203.0.113.9:5000", false, "X-Forwarded-Proto", "https", "X-Forwarded-Host", "run.example")
	tests := []struct {
		name string
		r    *http.Request
		in   string
		want string
		ok   bool
	}{
		{"path", direct, "/entries/x?token=t", "/entries/x?token=t", true},
		{"public URL through the trusted proxy", viaProxy, "https://run.example/entries/x?token=t", "/entries/x?token=t", true},
		{"host only", viaProxy, "https://RUN.example", "/", true},
		{"public URL from an untrusted client", direct, "https://run.example/entries/x", "", false},
		{"other host", viaProxy, "https://evil.example/entries/x", "", false},
		{"other scheme", viaProxy, "http://run.example/entries/x", "", false},
		{"user info", viaProxy, "https://run.example@evil.example/", "", false},
		{"backslash path", viaProxy, `https://run.example/\evil.example`, "", false},
		{"protocol relative", viaProxy, "//run.example/x", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.OnSite(tt.r, tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("OnSite(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}
