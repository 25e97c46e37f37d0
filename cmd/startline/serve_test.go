package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestServeChecksPublicURL: production refuses to serve without a public URL
// (cookies' Secure attribute rests on it) or with one that is not an
// absolute http(s) URL, before opening anything.
func TestServeChecksPublicURL(t *testing.T) {
	tests := []struct {
		name, env, public, want string
	}{
		{"production without a public URL", "production", "", "STARTLINE_PUBLIC_URL is required"},
		{"relative public URL", "production", "/startline", "STARTLINE_PUBLIC_URL"},
		{"public URL of another scheme", "dev", "ftp://run.example", "STARTLINE_PUBLIC_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("STARTLINE_ENV", tt.env)
			t.Setenv("STARTLINE_SECRET_KEY", "serve-test-secret-key-serve-test-secret-key")
			t.Setenv("STARTLINE_PUBLIC_URL", tt.public)
			t.Setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
			var out bytes.Buffer
			err := run(context.Background(), []string{"serve"}, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("serve: %v, want an error naming %q", err, tt.want)
			}
		})
	}
}
