package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

// Get implements store.Store with one GET. Liveness is judged with now.
// A session whose tag none of the routing keys gives its subject is
// ErrRoutingKey (see WithRoutingKey).
func (s *Store) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	const op = "get"
	if err := s.gate.EnterID(ctx, op, id); err != nil {
		return nil, err
	}
	v, err := s.c.Get(ctx, s.sessionKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	x, err := decode(id, v)
	if err != nil {
		return nil, err
	}
	if !x.Live(now) {
		return nil, store.ErrNotFound
	}
	if !s.hasTag(x.Subject, id[:tagLen]) {
		return nil, ErrRoutingKey
	}
	return x, nil
}

// List implements store.Store. For each routing key (one without
// WithRoutingKey's previous keys) it reads the members scored after now
// (ZRANGE: a member's score is its ExpiresAt), then runs one script that
// declares their session keys and returns those live at now in one reply:
// two round trips, one when no member is. The sessions returned under one
// routing key were live together at one instant, the script's, so a
// capped subject shows at most its cap per routing key; with previous
// routing keys each key's view is of its own, later, instant. A login
// racing the List may be missing from it, as if it came after. During a
// slot migration it clears members whose keys are gone as RevokeSubject
// does. It returns a non-nil empty slice when the subject has no live
// session.
func (s *Store) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	const op = "list"
	if err := s.gate.Enter(ctx, op); err != nil {
		return nil, err
	}
	out := []store.Session{}
	if !storekit.ValidSubject(subject) {
		return out, nil
	}
	t := nowMS(now)
	for _, idx := range s.indexes(subject) {
		var res []any
		for pruned := false; ; pruned = true {
			keys, err := s.members(ctx, idx, "("+strconv.FormatInt(t, 10))
			if err != nil {
				return nil, s.wrap(ctx, op, err)
			}
			if len(keys) == 1 {
				break
			}
			res, err = listScript.Run(ctx, s.c, keys, t).Slice()
			if isTryAgain(err) && !pruned {
				if s.pruneGone(ctx, op, keys) > 0 {
					continue // read the members again, once
				}
			}
			if err != nil {
				return nil, s.wrap(ctx, op, err)
			}
			break
		}
		if res == nil {
			continue
		}
		if len(res) == 0 || len(res)%2 != 1 {
			return nil, fmt.Errorf("redisstore: %s: unexpected reply of %d items", op, len(res))
		}
		for i := 1; i < len(res); i += 2 {
			id, _ := res[i].(string)
			v, _ := res[i+1].(string)
			if !store.ValidID(id) {
				return nil, errCorrupt
			}
			x, err := decode(id, []byte(v))
			if err != nil {
				return nil, err
			}
			// A session in the subject's index is the subject's: another
			// subject's was not written by this package.
			if x.Subject != subject {
				return nil, errCorrupt
			}
			// The script judged liveness with now exactly as Live does;
			// check the fields anyway.
			if x.Live(now) {
				out = append(out, *x)
			}
		}
	}
	slices.SortFunc(out, func(a, b store.Session) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}
