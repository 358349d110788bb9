package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

// Revoke implements store.Store as one script that deletes the session
// only if it belongs to subject.
//
// While Redis Cluster migrates the session's slot, Redis answers TRYAGAIN
// to the script when one of its two keys is absent or on the other node,
// which an already revoked id always is. Revoke then reads the session
// alone (one GET, which Redis serves wherever the key is): absent, or
// another subject's, is done, as revocation is idempotent; otherwise the
// TRYAGAIN error stands (an outage).
func (s *Store) Revoke(ctx context.Context, subject, id string) error {
	const op = "revoke"
	if err := s.gate.Enter(ctx, op); err != nil || !store.ValidID(id) || !storekit.ValidSubject(subject) {
		return err
	}
	t := id[:tagLen]
	err := revokeScript.Run(ctx, s.c, []string{s.sessionKey(id), s.revokeIndex(subject, t)}, subject, s.channel).Err()
	if isTryAgain(err) && s.settled(ctx, subject, id) {
		return nil
	}
	return s.wrap(ctx, op, err)
}

// settled reports whether a Revoke that got TRYAGAIN has nothing left to
// do: the session, read alone, is absent or another subject's. A failed
// read goes to the error hook, and the TRYAGAIN stands.
func (s *Store) settled(ctx context.Context, subject, id string) bool {
	v, err := s.c.Get(ctx, s.sessionKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return true
	}
	var x *store.Session
	if err == nil {
		x, err = decode(id, v)
	}
	if err != nil {
		s.kit.Report(s.wrap(ctx, "revoke: reading the session after TRYAGAIN", err))
		return false
	}
	return x.Subject != subject
}

// isTryAgain reports whether err is Redis Cluster's TRYAGAIN: a multi-key
// command during a slot migration whose keys are not all on one node.
func isTryAgain(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "TRYAGAIN")
}

// RevokeSubject implements store.Store. For each routing key (one without
// WithRoutingKey's previous keys) it reads the index's members (ZRANGE),
// then runs one script that declares the index and their session keys and
// deletes them but keep: two round trips, one when the index is empty.
// Should the index hold members the script did not declare (logins since
// the read), it reads and deletes again after a jittered pause, for up to
// a second, and otherwise fails as an outage. The count includes sessions
// already dead at the caller's now whose keys Redis had not yet expired.
// On an error it returns, with the error, how many sessions it had
// deleted before the failure: they stay deleted. The count can fall short
// after a lost reply: go-redis runs the script again (MaxRetries), and the
// second run finds those sessions gone and does not count them.
//
// While Redis Cluster migrates the subject's slot, a script that declares
// a session key no node holds fails with TRYAGAIN; RevokeSubject then
// removes the members whose keys are gone (EXISTS, then ZREM, one key
// each) and tries again, so it fails only while the subject's live keys
// are split between the two nodes.
func (s *Store) RevokeSubject(ctx context.Context, subject, keep string) (int, error) {
	const op = "revoke subject"
	if err := s.gate.Enter(ctx, op); err != nil || !storekit.ValidSubject(subject) {
		return 0, err
	}
	total := 0
	for _, idx := range s.indexes(subject) {
		busy := contention()
		for a := 0; ; a++ {
			if a > 0 {
				if err := s.wait(ctx, op, busy); err != nil {
					return total, err
				}
			}
			keys, err := s.members(ctx, idx, "-inf")
			if err != nil {
				return total, s.wrap(ctx, op, err)
			}
			if len(keys) == 1 {
				break // no member: nothing to delete
			}
			res, err := revokeSubjectScript.Run(ctx, s.c, keys, keep, s.channel).Int64Slice()
			if isTryAgain(err) {
				if s.pruneGone(ctx, op, keys) > 0 {
					continue // read the members again
				}
			}
			if err != nil {
				return total, s.wrap(ctx, op, err)
			}
			if len(res) != 2 {
				return total, fmt.Errorf("redisstore: %s: unexpected reply of %d items", op, len(res))
			}
			total += int(res[0])
			if res[1] == 0 {
				break
			}
		}
	}
	return total, nil
}
