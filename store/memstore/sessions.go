package memstore

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"slices"
	"time"

	"github.com/latchauth/latch/store"
)

// The methods of store.Store. Every change stores a new *store.Session
// (see Store.sessions); lookups judge liveness with the caller's now.

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
// O(1) per Create (see sweepSometimes).
func (m *Store) Create(ctx context.Context, s *store.Session, max int) error {
	if err := m.gate.Enter(ctx, "create"); err != nil {
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
	m.sweepSometimes(c.CreatedAt)
	m.mu.Unlock()
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
	m.hub.sendSessions(live[max:]...)
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
	if err := m.gate.EnterID(ctx, "get", id); err != nil {
		return nil, err
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
	if err := m.gate.EnterID(ctx, "touch", id); err != nil {
		return err
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
	if x.IdleTimeout > 0 {
		idle = min(idle, x.IdleTimeout)
	}
	n := *x
	n.LastUsedAt = now.Round(0)
	n.IdleUntil = minTime(now.Add(idle), x.ExpiresAt).Round(0)
	m.sessions[id] = &n
	return nil
}

// Freshen implements store.Store.
func (m *Store) Freshen(ctx context.Context, id string, until, now time.Time) error {
	if err := m.gate.EnterID(ctx, "freshen", id); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	x, err := m.lookup(id, now)
	if err != nil {
		return err
	}
	n := *x
	n.FreshUntil = until.Round(0)
	m.sessions[id] = &n
	m.hub.sendSessions(&n)
	return nil
}

// Rotate implements store.Store. IdleUntil is capped at the session's
// ExpiresAt, and KeepSpent <= 0 keeps no spent hash.
func (m *Store) Rotate(ctx context.Context, id string, r store.Rotation, now time.Time) error {
	if err := m.gate.EnterID(ctx, "rotate", id); err != nil {
		return err
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
	m.hub.sendSessions(&n)
	return nil
}

// Revoke implements store.Store.
func (m *Store) Revoke(ctx context.Context, subject, id string) error {
	if err := m.gate.Enter(ctx, "revoke"); err != nil {
		return err
	}
	m.mu.Lock()
	if x := m.sessions[id]; x != nil && x.Subject == subject {
		m.remove(x)
		m.hub.sendSessions(x)
	}
	m.mu.Unlock()
	return nil
}

// RevokeSubject implements store.Store. The count is of sessions live at
// the Store's clock (see WithClock), since the method takes no now; dead
// sessions are deleted too but not counted.
func (m *Store) RevokeSubject(ctx context.Context, subject, keep string) (int, error) {
	if err := m.gate.Enter(ctx, "revoke subject"); err != nil {
		return 0, err
	}
	now := m.clock()
	n := 0
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
		m.hub.sendSessions(x)
	}
	m.mu.Unlock()
	return n, nil
}

// List implements store.Store. It returns deep copies, and a non-nil empty
// slice when the subject has no live session.
func (m *Store) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	if err := m.gate.Enter(ctx, "list"); err != nil {
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

// Sweep deletes every session that is not live at now, and every
// store.Throttle record expired at now, and returns how many of both it
// deleted. Dead sessions and expired records already read as absent;
// Sweep only frees their memory. It costs O(all sessions) under the Store's lock, so call
// it from a timer (every few minutes, say) rather than per request.
func (m *Store) Sweep(now time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sweep(now)
}

// sweep removes every session that is not live at now and every strike
// record expired at now. m.mu must be held.
func (m *Store) sweep(now time.Time) int {
	n := 0
	for _, x := range m.sessions {
		if !x.Live(now) {
			m.remove(x)
			n++
		}
	}
	for k, r := range m.strikes {
		if !r.live(now) {
			delete(m.strikes, k)
			n++
		}
	}
	m.sinceSweep = 0
	return n
}

// sweepSometimes counts one write at now (a Create or an AddStrike) and
// runs the full sweep after as many writes as there are sessions and
// strike records, at least 1024: amortised O(1) a write. It sweeps at the
// earlier of now and the Store's clock, so that a caller whose clock runs
// ahead cannot sweep what is live. m.mu must be held.
func (m *Store) sweepSometimes(now time.Time) {
	if m.sinceSweep++; m.sinceSweep >= 1024 && m.sinceSweep >= len(m.sessions)+len(m.strikes) {
		m.sweep(minTime(now, m.clock()))
	}
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

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
