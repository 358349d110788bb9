package sqlstore

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/latchauth/latch/store"
)

var _ store.Throttle = (*Store)(nil)

// AddStrike implements store.Throttle with one upsert of the key's row in
// <prefix>strikes: INSERT … ON CONFLICT DO UPDATE on PostgreSQL and
// SQLite, INSERT … ON DUPLICATE KEY UPDATE on MySQL, whose CASE restarts
// an expired record at 1. The database applies it under the row's lock
// (SQLite: its write lock), so concurrent strikes from any number of
// processes each count once. PostgreSQL returns the row with RETURNING;
// on MySQL and SQLite the upsert and a read of the row share a
// transaction. A key that is not storekit.ValidStrikeKey, a ttl <= 0 or
// a now beyond int64 Unix milliseconds is ErrInvalid.
func (s *Store) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	const op = "add strike"
	if err := s.gate.EnterStrikes(ctx, op, key); err != nil {
		return store.Strikes{}, err
	}
	if ttl <= 0 {
		return store.Strikes{}, fmt.Errorf("%w: strike ttl %v is not positive", ErrInvalid, ttl)
	}
	t, err := storedMS("now", now)
	if err != nil {
		return store.Strikes{}, err
	}
	args := strikeArgs(key, t, now, ttl)
	var count, last int64
	if s.d == PostgreSQL {
		err = s.retry(ctx, func() error {
			return s.db.QueryRowxContext(ctx, s.q.addStrike, args...).Scan(&count, &last)
		})
	} else {
		err = s.retry(ctx, func() error {
			tx, err := s.db.BeginTxx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback() // after Commit, a no-op
			if _, err := tx.ExecContext(ctx, s.q.addStrike, args...); err != nil {
				return err
			}
			if err := tx.QueryRowxContext(ctx, s.q.strike, key).Scan(&count, &last); err != nil {
				return err
			}
			return tx.Commit()
		})
	}
	if err != nil {
		return store.Strikes{}, s.wrap(ctx, op, err)
	}
	return store.Strikes{Count: int(count), Last: fromMS(last)}, nil
}

// strikeArgs binds the upsert of buildQueries for a strike against key at
// now (t in milliseconds) that lasts ttl > 0. A new or restarted record
// expires at now+ttl (clamped to the int64 range). A record whose last
// strike is later than now (another node's clock runs ahead) keeps it,
// and expires ttl after it, or at the end of the range when that lies
// beyond.
func strikeArgs(key string, t int64, now time.Time, ttl time.Duration) []any {
	exp := ms(now.Add(ttl))
	d := int64(ttl / time.Millisecond)
	return []any{
		key, t, exp, // a new row
		t,                                                  // strike_count: restart if expired at now
		t,                                                  // last_strike: the later
		t, exp, math.MaxInt64 - d, int64(math.MaxInt64), d, // expires_at
	}
}

// Strikes implements store.Throttle with one SELECT of the keys' live
// rows (one per 500 distinct keys), answered in the order of
// keys. A key that is not storekit.ValidStrikeKey is ErrInvalid.
func (s *Store) Strikes(ctx context.Context, keys []string, now time.Time) ([]store.Strikes, error) {
	const op = "strikes"
	if err := s.gate.EnterStrikes(ctx, op, keys...); err != nil {
		return nil, err
	}
	t := ms(now)
	found := make(map[string]store.Strikes, len(keys))
	err := inBatches(keys, func(batch []any) error {
		rows, err := s.db.QueryxContext(ctx, s.d.inList(s.q.strikes, len(batch)), append(batch, t)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				key         string
				count, last int64
			)
			if err := rows.Scan(&key, &count, &last); err != nil {
				return err
			}
			found[key] = store.Strikes{Count: int(count), Last: fromMS(last)}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.wrap(ctx, op, err)
	}
	out := make([]store.Strikes, len(keys))
	for i, k := range keys {
		out[i] = found[k]
	}
	return out, nil
}

// ClearStrikes implements store.Throttle with one DELETE of the keys' rows
// (one per 500 distinct keys). A key that is not
// storekit.ValidStrikeKey is ErrInvalid, and nothing is deleted.
func (s *Store) ClearStrikes(ctx context.Context, keys []string) error {
	const op = "clear strikes"
	if err := s.gate.EnterStrikes(ctx, op, keys...); err != nil {
		return err
	}
	err := inBatches(keys, func(batch []any) error {
		_, err := s.exec(ctx, s.d.inList(s.q.clearStrikes, len(batch)), batch...)
		return err
	})
	return s.wrap(ctx, op, err)
}
