package mongostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

// Capped logins of one subject take turns. Turn n of a subject is the
// document "l/<sha256(subject) hex>/<n, 20 digits>", and its end the
// document with "/d/<owner>" appended, owner being the random nonce of
// the login that took the turn. A login reads the subject's turn
// documents (one query on a range of _id), and when the newest turn has
// ended (or there is none, or its lease has passed) inserts turn n+1:
// the unique _id index lets exactly one of the logins that saw turn n
// have turn n+1, and the others read again. The holder evicts, inserts
// its session, deletes the older turns and ends its turn. So capped
// logins of one subject run one at a time, each seeing everything the
// previous ones did, without a transaction.
//
// The lease is shared and absolute: a turn document records when it was
// taken (t, the holder's clock, in milliseconds), and every login
// computes the turn's expiry as t + lockLease with its own clock. So a
// turn left open (by a crash, a lost reply, a failed end) blocks the
// subject for lockLease at most, and a later login, with a fresh
// context of its own, takes the next turn once that has passed, however
// short each login's context is. The holder's writes are bounded by
// deadlines on the same instant t: taking the turn, evicting and
// inserting by t + turnBudget, ending the turn by t + turnBudget +
// endBudget. Two holders overlap only if a holder's write arrives at the
// server more than lockLease - turnBudget - endBudget (2 s) after its
// deadline, or the hosts' clocks differ by more than that: keep clocks
// synchronized (NTP) well within 2 s. A turn whose t lies more than a
// lease in the future (a clock far ahead) is treated as expired too, so
// a broken clock cannot block a subject for good.
//
// The owner nonce resolves uncertainty: a login whose insert of the turn
// failed or came back as a duplicate key (a retried write whose first
// reply was lost) reads the turn back by _id and holds it if it is its
// own. The end of a turn names its owner, so ending a turn that turned
// out not to be ours is harmless. A failure after the insert ends the
// turn, except when the session's insert failed without the server's
// answer: that insert may still land, and a next login that read the
// subject before it did would exceed the cap, so the turn is left to its
// lease (the subject's capped logins wait up to lockLease).
//
// Turn documents carry neither sub nor sid (they are encoded from
// turnDoc, not doc), so no query by subject, Revoke or RevokeSubject
// touches them; their x (a day after the login) lets the TTL index and
// Sweep remove the last turn of a subject no longer logging in.

// lockLease is how long after it was taken (by the clock of the login
// that took it) a turn that has not ended may be taken over. The latch
// core gives each store call StoreTimeout (2 s by default), so waiting
// logins give up within that; the turn expires after lockLease anyway,
// and the first capped login after that proceeds.
const lockLease = 5 * time.Second

// turnBudget bounds, from the instant the turn is taken, taking it
// (insert and check), the evictions and the insert of the session; the
// end of the turn gets endBudget more. These run even when the caller's
// context is done, so a canceled login never leaves evictions without
// its session; so a capped Create returns at most turnBudget+endBudget
// after its turn was taken.
const (
	turnBudget = 2 * time.Second
	endBudget  = 1 * time.Second
)

// lockKeep is how long after its login the last turn document of a
// subject is kept.
const lockKeep = 24 * time.Hour

// turnDoc is a turn document or the end of one.
type turnDoc struct {
	ID       string        `bson:"_id"`
	Kind     string        `bson:"k"`
	Gen      int64         `bson:"g"`           // the turn's number
	Owner    string        `bson:"o"`           // the nonce of the login that took it
	Taken    bson.DateTime `bson:"t,omitempty"` // when, by the holder's clock (turns only)
	ExpireAt bson.DateTime `bson:"x"`
}

// turn is one capped login's turn at its subject.
type turn struct {
	prefix string        // of the subject's turn documents
	n      int64         // the turn's number, once taken
	owner  string        // the login's nonce
	taken  time.Time     // when the turn was taken, by our clock
	keep   bson.DateTime // x of the turn's documents
}

// newest is what newestTurn found.
type newest struct {
	n     int64 // -1 if none
	owner string
	taken time.Time
	ended bool
}

func lockPrefix(subject string) string {
	h := sha256.Sum256([]byte(subject))
	return "l/" + hex.EncodeToString(h[:]) + "/"
}

func lockID(prefix string, n int64) string { return fmt.Sprintf("%s%020d", prefix, n) }

func doneID(prefix string, n int64, owner string) string { return lockID(prefix, n) + "/d/" + owner }

// inTurn runs f while holding the subject's turn for login x. Waiting for
// the turn uses ctx; once the turn is taken, f and the end of the turn run
// even if ctx is done (until turnBudget, then endBudget, after the turn
// was taken), so a canceled login never leaves its evictions done
// without its session. f reports whether its writes are settled: false
// when a write failed without the server's answer, and may still land;
// the turn then ends by its lease instead. Errors wrap ctx.Err() when ctx
// is done.
func (s *Store) inTurn(ctx context.Context, op string, x *store.Session, f func(ctx context.Context) (settled bool, err error)) error {
	now := time.Now()
	t := turn{prefix: lockPrefix(x.Subject), owner: store.NewID(), keep: date(later(x.CreatedAt, now).Add(lockKeep))}
	if err := s.takeTurn(ctx, op, &t); err != nil {
		return err
	}
	fctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), t.taken.Add(turnBudget))
	settled, err := f(fctx)
	cancel()
	if settled {
		s.endTurn(ctx, t, true)
	}
	// Otherwise a write of f's may still be on its way to the server: the
	// turn is left to its lease, so the next login cannot read the
	// subject's sessions before that write lands and then exceed the cap.
	return callerErr(ctx, op, err)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// callerErr makes err wrap ctx.Err() when the caller's ctx is done.
func callerErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("mongostore: %s: %w: %w", op, cerr, err)
	}
	return err
}

// expired reports whether a turn taken at taken (by its holder's clock)
// may be taken over at now.
func (s *Store) expired(taken, now time.Time) bool {
	return !now.Before(taken.Add(s.lease)) || taken.After(now.Add(s.lease))
}

// takeTurn waits for the newest turn of t.prefix to end (or its lease to
// pass) and takes the next.
func (s *Store) takeTurn(ctx context.Context, op string, t *turn) error {
	var wait *storekit.Backoff
	for {
		if err := s.gate.Enter(ctx, op); err != nil {
			return err
		}
		top, err := s.newestTurn(ctx, op, t.prefix)
		if err != nil {
			return err
		}
		if top.n < 0 || top.ended || s.expired(top.taken, time.Now()) {
			t.n = top.n + 1
			ok, err := s.claimTurn(ctx, op, t)
			if err != nil || ok {
				return err
			}
			wait = nil // another login took it: read again at once
			continue
		}
		if wait == nil {
			// Pauses of 0.5-1 ms at first, 13-26 ms (20 on average) once
			// the holder is slow.
			wait = &storekit.Backoff{First: time.Millisecond, Max: 26 * time.Millisecond}
		}
		if err := wait.Wait(ctx); err != nil {
			return s.gate.Wrap(ctx, op, err)
		}
	}
}

// newestTurn returns the newest turn of prefix and whether its owner has
// ended it.
func (s *Store) newestTurn(ctx context.Context, op, prefix string) (newest, error) {
	top := newest{n: -1}
	cur, err := s.c.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: prefix}, {Key: "$lt", Value: prefix + "~"}}}},
		options.Find().SetProjection(bson.D{{Key: "k", Value: 1}, {Key: "g", Value: 1}, {Key: "o", Value: 1}, {Key: "t", Value: 1}}))
	if err != nil {
		return top, s.gate.Wrap(ctx, op, err)
	}
	var docs []turnDoc
	if err := cur.All(ctx, &docs); err != nil {
		return top, s.gate.Wrap(ctx, op, err)
	}
	type key struct {
		n     int64
		owner string
	}
	done := map[key]bool{}
	for _, d := range docs {
		switch d.Kind {
		case kindLock:
			if d.Gen > top.n {
				top = newest{n: d.Gen, owner: d.Owner, taken: time.UnixMilli(int64(d.Taken))}
			}
		case kindDone:
			done[key{d.Gen, d.Owner}] = true
		}
	}
	top.ended = top.n >= 0 && done[key{top.n, top.owner}]
	return top, nil
}

// claimTurn inserts turn t.n, and reports whether it is this login's: the
// insert succeeded (or a read back by _id shows our nonce) and no later
// turn exists. A login that read the turns long ago can insert a turn
// number whose document the end of a later turn has deleted since; a
// later turn then exists, since the newest turn is never deleted, and the
// stale document is left for the next end of a turn to delete. The insert
// and the check run even if ctx is done meanwhile (until turnBudget after
// t.taken), so whether the turn was taken is never left unknown because
// of a cancellation; a turn taken for a done ctx, or whose check failed,
// is ended at once.
func (s *Store) claimTurn(ctx context.Context, op string, t *turn) (bool, error) {
	t.taken = time.Now()
	fctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), t.taken.Add(turnBudget))
	defer cancel()
	id := lockID(t.prefix, t.n)
	_, err := s.c.InsertOne(fctx, turnDoc{ID: id, Kind: kindLock, Gen: t.n, Owner: t.owner, Taken: bson.DateTime(t.taken.UnixMilli()), ExpireAt: t.keep})
	if err != nil {
		// A duplicate key is another login's turn, or ours, inserted by a
		// retry whose first reply was lost; any other error may hide an
		// insert that landed. Read it back.
		mine, rerr := s.turnOwned(fctx, id, t.owner)
		switch {
		case rerr != nil:
			s.endTurn(ctx, *t, false) // ours or not, harmless: see endTurn
			return false, callerErr(ctx, op, s.gate.Wrap(fctx, op, err))
		case !mine && mongo.IsDuplicateKeyError(err):
			return false, nil
		case !mine:
			return false, callerErr(ctx, op, s.gate.Wrap(fctx, op, err))
		}
	}
	top, err := s.newestTurn(fctx, op, t.prefix)
	switch {
	case err != nil:
		s.endTurn(ctx, *t, false)
		return false, callerErr(ctx, op, err)
	case top.n != t.n:
		return false, nil
	}
	if err := s.gate.Enter(ctx, op); err != nil {
		s.endTurn(ctx, *t, false)
		return false, err
	}
	return true, nil
}

// turnOwned reports whether the turn document id names owner.
// claimOwner returns the nonce of the rotation claim id, "" if there is
// none.
func (s *Store) claimOwner(ctx context.Context, id string) (string, error) {
	var d doc
	err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(bson.D{{Key: "rn", Value: 1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", nil
	}
	return d.Nonce, err
}

func (s *Store) turnOwned(ctx context.Context, id, owner string) (bool, error) {
	var d turnDoc
	err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(bson.D{{Key: "o", Value: 1}})).Decode(&d)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return false, nil
	case err != nil:
		return false, err
	}
	return d.Owner == owner, nil
}

// endTurn ends turn t.n and, with dropOld (only for a turn known to be
// ours), deletes the turns before it. The end names t.owner, so ending a
// turn that is not ours (when whether the insert landed is unknown) ends
// nothing. It runs until endBudget after t's turnBudget, whatever ctx
// says. Failures go to the error hook: the turn then ends by its lease.
func (s *Store) endTurn(ctx context.Context, t turn, dropOld bool) {
	ectx, cancel := context.WithDeadline(context.WithoutCancel(ctx), t.taken.Add(turnBudget+endBudget))
	defer cancel()
	if dropOld && t.n > 0 {
		_, err := s.c.DeleteMany(ectx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: t.prefix}, {Key: "$lt", Value: lockID(t.prefix, t.n)}}}})
		s.kit.Report(s.gate.Wrap(ectx, "create: deleting old turns", err))
	}
	_, err := s.c.InsertOne(ectx, turnDoc{ID: doneID(t.prefix, t.n, t.owner), Kind: kindDone, Gen: t.n, Owner: t.owner, ExpireAt: t.keep})
	if mongo.IsDuplicateKeyError(err) {
		err = nil // a retry whose first reply was lost
	}
	s.kit.Report(s.gate.Wrap(ectx, "create: ending the turn", err))
}
