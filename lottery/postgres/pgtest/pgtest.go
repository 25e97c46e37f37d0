// Package pgtest gives each test its own freshly migrated PostgreSQL
// database, dropped when the test ends. Tests run against the real server
// named by TEST_DATABASE_URL or DATABASE_URL (default 127.0.0.1:5432).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/startline/startline/lottery/postgres"
)

// BaseURL is the server the test databases are created on.
func BaseURL() string {
	for _, k := range []string{"TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "postgres://postgres@127.0.0.1:5432/startline?sslmode=disable"
}

// NewStore creates a migrated database named startline_test_<random> and
// returns a store on it and its DSN; both are dropped in t.Cleanup.
func NewStore(t testing.TB) (*postgres.Store, string) {
	t.Helper()
	u, err := url.Parse(BaseURL())
	if err != nil {
		t.Fatalf("pgtest: database url: %v", err)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	u.Path = "/startline_test_" + hex.EncodeToString(b)
	dsn := u.String()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	store, err := postgres.Open(ctx, dsn, postgres.Options{MaxOpenConns: 30})
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(func() {
		store.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := postgres.DropDatabase(ctx, dsn); err != nil {
			t.Errorf("pgtest: drop: %v", err)
		}
	})
	return store, dsn
}
