package mongostore

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

// Touch reads the session and, when its last recorded use is at least
// every old, records the use in the session's activity document, which
// nothing but Touch writes: see the package doc.
func (s *Store) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	const op = "touch"
	if err := s.gate.EnterID(ctx, op, id); err != nil {
		return err
	}
	r, err := s.readToWrite(ctx, op, id, now)
	if err != nil {
		return err
	}
	at := nowDate(now)
	last, _ := r.lastUse()
	if at < last || now.Sub(last.Time()) < every {
		return nil
	}
	if it := time.Duration(r.s.IdleTimeout); it > 0 {
		idle = min(idle, it)
	}
	until := date(now.Add(idle))
	if until > r.s.Expires || now.Add(idle).After(maxTime) {
		until = r.s.Expires
	}
	return s.gate.Wrap(ctx, op, s.writeSide(ctx, r, activityID(id), kindActivity,
		bson.E{Key: "lu", Value: bson.D{{Key: "$lt", Value: at}}},
		bson.E{Key: "lu", Value: at}, bson.E{Key: "iu", Value: until}))
}

// Freshen reads the session and, when it is live, records until in the
// session's fresh document with the generation it read, which nothing but
// Freshen writes: the session document, which Rotate writes, is never
// written back, and the session's FreshUntil is Freshen's only while the
// session is still at that generation (see record.freshUntil). It then
// reports the session in the change log.
func (s *Store) Freshen(ctx context.Context, id string, until, now time.Time) error {
	const op = "freshen"
	if err := s.gate.EnterID(ctx, op, id); err != nil {
		return err
	}
	if err := checkTime("until", until); err != nil {
		return err
	}
	r, err := s.readLive(ctx, op, id, now, false)
	if err != nil {
		return err
	}
	err = s.writeSide(ctx, r, freshID(id), kindFresh,
		bson.E{Key: "g", Value: bson.D{{Key: "$lte", Value: r.s.Gen}}},
		bson.E{Key: "g", Value: r.s.Gen}, bson.E{Key: "fu", Value: date(until)})
	// Reported even when the write failed: it may have landed.
	rerr := s.report(ctx, op, store.Change{Kind: store.ChangeSession, ID: id})
	if err != nil {
		return s.gate.Wrap(ctx, op, err)
	}
	return rerr
}

// writeSide upserts the side document id (of kind k) of r's session with
// fields. On MongoDB the filter also holds cond, which makes the write
// conditional on the document holding an older state (a later write
// wins, whatever the order they arrive in). FerretDB evaluates a filter
// only at its read, not at its write, and serves only a filter on _id
// alone without decoding every document of the collection, so there the
// filter is the _id alone and the write that lands last wins: see the
// package doc. The upsert never recreates a session: a side document
// without its session reads as nothing.
func (s *Store) writeSide(ctx context.Context, r *record, id, k string, cond bson.E, fields ...bson.E) error {
	filter := bson.D{{Key: "_id", Value: id}}
	if s.oneQuery.Load() {
		filter = append(filter, cond)
	}
	set := bson.D{{Key: "k", Value: k}, {Key: "sid", Value: r.s.ID}, {Key: "sub", Value: r.s.Subject}, {Key: "x", Value: r.s.ExpireAt}}
	set = append(set, fields...)
	update := bson.D{{Key: "$set", Value: set}}
	_, err := s.c.UpdateOne(ctx, filter, update, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// A concurrent first write inserted the document (on MongoDB: or
		// it holds a later state, and the filter did not match). Ours may
		// be the later: update once more, without upsert; on MongoDB the
		// filter keeps the later of the two.
		_, err = s.c.UpdateOne(ctx, filter, update)
	}
	return err
}

// Rotate is a compare-and-swap in two steps: claim the session's current
// generation by inserting a document whose _id names it (the server's
// unique _id index lets exactly one insert through), then update the
// session document. Once the read is done, the claim and the update run
// even if ctx is done meanwhile (for at most 2 seconds), so a canceled
// request does not leave a claimed generation unapplied. The update is
// then reported in the change log. See the package doc for what a crash
// between the steps leaves.
func (s *Store) Rotate(ctx context.Context, id string, rot store.Rotation, now time.Time) error {
	const op = "rotate"
	if err := s.gate.EnterRotation(ctx, op, id, &rot); err != nil {
		return err
	}
	if err := checkRotationTimes(&rot); err != nil {
		return err
	}
	r, err := s.readToWrite(ctx, op, id, now)
	if err != nil {
		return err
	}
	if s.afterRead != nil {
		s.afterRead()
	}
	cur := r.s
	if len(cur.RefreshHash) != len(rot.Old) || subtle.ConstantTimeCompare(cur.RefreshHash, rot.Old) != 1 {
		return store.ErrConflict
	}
	// From here on the rotation runs to its end even if ctx is done, so a
	// cancellation never strands a won claim; until here nothing is
	// written.
	if err := s.gate.Enter(ctx, op); err != nil {
		return err
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), followUpTimeout)
	defer cancel()
	nonce := store.NewID()
	claim := claimID(id, cur.Gen)
	_, err = s.c.InsertOne(fctx, doc{ID: claim, Kind: kindClaim, SID: id, Subject: cur.Subject, Gen: cur.Gen, Nonce: nonce, ExpireAt: cur.ExpireAt})
	if err != nil {
		// A duplicate key is another rotation's claim, or ours, inserted
		// by a retry whose first reply was lost; any other error may hide
		// a claim that landed. Read it back: a claim of ours goes on to
		// the update, so a lost reply never strands the session's refresh.
		owner, rerr := s.claimOwner(fctx, claim)
		switch {
		case rerr == nil && owner == nonce:
		case rerr == nil && owner != "":
			// Another rotation from this generation won: its update may
			// not have landed yet.
			return s.awaitRotation(fctx, op, id, cur.Gen)
		case rerr == nil && mongo.IsDuplicateKeyError(err):
			return store.ErrConflict // won, then cleaned up: long moved on
		default:
			return callerErr(ctx, op, s.gate.Wrap(fctx, op, err))
		}
	}

	spent := [][]byte{append([]byte(nil), rot.Old...)}
	spent = append(spent, cur.Spent...)
	spent = spent[:max(0, min(len(spent), rot.KeepSpent))]
	at := nowDate(now)
	set := bson.D{
		{Key: "g", Value: cur.Gen + 1},
		{Key: "rh", Value: append([]byte(nil), rot.RefreshHash...)},
		{Key: "sh", Value: append([]byte(nil), rot.SecretHash...)},
		{Key: "sp", Value: spent},
		{Key: "ae", Value: date(rot.AccessExpiresAt)},
		{Key: "iu", Value: date(rot.IdleUntil)},
		{Key: "fu", Value: date(rot.FreshUntil)},
		{Key: "lu", Value: at},
		{Key: "ra", Value: at},
		{Key: "rn", Value: nonce},
	}
	// Our generation, or the one we made (a retry after a lost answer
	// rewrites the same values): the nonce of our claim tells the two
	// apart, so a rotation that won the claim of a generation whose first
	// claim was deleted (by clean-up, the TTL index or Sweep) never
	// overwrites the rotation that won it first.
	filter := bson.D{{Key: "_id", Value: id}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "g", Value: cur.Gen}},
		bson.D{{Key: "g", Value: cur.Gen + 1}, {Key: "rn", Value: nonce}},
	}}}
	var res *mongo.UpdateResult
	for attempt := 0; ; attempt++ {
		res, err = s.c.UpdateOne(fctx, filter, bson.D{{Key: "$set", Value: set}})
		if err == nil || attempt == 2 || fctx.Err() != nil {
			break
		}
	}
	if err != nil || res.MatchedCount > 0 {
		// Reported even when the update failed: it may have landed.
		if rerr := s.report(ctx, op, store.Change{Kind: store.ChangeSession, ID: id}); err == nil && rerr != nil {
			return rerr
		}
	}
	if err != nil {
		return callerErr(ctx, op, s.gate.Wrap(fctx, op, err))
	}
	if res.MatchedCount == 0 {
		// Revoked or evicted since the read (or, for a rotation that
		// read a generation long gone, moved on: see the package doc).
		err := s.notMatched(fctx, id, now)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			return err
		}
		return callerErr(ctx, op, err)
	}
	if cur.Gen > 0 {
		// Claims older than the one just won can no longer decide
		// anything: every later update filters on a newer generation.
		_, err := s.c.DeleteMany(fctx, bson.D{{Key: "_id", Value: bson.D{
			{Key: "$gte", Value: claimID(id, 0)}, {Key: "$lt", Value: claimID(id, cur.Gen)},
		}}})
		s.kit.Report(s.gate.Wrap(fctx, "rotate: deleting old claims", err))
	}
	return nil
}

// notMatched tells why a won rotation's update matched nothing.
func (s *Store) notMatched(ctx context.Context, id string, now time.Time) error {
	if _, err := s.readLive(ctx, "rotate", id, now, false); err != nil {
		return err
	}
	return store.ErrConflict
}

// awaitRotation returns store.ErrConflict once the session's generation
// has moved past gen, or the session is gone: a rotation that lost to a
// claim returns only when the winner's write can be read, as the
// store.Store contract asks. Should the winner never finish (it crashed
// between claim and update), it gives up at ctx's deadline.
func (s *Store) awaitRotation(ctx context.Context, op, id string, gen int64) error {
	wait := storekit.Backoff{First: time.Millisecond, Max: 26 * time.Millisecond}
	for {
		r, err := s.read(ctx, op, id, false)
		switch {
		case err != nil:
			return err
		case r == nil || r.s.Gen > gen:
			return store.ErrConflict
		}
		if err := wait.Wait(ctx); err != nil {
			return store.ErrConflict
		}
	}
}
