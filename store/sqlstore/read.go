package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

// Get implements store.Store with one primary-key query.
func (s *Store) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	const op = "get"
	if err := s.gate.EnterID(ctx, op, id); err != nil {
		return nil, err
	}
	var r row
	t := ms(now)
	if err := s.queryGet(ctx, id, t).Scan(r.fields()...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, s.wrap(ctx, op, err)
	}
	x, err := r.session()
	if err != nil {
		return nil, err
	}
	return &x, nil
}

// List implements store.Store. It returns a non-nil empty slice when the
// subject has no live session.
func (s *Store) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	const op = "list"
	if err := s.gate.Enter(ctx, op); err != nil {
		return nil, err
	}
	out := []store.Session{}
	if !storekit.ValidSubject(subject) {
		return out, nil
	}
	t := ms(now)
	rows, err := s.db.QueryxContext(ctx, s.q.list, subject, t, t)
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r row
		if err := rows.Scan(r.fields()...); err != nil {
			return nil, s.wrap(ctx, op, err)
		}
		x, err := r.session()
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	return out, nil
}
