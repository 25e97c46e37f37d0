package main

import (
	"context"
	"errors"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/postgres/pgtest"
)

// TestCheckSecretKey: a node whose key cannot open the database's sealed
// staff secrets is told so at start; a database without staff passes.
func TestCheckSecretKey(t *testing.T) {
	const key = "keycheck-test-secret-key-keycheck-test-secret"
	store, dsn := pgtest.NewStore(t)
	ctx := context.Background()
	if err := checkSecretKey(ctx, store, []byte("another-secret-key-another-secret-key-another")); err != nil {
		t.Fatalf("no staff yet: %v", err)
	}
	keys, err := lottery.NewKeys([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := keys.Seal([]byte("JBSWY3DPEHPK3PXP"), "totp:organizer@keycheck.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.DB().Exec(`INSERT INTO staff (email, role, password_hash, totp_secret_sealed, created_at, org_id)
		VALUES ('organizer@keycheck.test', 'organizer', 'x', ?, now(), (SELECT id FROM organizations WHERE slug = 'default'))`, sealed).Error; err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, key string
		want      error
	}{
		{"the key that sealed them", key, nil},
		{"another node's key", "another-secret-key-another-secret-key-another", errKeyMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkSecretKey(ctx, store, []byte(tt.key)); !errors.Is(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}

	// A production node with another key does not start serving.
	t.Setenv("STARTLINE_ENV", "production")
	t.Setenv("STARTLINE_PUBLIC_URL", "https://run.example")
	t.Setenv("STARTLINE_SECRET_KEY", "another-secret-key-another-secret-key-another")
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("HTTP_ADDR", "127.0.0.1:"+strconv.Itoa(freePort(t)))
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := run(rctx, []string{"serve"}, io.Discard); !errors.Is(err, errKeyMismatch) {
		t.Errorf("serve with another node's key: %v, want %v", err, errKeyMismatch)
	}
}
