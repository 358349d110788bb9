package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"math"
	"time"

	"github.com/latchauth/latch/store"
)

// Touch implements store.Store with one conditional UPDATE, which takes
// the session's own IdleTimeout instead of idle when that is positive and
// shorter; only when it changes no row does a second query tell a
// throttled touch (nil) from a session that is not live
// (store.ErrNotFound). A now beyond int64 Unix milliseconds is ErrInvalid.
func (s *Store) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	const op = "touch"
	if err := s.gate.EnterID(ctx, op, id); err != nil {
		return err
	}
	t, err := storedMS("now", now)
	if err != nil {
		return err
	}
	// now+idle goes through LEAST(…, expires_at), so clamping it to the
	// int64 range changes nothing.
	res, err := s.exec(ctx, s.q.touch, t, ownIdleBound(t, idle), t, int64(now.Nanosecond()%1e6), ms(now.Add(idle)),
		id, t, t, ms(now.Add(-every)))
	return s.changedOrLive(ctx, op, id, t, res, err)
}

// ownIdleBound is the bound, in nanoseconds, below which Touch at t
// (milliseconds) takes a session's own idle timeout: idle, lowered so
// that t + (sub-millisecond part of now + timeout) / 1e6 stays within
// int64. A timeout at or above a lowered bound reaches the last
// millisecond of the range, which any ExpiresAt caps, as it caps the
// other branch, now + idle clamped.
func ownIdleBound(t int64, idle time.Duration) int64 {
	bound := min(int64(idle), math.MaxInt64-1e6)
	if room := math.MaxInt64 - max(t, 0); room <= bound/1e6 {
		bound = (room - 1) * 1e6
	}
	return bound
}

// Freshen implements store.Store with one conditional UPDATE of
// fresh_until alone; only when it changes no row does a second query tell
// a value already stored (MySQL counts changed rows) from a session that
// is not live (store.ErrNotFound). An until or a now beyond int64 Unix
// milliseconds is ErrInvalid.
func (s *Store) Freshen(ctx context.Context, id string, until, now time.Time) error {
	const op = "freshen"
	if err := s.gate.EnterID(ctx, op, id); err != nil {
		return err
	}
	t, err := storedMS("now", now)
	if err != nil {
		return err
	}
	fresh, err := storedMS("until", until)
	if err != nil {
		return err
	}
	res, err := s.exec(ctx, s.q.freshen, fresh, id, t, t)
	return s.changedOrLive(ctx, op, id, t, res, err)
}

// changedOrLive finishes a conditional UPDATE of the session id at t
// (milliseconds) that leaves a live session as it is when its condition
// fails: nil when it changed the row or the session is live,
// store.ErrNotFound when not.
func (s *Store) changedOrLive(ctx context.Context, op, id string, t int64, res sql.Result, err error) error {
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrap(ctx, op, err)
	} else if n > 0 {
		return nil
	}
	_, err = s.liveHash(ctx, op, id, t)
	return err
}

// liveHash returns the refresh hash of the session id if it is live at t
// (milliseconds), or store.ErrNotFound.
func (s *Store) liveHash(ctx context.Context, op, id string, t int64) ([]byte, error) {
	var h []byte
	if err := s.db.QueryRowxContext(ctx, s.q.live, id, t, t).Scan(&h); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, s.wrap(ctx, op, err)
	}
	return h, nil
}

// Rotate implements store.Store as one conditional UPDATE (WHERE id,
// refresh_hash and liveness match): the database applies it to the row
// under its row lock (SQLite: its write lock) and re-checks the condition
// against the latest committed row, so of concurrent callers exactly one
// changes it. Only when no row changed does a second query tell
// store.ErrConflict from store.ErrNotFound.
//
// IdleUntil is capped at the session's ExpiresAt, and KeepSpent <= 0 keeps
// no spent hash. A new hash longer than store.HashLen, or a time of r or a
// now beyond int64 Unix milliseconds, is ErrInvalid.
func (s *Store) Rotate(ctx context.Context, id string, r store.Rotation, now time.Time) error {
	const op = "rotate"
	if err := s.gate.EnterRotation(ctx, op, id, &r); err != nil {
		return err
	}
	t, err := storedMS("now", now)
	if err != nil {
		return err
	}
	access, err := storedMS("AccessExpiresAt", r.AccessExpiresAt)
	if err != nil {
		return err
	}
	idle, err := storedMS("IdleUntil", r.IdleUntil)
	if err != nil {
		return err
	}
	fresh, err := storedMS("FreshUntil", r.FreshUntil)
	if err != nil {
		return err
	}
	// An Old longer than any stored hash cannot match: skip the UPDATE.
	if len(r.Old) <= store.HashLen {
		res, err := s.exec(ctx, s.q.rotate,
			notNil(r.RefreshHash), orNil(r.SecretHash), access,
			idle, fresh, t, t,
			spentEntry(r.Old), spentChars(r.KeepSpent),
			id, notNil(r.Old), t, t)
		if err != nil {
			return s.wrap(ctx, op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return s.wrap(ctx, op, err)
		}
		if n > 0 {
			return nil
		}
	}
	h, err := s.liveHash(ctx, op, id, t)
	if err != nil {
		return err
	}
	// MySQL counts changed rows, not matched ones: an UPDATE that matched
	// but wrote the very values already stored reports 0. Then the row
	// already is what a successful Rotate leaves. On the other databases 0
	// means the condition did not hold, so someone else won.
	if s.d == MySQL && subtle.ConstantTimeCompare(h, r.Old) == 1 {
		return nil
	}
	return store.ErrConflict
}
