package redisstore

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
)

var _ store.Throttle = (*Store)(nil)

// A bucket's record is one string of strikeLen bytes, at strikeKey: int64
// Count, int64 Last and int64 the instant the record expires, Last+ttl,
// each big-endian, the times in Unix ms. The callers' now alone decides
// whether a record has expired; the key's TTL only frees its memory,
// strikeGrace after the record's expiry.
const (
	strikeLen = 24
	// strikeGrace is how long Redis keeps a bucket's key past its record's
	// expiry, by its own clock, so that a server clock a little ahead of
	// the callers' never ends a record early: that would forgive failures.
	strikeGrace = time.Minute
)

// AddStrike implements store.Throttle as one script on the bucket's key,
// which reads the record, restarts or grows it, and writes it back with
// its TTL. Times are whole milliseconds: Last is now rounded down, and ttl
// is rounded up. An invalid key, a ttl that is not positive, or a now
// beyond 2^53 Unix milliseconds is ErrInvalid, before any command. A
// rerun by go-redis after a lost reply counts the failure twice (see
// scripts.go).
func (s *Store) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	const op = "add strike"
	if err := s.gate.EnterStrikes(ctx, op, key); err != nil {
		return store.Strikes{}, err
	}
	if ttl <= 0 {
		return store.Strikes{}, s.gate.Invalid(errors.New("strike ttl must be positive"))
	}
	at, err := toMS("now", now)
	if err != nil {
		return store.Strikes{}, err
	}
	ms := int64(ttl / time.Millisecond)
	if ttl%time.Millisecond != 0 {
		ms++
	}
	r, err := addStrikeScript.Run(ctx, s.c, []string{s.strikeKey(key)}, at, min(ms, maxMS), s.grace.Milliseconds()).Int64Slice()
	if err != nil {
		return store.Strikes{}, s.wrap(ctx, op, err)
	}
	if len(r) != 2 || r[0] < 1 {
		return store.Strikes{}, errCorrupt
	}
	return store.Strikes{Count: int(r[0]), Last: fromMS(r[1])}, nil
}

// Strikes implements store.Throttle with one GET per key, pipelined: one
// round trip to each server that holds some of the keys (on Redis Cluster
// they may be in as many slots as there are keys). An invalid key is
// ErrInvalid, before any command.
func (s *Store) Strikes(ctx context.Context, keys []string, now time.Time) ([]store.Strikes, error) {
	const op = "strikes"
	if err := s.gate.EnterStrikes(ctx, op, keys...); err != nil {
		return nil, err
	}
	out := make([]store.Strikes, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	gets := make([]*redis.StringCmd, len(keys))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			gets[i] = p.Get(ctx, s.strikeKey(k))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.wrap(ctx, op, err)
	}
	t := nowMS(now)
	for i, g := range gets {
		v, err := g.Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, s.wrap(ctx, op, err)
		}
		if len(v) != strikeLen {
			return nil, errCorrupt
		}
		n, last, expires := int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint64(v[8:])), int64(binary.BigEndian.Uint64(v[16:]))
		if n < 1 {
			return nil, errCorrupt
		}
		if t < expires {
			out[i] = store.Strikes{Count: int(n), Last: fromMS(last)}
		}
	}
	return out, nil
}

// ClearStrikes implements store.Throttle with one DEL per key, pipelined
// (one round trip to each server concerned). An invalid key is
// ErrInvalid, before any command.
func (s *Store) ClearStrikes(ctx context.Context, keys []string) error {
	const op = "clear strikes"
	if err := s.gate.EnterStrikes(ctx, op, keys...); err != nil || len(keys) == 0 {
		return err
	}
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, s.strikeKey(k))
		}
		return nil
	})
	return s.wrap(ctx, op, err)
}
