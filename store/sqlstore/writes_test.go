package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync/atomic"
)

// countWrites opens dsn with the database/sql driver named driverName,
// wrapped so that it counts the writes the database reports: each
// statement whose result says it changed rows (RowsAffected > 0), inside
// a transaction or not, prepared or not. The store's statements reach the
// real driver unchanged; the wrapper only reads their results.
func countWrites(driverName, dsn string) (*sql.DB, *atomic.Int64, error) {
	c, err := connector(driverName, dsn)
	if err != nil {
		return nil, nil, err
	}
	n := new(atomic.Int64)
	return sql.OpenDB(&countingConnector{Connector: c, n: n}), n, nil
}

// connector returns the Connector of dsn with the driver named driverName.
func connector(driverName, dsn string) (driver.Connector, error) {
	probe, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	probe.Close()
	if dc, ok := drv.(driver.DriverContext); ok {
		return dc.OpenConnector(dsn)
	}
	return dsnConnector{drv, dsn}, nil
}

// dsnConnector is a driver without DriverContext as a Connector.
type dsnConnector struct {
	drv driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

// countingConnector hands out counting connections. When stmts is set,
// it also counts the statements they run: see countingConn.
type countingConnector struct {
	driver.Connector
	n, stmts *atomic.Int64
}

func (c *countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{conn, c.n, c.stmts}, nil
}

// countWrite adds a statement's write, if it made one.
func countWrite(n *atomic.Int64, res driver.Result, err error) {
	if err != nil || res == nil {
		return
	}
	if rows, rerr := res.RowsAffected(); rerr == nil && rows > 0 {
		n.Add(1)
	}
}

// countingConn passes every call on to the real connection, offering
// exactly the optional interfaces database/sql looks for: where the
// connection lacks one, it answers as database/sql does without it.
//
// Its statements (stmts, when set) are the calls that run SQL on the
// server: an Exec or Query of the connection (not one the driver declines
// with driver.ErrSkip, which database/sql then prepares), an Exec or Query
// of a prepared statement, a Begin, a Commit and a Rollback. Preparing and
// closing a statement are not counted: they are the driver's way of
// running one.
type countingConn struct {
	driver.Conn
	n, stmts *atomic.Int64
}

// ran counts one statement, unless the driver declined it.
func ran(stmts *atomic.Int64, err error) {
	if stmts != nil && !errors.Is(err, driver.ErrSkip) {
		stmts.Add(1)
	}
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip // database/sql prepares, then executes
	}
	res, err := e.ExecContext(ctx, query, args)
	ran(c.stmts, err)
	countWrite(c.n, res, err)
	return res, err
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	ran(c.stmts, err)
	return rows, err
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var st driver.Stmt
	var err error
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countingStmt{st, c.n, c.stmts}, nil
}

func (c *countingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	b, ok := c.Conn.(driver.ConnBeginTx)
	if !ok {
		return nil, errNoContext
	}
	tx, err := b.BeginTx(ctx, opts)
	ran(c.stmts, err)
	if err != nil {
		return nil, err
	}
	return &countingTx{tx, c.stmts}, nil
}

// countingTx counts its Commit or Rollback as a statement.
type countingTx struct {
	driver.Tx
	stmts *atomic.Int64
}

func (t *countingTx) Commit() error {
	err := t.Tx.Commit()
	ran(t.stmts, err)
	return err
}

func (t *countingTx) Rollback() error {
	err := t.Tx.Rollback()
	ran(t.stmts, err)
	return err
}

func (c *countingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip // database/sql's own conversion
}

// countingStmt counts the writes of a prepared statement, and its runs
// as countingConn's statements.
type countingStmt struct {
	driver.Stmt
	n, stmts *atomic.Int64
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	e, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		return nil, errNoContext
	}
	res, err := e.ExecContext(ctx, args)
	ran(s.stmts, err)
	countWrite(s.n, res, err)
	return res, err
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, errNoContext
	}
	rows, err := q.QueryContext(ctx, args)
	ran(s.stmts, err)
	return rows, err
}

func (s *countingStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// errNoContext: every driver under test implements the context methods
// of a connection and a statement; the wrapper does not fall back to the
// deprecated ones.
var errNoContext = errors.New("counting driver: the driver lacks a context method")
