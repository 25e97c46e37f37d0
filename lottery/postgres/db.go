// Package postgres implements lottery's store interfaces on PostgreSQL with
// GORM. Row structs and converters live here so domain types stay free of
// ORM tags; PostgreSQL errors are translated to lottery's sentinels.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	gormpg "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/offers"
	"github.com/startline/startline/migrations"
)

// Store is the PostgreSQL implementation of lottery.Store and of every
// concept package's store (registration.Store, draws.Store, ...).
type Store struct {
	db *gorm.DB
	// retryBackoff is the step of Transact's backoff: attempt n waits n
	// steps (default 5ms).
	retryBackoff time.Duration
	// pseudonymKey keys the pseudonyms retention keeps of earned tickets
	// (series_earned); Options.PseudonymKey, else a fixed development key.
	pseudonymKey []byte
	// applies groups concurrent applications into one statement (applybatch.go).
	applies applyBatcher
}

var _ lottery.Store = (*Store)(nil)
var _ lottery.MailStore = (*Store)(nil)
var _ offers.Store = (*Store)(nil)

// Options tunes the connection pool.
type Options struct {
	MaxOpenConns int
	Log          *slog.Logger
	// PseudonymKey keys the pseudonyms of identity keys that retention keeps
	// so earned tickets outlive it (series_earned). The app derives it from
	// STARTLINE_SECRET_KEY; empty, a fixed development key is used.
	PseudonymKey []byte
}

// Open connects to the database at dsn.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	if opt.MaxOpenConns == 0 {
		opt.MaxOpenConns = 40
	}
	db, err := gorm.Open(dialector{gormpg.Open(dsn).(*gormpg.Dialector)}, &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true, // our writes choose their own transactions
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// GORM's row callback (Raw().Scan, Row, Rows) sets its error directly,
	// past the dialector's Translate: mark an outage there too, so a raw read
	// outside Transact answers 503 like every other statement.
	if err := db.Callback().Row().After("gorm:row").Register("startline:unavailable", func(tx *gorm.DB) {
		tx.Error = unavailable(tx.Error)
	}); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB.SetMaxOpenConns(opt.MaxOpenConns)
	sqlDB.SetMaxIdleConns(opt.MaxOpenConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, pseudonymKey: opt.PseudonymKey}
	if len(s.pseudonymKey) == 0 {
		s.pseudonymKey = []byte("startline-development-pseudonym-key")
	}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// DB exposes the GORM handle to sibling adapters and tests.
func (s *Store) DB() *gorm.DB { return s.db }

// Close releases the pool.
func (s *Store) Close() error {
	s.applies.closeConns()
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", unavailable(err))
	}
	return nil
}

// Transact runs fn in a transaction, retrying serialization failures and
// deadlocks a bounded number of times. A connection lost inside fn (a raw
// row scan GORM does not translate) is reported as lottery.ErrUnavailable.
// The wait between attempts ends when ctx does: a caller that gave up gets
// ctx's error at once instead of the rest of the backoff.
func (s *Store) Transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	step := s.retryBackoff
	if step == 0 {
		step = 5 * time.Millisecond
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = s.db.WithContext(ctx).Transaction(fn)
		if !retryable(err) {
			return unavailable(err)
		}
		if attempt == 4 {
			break // no wait after the last attempt
		}
		wait := time.NewTimer(time.Duration(attempt+1) * step)
		select {
		case <-ctx.Done():
			wait.Stop()
			return unavailable(ctx.Err())
		case <-wait.C:
		}
	}
	return err
}

func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// isUnique reports a unique violation on the named constraint (any when empty).
func isUnique(err error, constraint string) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" {
		return constraint == "" || pg.ConstraintName == constraint
	}
	return errors.Is(err, gorm.ErrDuplicatedKey) && constraint == ""
}

// notFound translates a missing row to lottery.ErrNotFound and a lost
// connection (from a row scan GORM does not translate) to ErrUnavailable.
func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return lottery.ErrNotFound
	}
	return unavailable(err)
}

// Migrate creates the database named in dsn if it is missing and applies
// every pending migration. It returns the versions it applied.
func Migrate(ctx context.Context, dsn string) ([]int64, error) {
	if err := EnsureDatabase(ctx, dsn); err != nil {
		return nil, err
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var applied []int64
	for _, r := range res {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// EnsureDatabase creates the dsn's database when it does not exist, by
// connecting to the server's postgres database.
func EnsureDatabase(ctx context.Context, dsn string) error {
	name, admin, err := adminDSN(dsn)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to create database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("check database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pg *pgconn.PgError
	if err != nil && !(errors.As(err, &pg) && pg.Code == "42P04") { // created concurrently
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// DropDatabase removes the dsn's database, ending its sessions (tests).
func DropDatabase(ctx context.Context, dsn string) error {
	name, admin, err := adminDSN(dsn)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// adminDSN returns the database name of dsn and a DSN for the server's
// postgres database.
func adminDSN(dsn string) (string, string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", fmt.Errorf("DATABASE_URL: want postgres://user@host:port/name, got an unparsable URL")
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return "", "", fmt.Errorf("DATABASE_URL: no database name")
	}
	u.Path = "/postgres"
	return name, u.String(), nil
}

// register the pgx database/sql driver for goose.
var _ = stdlib.GetDefaultDriver
