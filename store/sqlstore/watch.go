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
// listener in the order their transactions committed. The same trigger,
// and on MySQL and SQLite triggers of their own, also log each change in
// the table <prefix>changes, which a store that cannot listen polls (see
// poll.go).

// Watches reports true: every Store can report its changes once Migrate
// has run (a Store from New is migrated by its caller). A PostgreSQL
// Store from Open listens for them on a connection of its own; MySQL,
// MariaDB, SQLite and pools passed to New poll the change log every poll
// interval (WithPollInterval).
func (s *Store) Watches() bool { return true }

// channel is the notification channel of the store's changes.
func (s *Store) channel() string { return s.prefix + "changes" }

// Watch implements store.Watcher. A PostgreSQL Store from Open listens on
// a connection of its own, which it closes when it returns; it returns
// with an error when that connection fails or stops answering pings, or
// on a notification that is not a report. Any other Store polls the
// change log through its pool every poll interval, and returns with an
// error when a poll fails, or after Close.
func (s *Store) Watch(ctx context.Context, fn func(store.Change)) error {
	const op = "watch"
	if err := s.gate.Enter(ctx, op); err != nil {
		return err
	}
	if s.listen == nil {
		return s.wrap(ctx, op, s.watchLog(ctx, fn))
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

// Beat implements store.Watcher. A PostgreSQL Store from Open sends it
// with pg_notify on the pool: one round trip, delivered to every listener
// after the notifications of every transaction that committed before it.
// Any other Store writes nothing: it hands the beat to its own polling
// Watches, each of which delivers it after its next poll that begins
// after Beat was called, which reads every change committed before.
// Watches of other Store values, in this process or another, do not get
// it.
func (s *Store) Beat(ctx context.Context, id string) error {
	const op = "beat"
	if err := s.gate.EnterBeat(ctx, op, id); err != nil {
		return err
	}
	if s.listen == nil {
		s.polls.beat(id)
		return nil
	}
	_, err := s.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, s.channel(), storekit.BeatChangePrefix+id)
	if err != nil {
		return s.gate.Wrap(ctx, op, fmt.Errorf("pg_notify: %w", err))
	}
	return nil
}
