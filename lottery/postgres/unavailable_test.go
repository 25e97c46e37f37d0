package postgres_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/postgres"
)

// TestIsConnectionFailure is the rule that turns a driver error into 503
// unavailable; it needs no database (the refused connect goes to a closed
// loopback port).
func TestIsConnectionFailure(t *testing.T) {
	_, refused := pgconn.Connect(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
	if refused == nil {
		t.Fatal("connect to a closed port succeeded")
	}
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connect refused (pgconn.ConnectError)", refused, true},
		{"wrapped connect error", fmt.Errorf("apply spring: %w", refused), true},
		{"driver: bad connection", driver.ErrBadConn, true},
		{"net.OpError", dial, true},
		{"pgx conn closed", fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{"server closed the session", fmt.Errorf("failed to receive message: %w", io.EOF), true},
		{"unexpected EOF mid-query", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), true},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"pool acquire deadline", fmt.Errorf("list events: %w", context.DeadlineExceeded), true},
		{"client gone", context.Canceled, false},
		{"SQLSTATE 08006 connection_failure", &pgconn.PgError{Code: "08006"}, true},
		{"SQLSTATE 08001 cannot establish", &pgconn.PgError{Code: "08001"}, true},
		{"SQLSTATE 57P01 admin_shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"SQLSTATE 57P02 crash_shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"SQLSTATE 57P03 cannot_connect_now", &pgconn.PgError{Code: "57P03"}, true},
		{"SQLSTATE 53300 too_many_connections", &pgconn.PgError{Code: "53300"}, true},
		{"SQLSTATE 23505 unique_violation", &pgconn.PgError{Code: "23505"}, false},
		{"SQLSTATE 40001 serialization", &pgconn.PgError{Code: "40001"}, false},
		{"SQLSTATE 57014 query_canceled", &pgconn.PgError{Code: "57014"}, false},
		{"record not found", gorm.ErrRecordNotFound, false},
		{"domain not found", lottery.ErrNotFound, false},
		{"already unavailable", lottery.ErrUnavailable, true},
		{"plain error", errors.New("draw 3: frozen root does not match"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := postgres.IsConnectionFailure(tc.err); got != tc.want {
				t.Errorf("IsConnectionFailure(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
