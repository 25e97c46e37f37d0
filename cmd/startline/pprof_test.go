package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWithPprof(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	tests := []struct {
		name, env, path, remote string
		want                    int
	}{
		{"off: pprof path falls through to the metrics handler", "", "/debug/pprof/", "127.0.0.1:5000", http.StatusTeapot},
		{"on, loopback", "1", "/debug/pprof/", "127.0.0.1:5000", http.StatusOK},
		{"on, IPv6 loopback", "1", "/debug/pprof/cmdline", "[::1]:5000", http.StatusOK},
		{"on, another address", "1", "/debug/pprof/", "10.0.0.7:5000", http.StatusNotFound},
		{"on, metrics still served", "1", "/metrics", "10.0.0.7:5000", http.StatusTeapot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("STARTLINE_PPROF", tt.env)
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			req.RemoteAddr = tt.remote
			rec := httptest.NewRecorder()
			withPprof(next).ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("%s from %s: %d, want %d", tt.path, tt.remote, rec.Code, tt.want)
			}
		})
	}
}
