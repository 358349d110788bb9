package redisstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
)

func session(subject string, now time.Time) *store.Session {
	return &store.Session{
		Subject:         subject,
		Device:          store.Device{Label: "laptop", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", IP: "192.0.2.7"},
		SecretHash:      hash(),
		RefreshHash:     hash(),
		Claims:          map[string]any{"role": "reader"},
		CreatedAt:       now,
		LastUsedAt:      now,
		AccessExpiresAt: now.Add(15 * time.Minute),
		IdleUntil:       now.Add(time.Hour),
		ExpiresAt:       now.Add(24 * time.Hour),
	}
}

func mustCreate(t testing.TB, s *Store, x *store.Session, max int) string {
	t.Helper()
	if err := s.Create(context.Background(), x, max); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return x.ID
}

// TestSlots: a subject's session keys and index share a hash slot, the
// ids carry the subject's tag, braces in a subject do not move the slot,
// and subjects spread over the three masters.
func TestSlots(t *testing.T) {
	c := topologies[1].client(t).(*redis.ClusterClient)
	s := newStore(t, c)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	slot := func(key string) int64 {
		t.Helper()
		n, err := c.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT: %v", err)
		}
		return n
	}
	masters := map[string]int{}
	for i := range 60 {
		sub := fmt.Sprintf("user-%d", i)
		if i == 0 {
			sub = "{x}"
		}
		want := tag(s.keys[0], sub)
		idx := s.indexKey(s.keys[0], sub)
		for range 3 {
			id := mustCreate(t, s, session(sub, now), 0)
			if id[:tagLen] != want {
				t.Fatalf("id %s of %q does not start with its tag %s", id, sub, want)
			}
			if a, b := slot(s.sessionKey(id)), slot(idx); a != b {
				t.Fatalf("subject %q: session key in slot %d, index in slot %d", sub, a, b)
			}
		}
		// The tag chooses the slot, whatever braces the subject holds.
		if got, want := slot(idx), slot("{"+want+"}"); got != want {
			t.Fatalf("subject %q: index in slot %d, want the tag's %d", sub, got, want)
		}
		if i == 0 && slot(idx) == slot("{x}") {
			t.Fatalf("subject {x}: the index is in the slot of x, not of its tag")
		}
		m, err := c.MasterForKey(ctx, idx)
		if err != nil {
			t.Fatal(err)
		}
		masters[m.Options().Addr]++
	}
	if len(masters) != 3 {
		t.Errorf("60 subjects landed on %d masters, want all 3: %v", len(masters), masters)
	}
}

// TestRoutingKeys: a session created under a routing key the Store does
// not know is refused, never served; naming the old key as previous finds
// every session during a change of keys.
func TestRoutingKeys(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		prefix := randomPrefix()
		t.Cleanup(func() { deleteKeys(t, c, prefix) })
		secret := []byte("a secret routing key of 32 bytes")
		mk := func(opts ...Option) *Store {
			s, err := New(c, append([]Option{WithKeyPrefix(prefix)}, opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		def, moving, moved := mk(), mk(WithRoutingKey(secret, []byte(DefaultRoutingKey))), mk(WithRoutingKey(secret))
		// Subjects whose tags differ under the two keys.
		var subs []string
		for i := 0; len(subs) < 5; i++ {
			sub := fmt.Sprintf("user-%d", i)
			if tag([]byte(DefaultRoutingKey), sub) != tag(secret, sub) {
				subs = append(subs, sub)
			}
		}
		for _, sub := range subs {
			a := mustCreate(t, def, session(sub, now), 0)
			b := mustCreate(t, moving, session(sub, now), 0)
			if _, err := moved.Get(ctx, a, now); !errors.Is(err, ErrRoutingKey) || errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get of a session under an unknown routing key = %v, want ErrRoutingKey", err)
			}
			if _, err := def.Get(ctx, b, now); !errors.Is(err, ErrRoutingKey) {
				t.Errorf("Get of a session under an unknown routing key = %v, want ErrRoutingKey", err)
			}
			for _, id := range []string{a, b} {
				if _, err := moving.Get(ctx, id, now); err != nil {
					t.Errorf("Get with the previous key named: %v", err)
				}
			}
			l, err := moving.List(ctx, sub, now)
			if err != nil || len(l) != 2 {
				t.Errorf("List during the change of keys = %d sessions, %v; want 2", len(l), err)
			}
			if n, err := moving.RevokeSubject(ctx, sub, ""); err != nil || n != 2 {
				t.Errorf("RevokeSubject during the change of keys = %d, %v; want 2", n, err)
			}
		}
	})
}

// TestIDs: ids are valid, carry the tag, and differ.
func TestIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := range 10000 {
		tg := tag([]byte(DefaultRoutingKey), fmt.Sprint(i))
		id := newID(tg)
		if !store.ValidID(id) || id[:tagLen] != tg || seen[id] {
			t.Fatalf("newID(%s) = %s", tg, id)
		}
		seen[id] = true
	}
}

// TestBounded: a client ends a call at its context's deadline only with
// ContextTimeoutEnabled; without it latch guards each call.
func TestBounded(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    redis.UniversalClient
		want bool
	}{
		{"client", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), false},
		{"client with context timeouts", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}), true},
		{"cluster", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}), false},
		{"cluster with context timeouts", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true}), true},
		{"ring", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ContextTimeoutEnabled: true}), false},
	} {
		t.Cleanup(func() { tt.c.Close() })
		s, err := New(tt.c)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Bounded(); got != tt.want {
			t.Errorf("%s: Bounded() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
