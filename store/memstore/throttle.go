package memstore

import (
	"context"
	"time"

	"github.com/latchauth/latch/store"
)

var _ store.Throttle = (*Store)(nil)

// strikes is one Throttle record: its Strikes and the instant it expires.
type strikes struct {
	store.Strikes
	until time.Time
}

// live reports whether r has not expired at now.
func (r strikes) live(now time.Time) bool { return now.Before(r.until) }

// AddStrike implements store.Throttle, under the Store's lock. An expired
// record is replaced; expired records are freed by Sweep and by the full
// sweep that Create and AddStrike run every so often (see the package
// doc), so failed logins that never succeed cannot grow the Store without
// bound.
func (m *Store) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	if err := m.gate.EnterStrikes(ctx, "add strike", key); err != nil {
		return store.Strikes{}, err
	}
	now = now.Round(0)
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.strikes[key]
	if !ok || !r.live(now) {
		r = strikes{}
	}
	r.Count++
	if now.After(r.Last) {
		r.Last = now
	}
	r.until = r.Last.Add(ttl)
	m.strikes[key] = r
	m.sweepSometimes(now)
	return r.Strikes, nil
}

// Strikes implements store.Throttle.
func (m *Store) Strikes(ctx context.Context, keys []string, now time.Time) ([]store.Strikes, error) {
	if err := m.gate.EnterStrikes(ctx, "strikes", keys...); err != nil {
		return nil, err
	}
	out := make([]store.Strikes, len(keys))
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, k := range keys {
		if r, ok := m.strikes[k]; ok && r.live(now) {
			out[i] = r.Strikes
		}
	}
	return out, nil
}

// ClearStrikes implements store.Throttle.
func (m *Store) ClearStrikes(ctx context.Context, keys []string) error {
	if err := m.gate.EnterStrikes(ctx, "clear strikes", keys...); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.strikes, k)
	}
	return nil
}
