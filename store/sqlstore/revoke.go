package sqlstore

import (
	"context"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

// Revoke implements store.Store with one DELETE scoped by id and subject.
func (s *Store) Revoke(ctx context.Context, subject, id string) error {
	const op = "revoke"
	if err := s.gate.Enter(ctx, op); err != nil || !store.ValidID(id) || !storekit.ValidSubject(subject) {
		return err
	}
	_, err := s.exec(ctx, s.q.revoke, id, subject)
	return s.wrap(ctx, op, err)
}

// RevokeSubject implements store.Store with one DELETE. The count includes
// dead sessions the sweeper had not yet removed.
func (s *Store) RevokeSubject(ctx context.Context, subject, keep string) (int, error) {
	const op = "revoke subject"
	if err := s.gate.Enter(ctx, op); err != nil || !storekit.ValidSubject(subject) {
		return 0, err
	}
	res, err := s.exec(ctx, s.q.revokeSubject, subject, keep)
	if err != nil {
		return 0, s.wrap(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap(ctx, op, err)
	}
	return int(n), nil
}
