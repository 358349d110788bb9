package sqlstore

import (
	"context"
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
// rows that other nodes still consider live. The sweeper goroutine calls it with
// the Store's clock; applications that turned the sweeper off
// (WithSweepInterval(0)) may call it themselves. Pass the real time: a
// now further in the future than the grace would delete sessions that are
// still live.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	const op = "sweep"
	if err := s.gate.Enter(ctx, op); err != nil {
		return 0, err
	}
	t := ms(now.Add(-s.kit.SweepGrace))
	total := 0
	for _, q := range s.q.sweeps {
		for {
			res, err := s.exec(ctx, q, t, s.batch)
			if err != nil {
				return total, s.wrap(ctx, op, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, s.wrap(ctx, op, err)
			}
			total += int(n)
			if n < int64(s.batch) {
				break
			}
			if err := s.gate.Enter(ctx, op); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// sweep is one run of the sweeper, at the time of the Store's clock.
func (s *Store) sweep(ctx context.Context) error {
	_, err := s.Sweep(ctx, s.kit.Now())
	return err
}
