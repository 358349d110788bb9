package latch

import (
	"testing"
	"time"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

// trustedCache returns a cache over a memory store once it trusts
// itself; closed when t ends.
func trustedCache(t *testing.T) *sessionCache {
	t.Helper()
	c := newSessionCache(memstore.New(), time.Minute, nil)
	t.Cleanup(c.close)
	deadline := time.Now().Add(5 * time.Second)
	for c.sinceStart() >= c.trusted.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the cache never trusted itself")
		}
		time.Sleep(2 * time.Millisecond)
	}
	return c
}

// TestCacheOlderFillNeverOverwritesNewer: a read that began before a
// report (a refresh's Rotate) and ends after a later read filled the
// entry must not put the session back as it was before the report: the
// old opaque access secret would be accepted again.
func TestCacheOlderFillNeverOverwritesNewer(t *testing.T) {
	c := trustedCache(t)
	now := time.Now()
	old := &store.Session{ID: store.NewID(), Subject: "u", SecretHash: []byte("old"), IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}
	rotated := *old
	rotated.SecretHash = []byte("new")
	a := c.begin() // request A reads the session before the rotation
	c.dropSession(old.ID)
	b := c.begin() // request B reads it after
	c.fill(b, old.ID, &rotated)
	c.fill(a, old.ID, old) // A ends late
	got := c.get(old.ID, now)
	if got == nil || string(got.SecretHash) != "new" {
		t.Fatalf("cached %v, want the rotated session", got)
	}
}

// TestCacheTombstonesBounded: while fills are always in flight (a stream
// of requests keeps one open), reports do not grow the cache without
// bound: past maxTombstones every fill in flight is dropped instead.
func TestCacheTombstonesBounded(t *testing.T) {
	c := trustedCache(t)
	hold := c.begin()
	id := store.NewID()
	for range 3 * maxTombstones {
		c.dropSession(store.NewID())
	}
	c.mu.RLock()
	n, tn := len(c.entries), len(c.tombstones)
	c.mu.RUnlock()
	if tn > maxTombstones || n > maxTombstones {
		t.Fatalf("%d entries and %d tombstones after %d reports with a fill in flight, want at most %d", n, tn, 3*maxTombstones, maxTombstones)
	}
	now := time.Now()
	c.fill(hold, id, &store.Session{ID: id, Subject: "u", IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)})
	if c.get(id, now) != nil {
		t.Error("a fill in flight across the dropped tombstones was cached")
	}
}
