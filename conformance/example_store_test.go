package conformance_test

// A complete custom store and its conformance test: the worked example of
// docs/stores.md. It keeps sessions in a map under one mutex and scans for
// a subject's sessions, favouring plain code over speed; every method
// follows the contract on store.Store (and on the optional store.Throttle,
// for login throttling), and TestListStore proves it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/conformance"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

// ListStore is a minimal store.Throttle: a store.Store that keeps login
// throttling's strike records too.
type ListStore struct {
	mu       sync.Mutex
	sessions map[string]store.Session
	strikes  map[string]strikeRecord
}

// strikeRecord is one key's Strikes and the instant they expire.
type strikeRecord struct {
	store.Strikes
	until time.Time
}

var _ store.Throttle = (*ListStore)(nil)

func NewListStore() *ListStore {
	return &ListStore{sessions: map[string]store.Session{}, strikes: map[string]strikeRecord{}}
}

func (l *ListStore) Create(ctx context.Context, s *store.Session, max int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := deepCopy(*s)
	if err != nil {
		return err
	}
	c.ID = store.NewID()
	l.mu.Lock()
	defer l.mu.Unlock()
	if max > 0 { // evict under the same lock as the insert: atomic
		others := l.live(c.Subject, c.CreatedAt)
		for _, o := range others[min(len(others), max-1):] {
			delete(l.sessions, o.ID)
		}
	}
	l.sessions[c.ID] = c
	s.ID = c.ID
	return nil
}

func (l *ListStore) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	s, ok := l.sessions[id]
	l.mu.Unlock()
	if !ok || !s.Live(now) {
		return nil, store.ErrNotFound
	}
	c, err := deepCopy(s)
	return &c, err
}

func (l *ListStore) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.sessions[id]
	if !ok || !s.Live(now) {
		return store.ErrNotFound
	}
	if now.Sub(s.LastUsedAt) < every {
		return nil // throttled: write nothing
	}
	if s.IdleTimeout > 0 {
		idle = min(idle, s.IdleTimeout)
	}
	s.LastUsedAt = now
	s.IdleUntil = now.Add(idle)
	if s.ExpiresAt.Before(s.IdleUntil) {
		s.IdleUntil = s.ExpiresAt
	}
	l.sessions[id] = s
	return nil
}

func (l *ListStore) Freshen(ctx context.Context, id string, until, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.sessions[id]
	if !ok || !s.Live(now) {
		return store.ErrNotFound
	}
	s.FreshUntil = until
	l.sessions[id] = s
	return nil
}

func (l *ListStore) Rotate(ctx context.Context, id string, r store.Rotation, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.sessions[id]
	if !ok || !s.Live(now) {
		return store.ErrNotFound
	}
	// Compare and swap under one lock. Hashes need no constant-time
	// comparison: they are of random secrets, and the core compares the
	// presented secret itself.
	if !bytes.Equal(s.RefreshHash, r.Old) {
		return store.ErrConflict
	}
	s.Spent = append([][]byte{bytes.Clone(r.Old)}, s.Spent...)
	s.Spent = s.Spent[:min(len(s.Spent), max(r.KeepSpent, 0))]
	s.RefreshHash, s.SecretHash = bytes.Clone(r.RefreshHash), bytes.Clone(r.SecretHash)
	s.AccessExpiresAt, s.IdleUntil, s.FreshUntil = r.AccessExpiresAt, r.IdleUntil, r.FreshUntil
	s.LastUsedAt, s.RotatedAt = now, now
	l.sessions[id] = s
	return nil
}

func (l *ListStore) Revoke(ctx context.Context, subject, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.sessions[id]; ok && s.Subject == subject {
		delete(l.sessions, id)
	}
	return nil
}

func (l *ListStore) RevokeSubject(ctx context.Context, subject, keep string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for id, s := range l.sessions {
		if s.Subject == subject && id != keep {
			delete(l.sessions, id)
			n++
		}
	}
	return n, nil
}

func (l *ListStore) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.live(subject, now)
	for i := range out {
		c, err := deepCopy(out[i])
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// AddStrike counts one failure under the lock, so that no concurrent
// strike is lost. Expired records are deleted on the way: a scan, as
// List's, that keeps memory bounded by the failures of the last ttl.
func (l *ListStore) AddStrike(ctx context.Context, key string, now time.Time, ttl time.Duration) (store.Strikes, error) {
	if err := ctx.Err(); err != nil {
		return store.Strikes{}, err
	}
	if err := keys.CheckStrikeKeys(key); err != nil {
		return store.Strikes{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, r := range l.strikes {
		if !now.Before(r.until) {
			delete(l.strikes, k)
		}
	}
	r := l.strikes[key] // the zero record when absent or just deleted
	r.Count++
	if now.After(r.Last) {
		r.Last = now // never backwards
	}
	r.until = r.Last.Add(ttl)
	l.strikes[key] = r
	return r.Strikes, nil
}

func (l *ListStore) Strikes(ctx context.Context, ks []string, now time.Time) ([]store.Strikes, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := keys.CheckStrikeKeys(ks...); err != nil {
		return nil, err
	}
	out := make([]store.Strikes, len(ks))
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, k := range ks {
		if r, ok := l.strikes[k]; ok && now.Before(r.until) {
			out[i] = r.Strikes
		}
	}
	return out, nil
}

func (l *ListStore) ClearStrikes(ctx context.Context, ks []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := keys.CheckStrikeKeys(ks...); err != nil { // all or nothing
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range ks {
		delete(l.strikes, k)
	}
	return nil
}

// keys refuses strike keys beyond the limits of store.Throttle.
var keys = &storekit.Gate{Store: "liststore", ErrInvalid: errors.New("liststore: invalid value")}

// live returns subject's sessions live at now in List order. l.mu is held.
func (l *ListStore) live(subject string, now time.Time) []store.Session {
	var out []store.Session
	for _, s := range l.sessions {
		if s.Subject == subject && s.Live(now) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b store.Session) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// deepCopy copies the byte slices and Claims (through encoding/json, as a
// durable store would), so callers and the store never share memory.
func deepCopy(s store.Session) (store.Session, error) {
	s.SecretHash, s.RefreshHash = bytes.Clone(s.SecretHash), bytes.Clone(s.RefreshHash)
	spent := make([][]byte, len(s.Spent))
	for i, h := range s.Spent {
		spent[i] = bytes.Clone(h)
	}
	s.Spent = spent
	if s.Actor != nil {
		a := *s.Actor
		s.Actor = &a
	}
	if s.Claims != nil {
		b, err := json.Marshal(s.Claims)
		if err != nil {
			return s, err
		}
		s.Claims = nil
		if err := json.Unmarshal(b, &s.Claims); err != nil {
			return s, err
		}
	}
	return s, nil
}

// TestListStore is all the testing a custom store needs to prove it
// honours the contract.
func TestListStore(t *testing.T) {
	conformance.Run(t, func(t *testing.T) store.Store { return NewListStore() })
}
