package memstore

import (
	"context"
	"time"

	"github.com/latchauth/latch/store"
)

var _ store.Throttle = (*Store)(nil)

// strikes is one throttle record and when it expires.
type strikes struct {
	store.Strikes
	until time.Time
}

// AddStrike implements store.Throttle.
func (m *Store) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	if err := m.gate.Enter(ctx, "add strike"); err != nil {
		return store.Strikes{}, err
	}
	now = now.Round(0)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.strikes == nil {
		m.strikes = map[string]strikes{}
	}
	r, ok := m.strikes[key]
	if !ok || !now.Before(r.until) {
		r = strikes{}
	}
	r.Count++
	if now.After(r.Last) {
		r.Last = now
	}
	r.until = r.Last.Add(ttl)
	m.strikes[key] = r
	return r.Strikes, nil
}

// Strikes implements store.Throttle.
func (m *Store) Strikes(ctx context.Context, keys []string, now time.Time) ([]store.Strikes, error) {
	if err := m.gate.Enter(ctx, "strikes"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]store.Strikes, len(keys))
	for i, k := range keys {
		if r, ok := m.strikes[k]; ok && now.Before(r.until) {
			out[i] = r.Strikes
		}
	}
	return out, nil
}

// ClearStrikes implements store.Throttle.
func (m *Store) ClearStrikes(ctx context.Context, keys []string) error {
	if err := m.gate.Enter(ctx, "clear strikes"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.strikes, k)
	}
	return nil
}
