package sqlstore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

// TestBinlogError: with binlog_format=STATEMENT, MySQL cannot log a READ
// COMMITTED transaction's writes (error 1665); the error says what to
// change, and stays a driver error (neither sentinel of package store).
func TestBinlogError(t *testing.T) {
	raw := &mysql.MySQLError{Number: 1665, Message: "Cannot execute statement: impossible to write to binary log since BINLOG_FORMAT = STATEMENT and at least one table uses a storage engine limited to row-based logging."}
	s := &Store{gate: storekit.Gate{Store: "sqlstore"}}
	err := s.wrap(context.Background(), "create", raw)
	var my *mysql.MySQLError
	if !errors.As(err, &my) || my.Number != 1665 {
		t.Errorf("wrap lost the driver error: %v", err)
	}
	if !strings.Contains(err.Error(), "binlog_format to ROW or MIXED") {
		t.Errorf("error 1665 does not say what to change: %v", err)
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || retryable(err) {
		t.Errorf("error 1665 reads as a sentinel or a transient conflict: %v", err)
	}
	other := s.wrap(context.Background(), "create", &mysql.MySQLError{Number: 1062, Message: "Duplicate entry"})
	if strings.Contains(other.Error(), "binlog") {
		t.Errorf("another error mentions binlog_format: %v", other)
	}
}
