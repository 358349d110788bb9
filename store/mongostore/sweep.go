package mongostore

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Sweep deletes the documents whose session expired before now minus the
// sweep grace (5 minutes unless WithSweepGrace says otherwise): sessions
// past their absolute expiry with their activity and claims, and claims
// and activity left behind by a revocation or a crash. It returns how
// many documents it deleted. Expired sessions already read as absent:
// Sweep only frees space, as the TTL index does on MongoDB. Idle-expired
// sessions go at their absolute expiry, as with the TTL index. The
// sweeper goroutine (WithSweepInterval) calls it with the Store's clock;
// pass the real time, since a now further ahead than the grace would
// delete sessions that are still live.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	const op = "sweep"
	if err := s.usable(ctx, op); err != nil {
		return 0, err
	}
	s.writes.Add(1)
	res, err := s.c.DeleteMany(ctx, bson.D{{Key: "x", Value: bson.D{{Key: "$lt", Value: nowDate(now.Add(-s.grace))}}}})
	if err != nil {
		return 0, wrap(ctx, op, err)
	}
	return int(res.DeletedCount), nil
}

// startSweeper starts the sweeper goroutine unless the interval is 0.
func (s *Store) startSweeper() {
	if s.every <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		tick := time.NewTicker(s.every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			// A sweep may take one interval, and at least a minute: a
			// slow sweep delays the next tick rather than piling up.
			sctx, scancel := context.WithTimeout(ctx, max(s.every, time.Minute))
			_, err := s.Sweep(sctx, s.clock())
			scancel()
			if ctx.Err() != nil || s.closed.Load() {
				return // Close interrupted the sweep: not an error to report
			}
			s.report(err)
		}
	}()
}
