package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// prepared holds the statement of Get on SQLite, prepared on first use:
// SQLite compiles a query each time it is run otherwise, which for Get
// cost more than the rest of the call (parsing and planning 19 columns and
// the liveness conditions). Elsewhere a query is one round trip that the
// server plans (PostgreSQL: lib/pq's unnamed statement, which poolers
// such as PgBouncer accept; MySQL: interpolated), and stays so.
type prepared struct {
	// mu is read-held while the statement starts a query, write-held
	// while it is prepared or closed: Close waits for the queries already
	// started, whose rows keep the statement until they are read.
	mu  sync.RWMutex
	get *sql.Stmt
}

// queryGet runs the query of Get for id at now (t, in ms).
func (s *Store) queryGet(ctx context.Context, id string, t int64) *sql.Row {
	if s.d == SQLite {
		s.stmts.mu.RLock()
		st := s.stmts.get
		if st == nil {
			s.stmts.mu.RUnlock()
			s.prepareGet(ctx)
			s.stmts.mu.RLock()
			st = s.stmts.get
		}
		defer s.stmts.mu.RUnlock()
		if st != nil {
			return st.QueryRowContext(ctx, id, t, t)
		}
	}
	return s.db.QueryRowContext(ctx, s.q.get, id, t, t)
}

// prepareGet prepares Get's statement, unless it is already or the Store
// is closed. A statement that cannot be prepared yet (before Migrate,
// say) is left unprepared: the query then reports why.
func (s *Store) prepareGet(ctx context.Context) {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if s.stmts.get == nil && !s.gate.Closed() {
		s.stmts.get, _ = s.db.PrepareContext(ctx, s.q.get)
	}
}

// closeStmts closes the prepared statements, once the queries they
// started have their rows.
func (s *Store) closeStmts() {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if s.stmts.get != nil {
		s.stmts.get.Close()
		s.stmts.get = nil
	}
}
