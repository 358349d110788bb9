package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// prepared holds the statement of Get on SQLite, prepared on first use:
// SQLite compiles a query each time it is run otherwise, which for Get
// cost more than the rest of the call (parsing and planning 19 columns and
// the liveness conditions). Elsewhere a query is one round trip that the
// server plans (PostgreSQL: lib/pq's unnamed statement, which poolers
// such as PgBouncer accept; MySQL: interpolated), and stays so.
type prepared struct {
	mu  sync.Mutex // held while one is prepared or closed
	get atomic.Pointer[sql.Stmt]
}

// queryGet runs the query of Get for id at now (t, in ms).
func (s *Store) queryGet(ctx context.Context, id string, t int64) *sql.Row {
	if st := s.getStmt(ctx); st != nil {
		return st.QueryRowContext(ctx, id, t, t)
	}
	return s.db.QueryRowContext(ctx, s.q.get, id, t, t)
}

// getStmt returns Get's prepared statement on SQLite, nil elsewhere or if
// it cannot be prepared yet (before Migrate, say: the query then reports
// why).
func (s *Store) getStmt(ctx context.Context) *sql.Stmt {
	if s.d != SQLite {
		return nil
	}
	if st := s.stmts.get.Load(); st != nil {
		return st
	}
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if st := s.stmts.get.Load(); st != nil {
		return st
	}
	st, err := s.db.PrepareContext(ctx, s.q.get)
	if err != nil {
		return nil
	}
	s.stmts.get.Store(st)
	return st
}

// closeStmts closes the prepared statements.
func (s *Store) closeStmts() {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if st := s.stmts.get.Swap(nil); st != nil {
		st.Close()
	}
}
