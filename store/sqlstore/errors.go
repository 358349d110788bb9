package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// Errors of this package, beside store.ErrNotFound and store.ErrConflict.
var (
	// ErrUnsupportedDriver: New was given a *sqlx.DB whose driver name is
	// none of postgres, pgx, mysql, sqlite or sqlite3.
	ErrUnsupportedDriver = errors.New("sqlstore: unsupported database driver")
	// ErrInvalid: a Session or Rotation holds a value beyond the limits of
	// package store (a subject that is not valid UTF-8, holds NUL or is
	// longer than store.MaxSubjectLen; a device field longer than
	// store.MaxDeviceLen; a hash longer than store.HashLen; a time
	// beyond the range of int64 Unix milliseconds, about 292 million
	// years either side of 1970), or an option is out of range. Nothing
	// was written.
	ErrInvalid = errors.New("sqlstore: invalid value")
	// ErrClosed is returned by every method of a Store after Close: an
	// outage, neither store.ErrNotFound nor store.ErrConflict.
	ErrClosed = errors.New("sqlstore: store closed")
)

// errStatementBinlog explains MySQL's error 1665
// (ER_BINLOG_STMT_MODE_AND_ROW_ENGINE).
var errStatementBinlog = errors.New("MySQL/MariaDB with binlog_format=STATEMENT cannot log the writes of a READ COMMITTED transaction: set binlog_format to ROW or MIXED")

// wrap turns a driver error from operation op into this package's error.
// When ctx is done the error wraps ctx.Err() as well, so errors.Is(err,
// context.Canceled) holds whatever the driver made of the cancellation.
// Driver errors never carry the values bound to a query's parameters, so
// no hash or token can leak through them.
func wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) && my.Number == 1665 {
		err = fmt.Errorf("%w: %w", errStatementBinlog, err)
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, cerr, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// ctxErr returns a wrapped ctx.Err() when ctx is done: every method checks
// it first, so a done context never reaches the database.
func ctxErr(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	return nil
}

// retryable reports whether err is a transient conflict after which a
// transaction may simply be run again: a deadlock or serialization
// failure (PostgreSQL 40001, 40P01; MySQL 1213) or a busy or locked SQLite
// database.
func retryable(err error) bool {
	var state interface{ SQLState() string } // lib/pq, pgx
	if errors.As(err, &state) {
		switch state.SQLState() {
		case "40001", "40P01":
			return true
		}
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) && my.Number == 1213 { // ER_LOCK_DEADLOCK
		return true
	}
	var code interface{ Code() int } // modernc.org/sqlite
	if errors.As(err, &code) {
		switch code.Code() & 0xff {
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
			return true
		}
	}
	// github.com/mattn/go-sqlite3 reports codes in a field, not a method.
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "database table is locked")
}

// redacted hides secrets (a password, a whole URL) in an error's text while
// keeping the error chain for errors.Is.
type redacted struct {
	err     error
	secrets []string
}

func (e *redacted) Error() string {
	s := e.err.Error()
	for _, x := range e.secrets {
		if x != "" {
			s = strings.ReplaceAll(s, x, "xxxxx")
		}
	}
	return s
}

func (e *redacted) Unwrap() error { return e.err }

func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return &redacted{err: err, secrets: secrets}
}
