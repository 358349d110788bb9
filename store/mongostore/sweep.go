package mongostore

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Sweep deletes the documents whose session expired before now minus the
// sweep grace (5 minutes unless WithSweepGrace says otherwise): sessions
// past their absolute expiry with their activity, fresh documents and
// claims, and claims and activity left behind by a revocation or a crash;
// the strike records (see AddStrike) and the reports of the change log
// (see Watch) expired before then. It returns how many documents it
// deleted. Expired sessions already read as absent:
// Sweep only frees space, as the TTL index does on MongoDB. Idle-expired
// sessions go at their absolute expiry, as with the TTL index. The
// sweeper goroutine (WithSweepInterval) calls it with the Store's clock;
// pass the real time, since a now further ahead than the grace would
// delete sessions that are still live.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	const op = "sweep"
	if err := s.gate.Enter(ctx, op); err != nil {
		return 0, err
	}
	old := bson.D{{Key: "x", Value: bson.D{{Key: "$lt", Value: nowDate(now.Add(-s.kit.SweepGrace))}}}}
	n := 0
	for _, c := range []*mongo.Collection{s.c, s.strikes, s.changes} {
		res, err := c.DeleteMany(ctx, old)
		if err != nil {
			return n, s.gate.Wrap(ctx, op, err)
		}
		n += int(res.DeletedCount)
	}
	return n, nil
}

// sweep is one run of the sweeper, at the time of the Store's clock.
func (s *Store) sweep(ctx context.Context) error {
	_, err := s.Sweep(ctx, s.kit.Now())
	return err
}
