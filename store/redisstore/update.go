package redisstore

import (
	"context"
	"time"

	"github.com/latchauth/latch/store"
)

// Touch implements store.Store as one script on the session key alone
// that reads the session and, unless it is not live or was used less than
// every ago, rewrites the 16 bytes of LastUsedAt and IdleUntil in place
// (SETRANGE) and moves the key's expiry with them. The index is not
// written: its score is ExpiresAt, which never moves.
func (s *Store) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	const op = "touch"
	if err := s.gate.EnterID(ctx, op, id); err != nil {
		return err
	}
	// now+idle goes through min(…, ExpiresAt) in the script, and
	// ExpiresAt is within ±maxMS, so clamping changes nothing.
	n, err := touchScript.Run(ctx, s.c, []string{s.sessionKey(id)},
		nowMS(now), nowMS(now.Add(idle)), nowMS(now.Add(-every))).Int()
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	switch n {
	case -1:
		return store.ErrNotFound
	}
	return nil
}

// Rotate implements store.Store as one script on the session key alone:
// Redis runs one script at a time, so of concurrent callers from one hash exactly one finds it
// current. IdleUntil is capped at the session's ExpiresAt, and KeepSpent
// <= 0 keeps no spent hash. A new hash longer than store.HashLen, or a
// time of r beyond 2^53 Unix milliseconds, is ErrInvalid.
func (s *Store) Rotate(ctx context.Context, id string, r store.Rotation, now time.Time) error {
	const op = "rotate"
	if err := s.gate.EnterRotation(ctx, op, id, &r); err != nil {
		return err
	}
	var ts [3]int64
	for i, f := range [...]struct {
		name string
		at   time.Time
	}{{"AccessExpiresAt", r.AccessExpiresAt}, {"IdleUntil", r.IdleUntil}, {"FreshUntil", r.FreshUntil}} {
		var err error
		if ts[i], err = toMS(f.name, f.at); err != nil {
			return err
		}
	}
	n, err := rotateScript.Run(ctx, s.c, []string{s.sessionKey(id)},
		nowMS(now), nonNil(r.Old), nonNil(r.RefreshHash), nonNil(r.SecretHash), ts[0], ts[1], ts[2],
		max(r.KeepSpent, 0)).Int()
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	switch n {
	case -1:
		return store.ErrNotFound
	case 0:
		return store.ErrConflict
	}
	return nil
}

// nonNil sends nil as an empty argument.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
