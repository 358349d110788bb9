// Package memstore is an in-memory store.Store, for tests, demos and
// single-process applications. Sessions live in the memory of one process:
// they vanish when it exits, logging every user out on restart, and two
// processes never see each other's sessions.
//
// Importing the package registers the "memory" scheme, so
// store.Open(ctx, "memory:") returns a new, empty Store. The rest of the
// URL is ignored.
//
// Dead sessions (idle-expired or past their absolute expiry) read as
// absent at once. They are removed from memory when their subject next
// logs in (Create), when they are revoked, by Sweep, and by a full sweep
// that Create runs after as many Creates as there are sessions (at least
// 1024): memory stays bounded without a goroutine, at the price of one
// O(all sessions) pass now and then. Call Sweep from a timer to spread
// that cost.
package memstore

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchauth/latch/store"
)

func init() {
	store.Register("memory", func(ctx context.Context, rawURL string) (store.Store, error) {
		return New(), nil
	})
}

var _ store.Bounded = (*Store)(nil)

// Bounded reports true: no call waits on anything but a short lock (see
// store.Bounded).
func (*Store) Bounded() bool { return true }

// ErrClosed is returned by every call on a Store after Close.
var ErrClosed = errors.New("memstore: store closed")

// Store is an in-memory store.Store, safe for concurrent use by many
// goroutines of one process. Create one with New.
type Store struct {
	clock  func() time.Time
	writes atomic.Int64
	closed atomic.Bool

	mu sync.Mutex
	// sessions maps id to session. A stored *Session is never modified in
	// place (updates store a modified copy), so readers may copy it out
	// after unlocking.
	sessions map[string]*store.Session
	// bySubject maps subject to the ids of its sessions.
	bySubject map[string]map[string]struct{}
	// sinceSweep counts Creates since the last full sweep.
	sinceSweep int
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock used where the store.Store contract passes no
// now: it decides which of the sessions RevokeSubject deletes count as
// live, and caps the time at which Create's periodic sweep judges
// sessions dead. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(m *Store) {
		if now != nil {
			m.clock = now
		}
	}
}

// New returns an empty Store.
func New(opts ...Option) *Store {
	m := &Store{
		clock:     time.Now,
		sessions:  map[string]*store.Session{},
		bySubject: map[string]map[string]struct{}{},
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Writes returns how many calls have changed the stored state so far: each
// Create, each Touch that recorded a use, each successful Rotate, and each
// Revoke, RevokeSubject or Sweep that deleted at least one session (a
// Create whose periodic sweep deleted some counts twice). It is for tests
// (for example of Touch throttling) and metrics.
func (m *Store) Writes() int64 { return m.writes.Load() }

// Create implements store.Store. It sets s.ID on success and stores a deep
// copy of s; Claims are stored as encoding/json decodes them, and a Claims
// value that cannot be encoded is an error.
//
// The subject's sessions that are dead at s.CreatedAt (Create takes no
// now; CreatedAt is the login instant) are deleted. With max > 0, the
// subject's live sessions are then cut to the first max in List order
// (CreatedAt descending, then ID ascending), the new session always
// staying: the oldest others are deleted, ties in CreatedAt deleting the
// greatest ID first. Every so often (after as many Creates as there are
// sessions, at least 1024) Create also sweeps every dead session, so the
// store does not grow without bound when nobody calls Sweep: amortised,
// O(1) per Create.
func (m *Store) Create(ctx context.Context, s *store.Session, max int) error {
	if err := m.usable(ctx); err != nil {
		return err
	}
	if s == nil {
		return errors.New("memstore: Create with a nil session")
	}
	c, err := cloneIn(s)
	if err != nil {
		return err
	}
	id := store.NewID()

	m.mu.Lock()
	for m.sessions[id] != nil {
		id = store.NewID()
	}
	c.ID = id
	m.sessions[id] = c
	ids := m.bySubject[c.Subject]
	if ids == nil {
		ids = map[string]struct{}{}
		m.bySubject[c.Subject] = ids
	}
	ids[id] = struct{}{}
	m.trim(c, max)
	swept := 0
	if m.sinceSweep++; m.sinceSweep >= max2(1024, len(m.sessions)) {
		// At the earlier of the login's time and the store's clock, so a
		// caller whose clock runs ahead cannot sweep live sessions.
		swept = m.sweep(minTime(c.CreatedAt, m.clock()))
	}
	m.mu.Unlock()
	if swept > 0 {
		m.writes.Add(1)
	}

	m.writes.Add(1)
	s.ID = id
	return nil
}

// trim deletes the sessions of c's subject that are dead at c.CreatedAt
// (except c itself) and, with max > 0, the live ones beyond the first max
// in List order. m.mu must be held.
func (m *Store) trim(c *store.Session, max int) {
	ref := c.CreatedAt
	ids := m.bySubject[c.Subject]
	live := make([]*store.Session, 0, len(ids))
	for id := range ids {
		x := m.sessions[id]
		switch {
		case x.Live(ref):
			live = append(live, x)
		case x != c:
			m.remove(x) // deleting during range is allowed
		}
	}
	if max <= 0 || len(live) <= max {
		return
	}
	// The new session always stays: evict the oldest of the others.
	slices.SortFunc(live, func(a, b *store.Session) int {
		switch {
		case a == c:
			return -1
		case b == c:
			return 1
		}
		return listOrder(a, b)
	})
	for _, x := range live[max:] {
		m.remove(x)
	}
}

// remove deletes x from both indexes. m.mu must be held.
func (m *Store) remove(x *store.Session) {
	delete(m.sessions, x.ID)
	if ids := m.bySubject[x.Subject]; ids != nil {
		delete(ids, x.ID)
		if len(ids) == 0 {
			delete(m.bySubject, x.Subject)
		}
	}
}

// lookup returns the session with id if it is live at now. m.mu must be
// held.
func (m *Store) lookup(id string, now time.Time) (*store.Session, error) {
	x := m.sessions[id]
	if x == nil || !x.Live(now) {
		return nil, store.ErrNotFound
	}
	return x, nil
}

// Get implements store.Store. The session returned is a deep copy.
func (m *Store) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	if err := m.usable(ctx); err != nil {
		return nil, err
	}
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	m.mu.Lock()
	x, err := m.lookup(id, now)
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	c := cloneOut(x)
	return &c, nil
}

// Touch implements store.Store.
func (m *Store) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	if err := m.usable(ctx); err != nil {
		return err
	}
	if !store.ValidID(id) {
		return store.ErrNotFound
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	x, err := m.lookup(id, now)
	if err != nil {
		return err
	}
	if now.Sub(x.LastUsedAt) < every {
		return nil
	}
	n := *x
	n.LastUsedAt = now.Round(0)
	n.IdleUntil = minTime(now.Add(idle), x.ExpiresAt).Round(0)
	m.sessions[id] = &n
	m.writes.Add(1)
	return nil
}

// Rotate implements store.Store. IdleUntil is capped at the session's
// ExpiresAt, and KeepSpent <= 0 keeps no spent hash.
func (m *Store) Rotate(ctx context.Context, id string, r store.Rotation, now time.Time) error {
	if err := m.usable(ctx); err != nil {
		return err
	}
	if !store.ValidID(id) {
		return store.ErrNotFound
	}
	// Copy the caller's slices before locking.
	old := bytes.Clone(r.Old)
	refresh := bytes.Clone(r.RefreshHash)
	secret := bytes.Clone(r.SecretHash)

	m.mu.Lock()
	defer m.mu.Unlock()
	x, err := m.lookup(id, now)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(x.RefreshHash, old) != 1 {
		return store.ErrConflict
	}
	n := *x
	n.RefreshHash = refresh
	n.SecretHash = secret
	n.AccessExpiresAt = r.AccessExpiresAt.Round(0)
	n.IdleUntil = minTime(r.IdleUntil, x.ExpiresAt).Round(0)
	n.FreshUntil = r.FreshUntil.Round(0)
	n.LastUsedAt, n.RotatedAt = now.Round(0), now.Round(0)
	n.Spent = nil
	if r.KeepSpent > 0 {
		k := min(r.KeepSpent, len(x.Spent)+1)
		n.Spent = make([][]byte, 0, k)
		n.Spent = append(n.Spent, old)
		// The inner slices are shared with x; no stored slice is ever
		// modified in place.
		n.Spent = append(n.Spent, x.Spent[:k-1]...)
	}
	m.sessions[id] = &n
	m.writes.Add(1)
	return nil
}

// Revoke implements store.Store.
func (m *Store) Revoke(ctx context.Context, subject, id string) error {
	if err := m.usable(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	x := m.sessions[id]
	hit := x != nil && x.Subject == subject
	if hit {
		m.remove(x)
	}
	m.mu.Unlock()
	if hit {
		m.writes.Add(1)
	}
	return nil
}

// RevokeSubject implements store.Store. The count is of sessions live at
// the Store's clock (see WithClock), since the method takes no now; dead
// sessions are deleted too but not counted.
func (m *Store) RevokeSubject(ctx context.Context, subject, keep string) (int, error) {
	if err := m.usable(ctx); err != nil {
		return 0, err
	}
	now := m.clock()
	n, deleted := 0, false
	m.mu.Lock()
	for id := range m.bySubject[subject] {
		if id == keep {
			continue
		}
		x := m.sessions[id]
		if x.Live(now) {
			n++
		}
		m.remove(x)
		deleted = true
	}
	m.mu.Unlock()
	if deleted {
		m.writes.Add(1)
	}
	return n, nil
}

// List implements store.Store. It returns deep copies, and a non-nil empty
// slice when the subject has no live session.
func (m *Store) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	if err := m.usable(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	ids := m.bySubject[subject]
	live := make([]*store.Session, 0, len(ids))
	for id := range ids {
		if x := m.sessions[id]; x.Live(now) {
			live = append(live, x)
		}
	}
	m.mu.Unlock()

	slices.SortFunc(live, listOrder)
	out := make([]store.Session, len(live))
	for i, x := range live {
		out[i] = cloneOut(x)
	}
	return out, nil
}

// Sweep deletes every session that is not live at now and returns how
// many it deleted. Dead sessions already read as absent; Sweep only frees
// their memory. It costs O(all sessions) under the Store's lock, so call
// it from a timer (every few minutes, say) rather than per request.
func (m *Store) Sweep(now time.Time) int {
	m.mu.Lock()
	n := m.sweep(now)
	m.mu.Unlock()
	if n > 0 {
		m.writes.Add(1)
	}
	return n
}

// sweep removes every session that is not live at now. m.mu must be held.
func (m *Store) sweep(now time.Time) int {
	n := 0
	for _, x := range m.sessions {
		if !x.Live(now) {
			m.remove(x)
			n++
		}
	}
	m.sinceSweep = 0
	return n
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// listOrder sorts newest first (CreatedAt descending), ties by ID
// ascending.
func listOrder(a, b *store.Session) int {
	if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
		return c
	}
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

// usable returns the error a call must fail with: a done ctx, or a closed
// Store.
func (m *Store) usable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	if m.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Close drops every session and makes every later call fail with
// ErrClosed, as a closed database client would: a request checked after
// shutdown gets an outage, never "not found". Auth.Close calls it for a
// store opened from the memory: URL. It is idempotent.
func (m *Store) Close() error {
	m.closed.Store(true)
	m.mu.Lock()
	m.sessions = map[string]*store.Session{}
	m.bySubject = map[string]map[string]struct{}{}
	m.mu.Unlock()
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// cloneIn returns the copy of s to store: byte slices copied, Claims
// round-tripped through encoding/json, monotonic clock readings stripped
// so that times compare by wall clock as in any durable store.
func cloneIn(s *store.Session) (*store.Session, error) {
	c := *s
	if s.Claims != nil {
		b, err := json.Marshal(s.Claims)
		if err != nil {
			return nil, fmt.Errorf("memstore: claims: %w", err)
		}
		c.Claims = nil
		if err := json.Unmarshal(b, &c.Claims); err != nil {
			return nil, fmt.Errorf("memstore: claims: %w", err)
		}
	}
	c.SecretHash = bytes.Clone(s.SecretHash)
	c.RefreshHash = bytes.Clone(s.RefreshHash)
	c.Spent = cloneSpent(s.Spent)
	for _, t := range []*time.Time{&c.CreatedAt, &c.LastUsedAt, &c.RotatedAt, &c.FreshUntil, &c.AccessExpiresAt, &c.IdleUntil, &c.ExpiresAt} {
		*t = t.Round(0)
	}
	return &c, nil
}

// cloneOut returns a deep copy of a stored session.
func cloneOut(x *store.Session) store.Session {
	c := *x
	c.SecretHash = bytes.Clone(x.SecretHash)
	c.RefreshHash = bytes.Clone(x.RefreshHash)
	c.Spent = cloneSpent(x.Spent)
	if x.Claims != nil {
		c.Claims = cloneJSON(x.Claims).(map[string]any)
	}
	return c
}

func cloneSpent(s [][]byte) [][]byte {
	if s == nil {
		return nil
	}
	c := make([][]byte, len(s))
	for i, b := range s {
		c[i] = bytes.Clone(b)
	}
	return c
}

// cloneJSON deep-copies a value as encoding/json decodes it into any:
// maps and slices are copied, and the rest (string, float64, bool, nil)
// are immutable.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = cloneJSON(e)
		}
		return c
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = cloneJSON(e)
		}
		return c
	}
	return v
}
