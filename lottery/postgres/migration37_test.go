package postgres_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/startline/startline/lottery/postgres/pgtest"
	"github.com/startline/startline/migrations"
)

// TestMigration00037DownUp: 00037 (transfers in review, deferral fees)
// rolls back and applies again on a migrated database.
func TestMigration00037DownUp(t *testing.T) {
	_, dsn := pgtest.NewStore(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if v, err := p.GetDBVersion(ctx); err != nil || v < 37 {
		t.Fatalf("version %d %v", v, err)
	}
	// 00037 alone, whatever later migrations are applied.
	if _, err := p.ApplyVersion(ctx, 37, false); err != nil {
		t.Fatalf("down 37: %v", err)
	}
	if _, err := p.ApplyVersion(ctx, 37, true); err != nil {
		t.Fatalf("up 37 again: %v", err)
	}
	var states string
	if err := db.QueryRowContext(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'transfers_state_check'`).Scan(&states); err != nil {
		t.Fatal(err)
	}
	t.Log(states)
}
