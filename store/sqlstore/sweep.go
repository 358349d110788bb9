package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// sweepBatch bounds the rows one DELETE of Sweep removes, so a sweep
// never holds locks on a large part of the table or grows one huge
// transaction log entry.
const sweepBatch = 1000

// Sweep deletes the sessions that were already dead at now minus the
// sweep grace (5 minutes unless WithSweepGrace says otherwise), and the
// strike records (see AddStrike) expired by then, in batches of at most
// 1000 rows per statement, and returns how many rows it deleted. Dead
// sessions and expired strikes already read as absent: Sweep only frees
// space, and the grace keeps a node whose clock runs ahead from deleting
// rows that other nodes still consider live. It also deletes, in the same
// batches and without counting them, the rows of the change log (see
// Watch) written 5 minutes before that, but the newest of them. The
// sweeper goroutine calls it with the Store's clock; applications that
// turned the sweeper off (WithSweepInterval(0)) may call it themselves. Pass the real time: a
// now further in the future than the grace would delete sessions that are
// still live, and change reports not yet read.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	const op = "sweep"
	if err := s.gate.Enter(ctx, op); err != nil {
		return 0, err
	}
	t := now.Add(-s.kit.SweepGrace)
	if err := s.sweepChangeLog(ctx, op, ms(t.Add(-changeLogKeep))); err != nil {
		return 0, err
	}
	total := 0
	for _, q := range s.q.sweeps {
		n, err := s.sweepBatches(ctx, op, q, ms(t))
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// sweepChangeLog deletes the rows of the change log written before the
// newest one written at or before t (Unix milliseconds), which it keeps:
// a new Watch takes the newest row older than a minute as the floor
// below which no transaction still running can have written (see
// openLog).
func (s *Store) sweepChangeLog(ctx context.Context, op string, t int64) error {
	var anchor int64
	err := s.db.QueryRowContext(ctx, s.q.changesAnchor, t).Scan(&anchor)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	_, err = s.sweepBatches(ctx, op, s.q.sweepChanges, anchor)
	return err
}

// sweepBatches runs the sweep statement q with the bound v and the batch
// size until it deletes fewer rows than a batch, and returns how many it
// deleted.
func (s *Store) sweepBatches(ctx context.Context, op, q string, v int64) (int, error) {
	total := 0
	for {
		res, err := s.exec(ctx, q, v, s.batch)
		if err != nil {
			return total, s.wrap(ctx, op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, s.wrap(ctx, op, err)
		}
		total += int(n)
		if n < int64(s.batch) {
			return total, nil
		}
		if err := s.gate.Enter(ctx, op); err != nil {
			return total, err
		}
	}
}

// sweep is one run of the sweeper, at the time of the Store's clock.
func (s *Store) sweep(ctx context.Context) error {
	_, err := s.Sweep(ctx, s.kit.Now())
	return err
}
