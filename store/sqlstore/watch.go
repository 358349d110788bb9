package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

var _ store.Watcher = (*Store)(nil)

// Changes are reported, on PostgreSQL, by a trigger on the sessions table
// (migration 0003): each session deleted, or whose hashes or freshness
// change, is a notification 's:<id>' (storekit.ChangeText) on the channel
// <prefix>changes, sent as its transaction commits. Notifications reach a
// listener in the order their transactions committed.

// errNoWatch is the error of Watch and Beat on a store that cannot watch.
var errNoWatch = errors.New("reporting changes needs PostgreSQL, opened by URL with sqlstore/postgres linked")

// Watches reports whether the store can report its changes: PostgreSQL
// opened by URL (Open), where sqlstore/postgres listens on a connection of
// its own. MySQL, SQLite and pools passed to New cannot.
func (s *Store) Watches() bool { return s.listen != nil }

// channel is the notification channel of the store's changes.
func (s *Store) channel() string { return s.prefix + "changes" }

// Watch implements store.Watcher with LISTEN on a connection of its own,
// which it closes when it returns. It returns with an error when that
// connection fails or stops answering pings, or on a notification that is
// not a report.
func (s *Store) Watch(ctx context.Context, fn func(store.Change)) error {
	const op = "watch"
	if err := s.gate.Enter(ctx, op); err != nil {
		return err
	}
	if s.listen == nil {
		return s.gate.Wrap(ctx, op, errNoWatch)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	err := s.listen(ctx, s.channel(), func() { fn(store.Change{Kind: store.ChangeReady}) }, func(payload string) {
		c, ok := storekit.ParseChange(payload)
		if !ok {
			cancel(errors.New("a notification on the change channel is not a report"))
			return
		}
		fn(c)
	})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	return s.gate.Wrap(ctx, op, err)
}

// Beat implements store.Watcher with pg_notify on the pool: one round
// trip, delivered after the notifications of every transaction that
// committed before it.
func (s *Store) Beat(ctx context.Context, id string) error {
	const op = "beat"
	if err := s.gate.EnterBeat(ctx, op, id); err != nil {
		return err
	}
	if s.listen == nil {
		return s.gate.Wrap(ctx, op, errNoWatch)
	}
	_, err := s.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, s.channel(), storekit.BeatChangePrefix+id)
	if err != nil {
		return s.gate.Wrap(ctx, op, fmt.Errorf("pg_notify: %w", err))
	}
	return nil
}
