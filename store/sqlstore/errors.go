package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Errors of this package, beside store.ErrNotFound and store.ErrConflict.
var (
	// ErrInvalid: a Session or Rotation holds a value beyond the limits of
	// package store (a subject that is not valid UTF-8, holds NUL or is
	// longer than store.MaxSubjectLen, the Actor's included; a device
	// field longer than store.MaxDeviceLen; a hash longer than
	// store.HashLen; a time beyond the range of int64 Unix milliseconds,
	// about 292 million years either side of 1970), a Throttle key is not
	// 1 to store.MaxStrikeKeyLen bytes of printable ASCII or its ttl is
	// not positive, or an option, a dialect or a URL is out of range.
	// Nothing was written.
	ErrInvalid = errors.New("sqlstore: invalid value")
	// ErrClosed is returned by every method of a Store after Close: an
	// outage, neither store.ErrNotFound nor store.ErrConflict.
	ErrClosed = errors.New("sqlstore: store closed")
)

// errStatementBinlog explains MySQL's error 1665
// (ER_BINLOG_STMT_MODE_AND_ROW_ENGINE).
var errStatementBinlog = errors.New("MySQL/MariaDB with binlog_format=STATEMENT cannot log the writes of a READ COMMITTED transaction: set binlog_format to ROW or MIXED")

// MySQL error numbers the store tells apart.
const (
	mysqlDeadlock        = 1213 // ER_LOCK_DEADLOCK
	mysqlStatementBinlog = 1665 // ER_BINLOG_STMT_MODE_AND_ROW_ENGINE
)

// wrap turns a driver error from operation op into this package's error
// (see storekit.Gate.Wrap), explaining MySQL's error 1665. Driver errors
// never carry the values bound to a query's parameters, so no hash or
// token can leak through them.
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	if n, ok := mysqlNumber(err); ok && n == mysqlStatementBinlog {
		err = fmt.Errorf("%w: %w", errStatementBinlog, err)
	}
	return s.gate.Wrap(ctx, op, err)
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
	if n, ok := mysqlNumber(err); ok && n == mysqlDeadlock {
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

// mysqlNumber returns the server error number of a go-sql-driver/mysql
// error in err's chain. This package links no driver, so it knows the
// driver's *mysql.MySQLError by its package path and name, and reads its
// exported Number field, as the driver documents it.
func mysqlNumber(err error) (uint16, bool) {
	if err == nil {
		return 0, false
	}
	if v := reflect.ValueOf(err); v.Kind() == reflect.Pointer && !v.IsNil() {
		t := v.Type().Elem()
		if t.Name() == "MySQLError" && t.PkgPath() == "github.com/go-sql-driver/mysql" {
			if f := v.Elem().FieldByName("Number"); f.Kind() == reflect.Uint16 {
				return uint16(f.Uint()), true
			}
		}
	}
	switch e := err.(type) {
	case interface{ Unwrap() error }:
		return mysqlNumber(e.Unwrap())
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			if n, ok := mysqlNumber(x); ok {
				return n, true
			}
		}
	}
	return 0, false
}
