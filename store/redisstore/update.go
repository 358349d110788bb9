package redisstore

import (
	"context"
	"time"

	"github.com/latchauth/latch/store"
)

// Touch implements store.Store as one script on the session key alone
// that reads the session and, unless it is not live or was used less than
// every ago, rewrites the 16 bytes of LastUsedAt and IdleUntil in place
// (SETRANGE) and moves the key's expiry with them. The script reads the
// session's IdleTimeout too, so the shorter idle timeout is chosen in the
// same atomic step. The index is not written: its score is ExpiresAt,
// which never moves.
func (s *Store) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	const op = "touch"
	if err := s.gate.EnterID(ctx, op, id); err != nil {
		return err
	}
	// now+idle goes through min(…, ExpiresAt) in the script, and
	// ExpiresAt is within ±maxMS, so clamping changes nothing.
	n, err := touchScript.Run(ctx, s.c, []string{s.sessionKey(id)},
		nowMS(now), nowMS(now.Add(idle)), nowMS(now.Add(-every)), now.Nanosecond()%int(time.Millisecond)).Int()
	return s.result(ctx, op, n, err)
}

// Freshen implements store.Store as one script on the session key alone
// that rewrites the 8 bytes of FreshUntil in place (SETRANGE) when the
// session is live at now: no other field, nor the key's expiry, changes,
// and a session revoked or evicted meanwhile is gone and stays gone. An
// until beyond 2^53 Unix milliseconds is ErrInvalid.
func (s *Store) Freshen(ctx context.Context, id string, until, now time.Time) error {
	const op = "freshen"
	if err := s.gate.EnterID(ctx, op, id); err != nil {
		return err
	}
	u, err := toMS("FreshUntil", until)
	if err != nil {
		return err
	}
	n, err := freshenScript.Run(ctx, s.c, []string{s.sessionKey(id)}, nowMS(now), u, s.channel).Int()
	return s.result(ctx, op, n, err)
}

// result turns the reply of a script on one session (see scripts.go) into
// the error of op: -1 is store.ErrNotFound, and 1 or 0 (a throttled
// touch) nil.
func (s *Store) result(ctx context.Context, op string, n int, err error) error {
	if err != nil {
		return s.wrap(ctx, op, err)
	}
	if n == -1 {
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
		max(r.KeepSpent, 0), s.channel).Int()
	if err == nil && n == 0 {
		return store.ErrConflict
	}
	return s.result(ctx, op, n, err)
}

// nonNil sends nil as an empty argument.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
