package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

// Create implements store.Store. IDs come from store.NewID. With max > 0
// it runs one transaction: lock the subject, insert the session, delete
// the subject's other sessions that are dead at s.CreatedAt, then its
// live others beyond the newest max-1 (List order). The lock is a row of
// <prefix>subject_locks taken by an upsert on PostgreSQL and MySQL, and
// SQLite's database write lock (taken by the insert) on SQLite; the
// transaction is retried on deadlocks and busy errors. With max <= 0 it is
// a single INSERT. A value beyond the limits of package store, or a time
// beyond int64 Unix milliseconds, is ErrInvalid, before any query.
func (s *Store) Create(ctx context.Context, sess *store.Session, max int) error {
	const op = "create"
	if err := s.gate.EnterSession(ctx, op, sess); err != nil {
		return err
	}
	var ts [7]int64
	for i, t := range [...]struct {
		name string
		at   time.Time
	}{
		{"CreatedAt", sess.CreatedAt}, {"LastUsedAt", sess.LastUsedAt}, {"RotatedAt", sess.RotatedAt},
		{"FreshUntil", sess.FreshUntil}, {"AccessExpiresAt", sess.AccessExpiresAt},
		{"IdleUntil", sess.IdleUntil}, {"ExpiresAt", sess.ExpiresAt},
	} {
		var err error
		if ts[i], err = storedMS(t.name, t.at); err != nil {
			return err
		}
	}
	spent, err := encodeSpent(sess.Spent)
	if err != nil {
		return err
	}
	claims, err := encodeClaims(sess.Claims)
	if err != nil {
		return err
	}
	id := store.NewID()
	actor, actorSession := actorArgs(sess.Actor)
	args := []any{
		id, sess.Subject,
		s.device(sess.Device.Label), s.device(sess.Device.UserAgent), s.device(sess.Device.IP),
		orNil(sess.SecretHash), notNil(sess.RefreshHash), spent, claims,
		ts[0], ts[1], ts[2], ts[3], ts[4], ts[5], ts[6],
		int64(sess.IdleTimeout), actor, actorSession,
	}
	if max <= 0 {
		if _, err := s.exec(ctx, s.q.insert, args...); err != nil {
			return s.wrap(ctx, op, err)
		}
	} else {
		at := ts[0]
		err := s.retry(ctx, func() error { return s.createCapped(ctx, id, sess.Subject, at, args, max) })
		if err != nil {
			return s.wrap(ctx, op, err)
		}
	}
	sess.ID = id
	return nil
}

// createCapped is Create's transaction under a cap.
func (s *Store) createCapped(ctx context.Context, id, subject string, at int64, args []any, max int) error {
	var opts *sql.TxOptions
	if s.d != SQLite {
		// Each statement sees what the previous holder of the subject
		// lock committed, whatever the server's default isolation.
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	tx, err := s.db.BeginTxx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, a no-op
	if s.q.lock != "" {
		if _, err := tx.ExecContext(ctx, s.q.lock, subject); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, s.q.insert, args...); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.q.deleteDead, subject, id, at, at); err != nil {
		return err
	}
	var others []string
	if err := tx.SelectContext(ctx, &others, s.q.others, subject, id, at, at); err != nil {
		return err
	}
	err = inBatches(others[min(len(others), max-1):], func(batch []any) error {
		_, err := tx.ExecContext(ctx, s.d.inList(s.q.deleteIDs, len(batch)), append([]any{subject}, batch...)...)
		return err
	})
	if err != nil {
		return err
	}
	return tx.Commit()
}

// retry runs f until it succeeds, fails with an error that is not a
// transient conflict, the context ends, or s.retries attempts are spent.
func (s *Store) retry(ctx context.Context, f func() error) error {
	// Jittered, growing pauses, at most 64ms.
	b := storekit.Backoff{First: time.Millisecond, Max: 64 * time.Millisecond}
	var err error
	for range s.retries {
		if err = f(); err == nil || !retryable(err) || b.Wait(ctx) != nil {
			return err
		}
	}
	return err
}

// exec runs one autocommitted write, rerunning it after a transient
// conflict: a serialization failure (a server whose default isolation is
// REPEATABLE READ or SERIALIZABLE fails the loser of a concurrent UPDATE
// instead of re-checking its condition) or a busy SQLite database. The
// failed attempt wrote nothing, so rerunning is safe; a Rotate rerun after
// losing finds the hash changed and reports store.ErrConflict.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := s.retry(ctx, func() (err error) {
		res, err = s.db.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}
