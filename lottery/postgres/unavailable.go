package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	gormpg "gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/startline/startline/lottery"
)

// IsConnectionFailure reports whether err means PostgreSQL could not be
// reached or dropped the session, rather than refusing a statement: the
// rule that makes a request answer 503 unavailable (retry later) instead of
// 500 internal. A client that gave up (context.Canceled) is not an outage.
func IsConnectionFailure(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, lottery.ErrUnavailable) {
		return true
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return unavailableSQLState(pg.Code)
	}
	var ce *pgconn.ConnectError
	var op *net.OpError
	switch {
	case errors.As(err, &ce), errors.As(err, &op):
		return true
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, net.ErrClosed):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return true
	case errors.Is(err, context.DeadlineExceeded):
		// Waiting for a pooled connection or a connect that never
		// answers: the database is not serving us in time.
		return true
	}
	return false
}

// unavailableSQLState: class 08 (connection exception), the server shutting
// down or starting (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
// cannot_connect_now) and 53300 too_many_connections.
func unavailableSQLState(code string) bool {
	switch code {
	case "57P01", "57P02", "57P03", "53300":
		return true
	}
	return strings.HasPrefix(code, "08")
}

// unavailable marks a connection failure as lottery.ErrUnavailable, keeping
// the driver error in the chain (for the log and errors.As); other errors
// pass through unchanged.
func unavailable(err error) error {
	if err == nil || errors.Is(err, lottery.ErrUnavailable) || !IsConnectionFailure(err) {
		return err
	}
	return fmt.Errorf("%w: %w", lottery.ErrUnavailable, err)
}

// dialector is GORM's PostgreSQL dialector whose error translation also
// marks connection failures, so every GORM statement reports an outage as
// lottery.ErrUnavailable (with TranslateError set).
type dialector struct{ *gormpg.Dialector }

var _ gorm.ErrorTranslator = dialector{}

func (d dialector) Translate(err error) error { return unavailable(d.Dialector.Translate(err)) }
