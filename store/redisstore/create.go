package redisstore

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

// contention paces the retries of a capped Create or a RevokeSubject
// whose index changed between the read of its members and the script. An
// attempt fails so only when a login added a member in between, that is
// when another Create succeeded, so contenders on one subject drain: some
// call always gets through. Each retry waits a jittered pause that grows
// from about 1 ms to 16 ms; a call gives up after a second of trying
// (errBusy, an outage), or when its context is done.
func contention() *storekit.Backoff {
	return &storekit.Backoff{First: time.Millisecond, Max: 16 * time.Millisecond, Budget: time.Second}
}

// wait is busy.Wait for op, its errors the Store's.
func (s *Store) wait(ctx context.Context, op string, busy *storekit.Backoff) error {
	err := busy.Wait(ctx)
	if errors.Is(err, storekit.ErrExhausted) {
		err = errBusy
	}
	return s.wrap(ctx, op, err)
}

// errBusy: a capped Create or RevokeSubject found its index changed under
// it on every attempt for a second.
var errBusy = errors.New("the subject's index kept changing; try again")

// Create implements store.Store. It picks an id carrying the subject's tag
// under the current routing key. Without a cap it is one script. With max
// > 0 it is two round trips: a ZRANGE of the members scored after
// CreatedAt (the others are dead at CreatedAt), then one script that
// declares their session keys, checks that no other member has appeared
// meanwhile (else it starts again after a jittered pause, for up to a
// second, then fails as an outage: never a silent breach of the cap), deletes the
// live others beyond the newest max-1 (live at CreatedAt, List order) and
// writes the session and its member; it deletes the declared sessions
// dead at CreatedAt too, as memstore does. The cap counts the sessions
// under the current routing key only (see WithRoutingKey). A value beyond
// the limits of package store is ErrInvalid, before any command. A rerun of
// the script by go-redis after a lost reply finds the session it wrote and
// succeeds without writing or evicting again (see doc.go).
func (s *Store) Create(ctx context.Context, sess *store.Session, max int) error {
	const op = "create"
	if err := s.gate.EnterSession(ctx, op, sess); err != nil {
		return err
	}
	v, err := encode(sess)
	if err != nil {
		return err
	}
	created, _ := toMS("CreatedAt", sess.CreatedAt) // checked by encode
	idle, _ := toMS("IdleUntil", sess.IdleUntil)
	expires, _ := toMS("ExpiresAt", sess.ExpiresAt)
	t := tag(s.keys[0], sess.Subject)
	idx := s.indexKey(s.keys[0], sess.Subject)
	dl, score := deadline(idle, expires), deadline(expires, expires)
	// An id collision (113 random bits) is beyond unlikely; the scripts
	// refuse to overwrite, and a new id is drawn.
	busy := contention()
	for taken := 0; taken < 3; {
		id := newID(t)
		var n int
		if max <= 0 {
			n, err = createScript.Run(ctx, s.c, []string{idx, s.sessionKey(id)}, id, v, dl, score).Int()
		} else {
			var keys []string
			keys, err = s.members(ctx, idx, "("+strconv.FormatInt(created, 10))
			if err == nil {
				keys = slices.Insert(keys, 1, s.sessionKey(id))
				n, err = createCappedScript.Run(ctx, s.c, keys, id, v, dl, score, max, created, s.channel).Int()
			}
		}
		if err != nil {
			return s.wrap(ctx, op, err)
		}
		switch n {
		case 1:
			sess.ID = id
			return nil
		case 0:
			taken++
		case -2:
			if err := s.wait(ctx, op, busy); err != nil {
				return err
			}
		}
	}
	return errors.New("redisstore: create: three fresh ids were all taken")
}
