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
		cmd                     string // default serve
	}{
		{"production without a public URL", "production", "", "STARTLINE_PUBLIC_URL is required", ""},
		{"production worker without a public URL (its mails need links)", "production", "", "STARTLINE_PUBLIC_URL is required", "worker"},
		{"relative public URL", "production", "/startline", "STARTLINE_PUBLIC_URL", ""},
		{"public URL of another scheme", "dev", "ftp://run.example", "STARTLINE_PUBLIC_URL", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("STARTLINE_ENV", tt.env)
			t.Setenv("STARTLINE_SECRET_KEY", "serve-test-secret-key-serve-test-secret-key")
			t.Setenv("STARTLINE_PUBLIC_URL", tt.public)
			t.Setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
			var out bytes.Buffer
			cmd := tt.cmd
			if cmd == "" {
				cmd = "serve"
			}
			err := run(context.Background(), []string{cmd}, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("serve: %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

// TestMailURL: mails carry absolute links: the public URL, or in dev the
// local server on HTTP_ADDR's port.
func TestMailURL(t *testing.T) {
	tests := []struct {
		name string
		c    config
		want string
	}{
		{"public URL", config{Env: "production", PublicURL: "https://run.example"}, "https://run.example"},
		{"dev default", config{Env: "dev", HTTPAddr: ":8080"}, "http://127.0.0.1:8080"},
		{"dev other port", config{Env: "dev", HTTPAddr: "127.0.0.1:9090"}, "http://127.0.0.1:9090"},
		{"dev public URL wins", config{Env: "dev", HTTPAddr: ":8080", PublicURL: "http://localhost:3000"}, "http://localhost:3000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.mailURL(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
