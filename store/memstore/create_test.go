package memstore

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

func TestCreateGet(t *testing.T) {
	t.Run("round trip", func(t *testing.T) {
		m := New()
		s := newSession("alice", t0)
		s.Spent = [][]byte{hash("spent 1"), hash("spent 0")}
		s.Claims = map[string]any{"role": "admin"}
		want := *s
		id := mustCreate(t, m, s, 0)
		if !store.ValidID(id) {
			t.Fatalf("Create assigned %q, not a valid id", id)
		}
		want.ID = id
		sameSession(t, mustGet(t, m, id, t0), &want)
		if n := (snapshot{}).changes(m); n != 1 {
			t.Errorf("one Create made %d changes, want 1", n)
		}
		checkIndex(t, m)
	})

	t.Run("preset id is replaced", func(t *testing.T) {
		m := New()
		s := newSession("alice", t0)
		preset := store.NewID()
		s.ID = preset
		id := mustCreate(t, m, s, 0)
		if id == preset {
			t.Fatalf("Create kept the caller's id %s", preset)
		}
		assertNotFound(t, m, preset, t0)
		mustGet(t, m, id, t0)
	})

	t.Run("ids are unique", func(t *testing.T) {
		m := New()
		seen := map[string]bool{}
		for range 1000 {
			id := mustCreate(t, m, newSession("alice", t0), 0)
			if seen[id] {
				t.Fatalf("id %s assigned twice", id)
			}
			seen[id] = true
		}
		if n := stored(m, "alice"); n != 1000 {
			t.Fatalf("stored %d sessions, want 1000", n)
		}
	})

	t.Run("hashes byte for byte", func(t *testing.T) {
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		cases := []struct {
			name            string
			secret, refresh []byte
			spent           [][]byte
		}{
			{"sha256", hash("a"), hash("b"), [][]byte{hash("c")}},
			{"nil secret (jwt mode)", nil, hash("b"), nil},
			{"zero bytes", make([]byte, 32), make([]byte, 32), [][]byte{make([]byte, 32), make([]byte, 32)}},
			{"every byte value", all, slices.Clone(all[:32]), [][]byte{all[224:], all[:32]}},
			{"high bytes", bytes.Repeat([]byte{0xff, 0x80, 0x00, 0x7f}, 8), bytes.Repeat([]byte{0xc3, 0x28}, 16), nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				m := New()
				s := newSession("alice", t0)
				s.SecretHash, s.RefreshHash, s.Spent = tc.secret, tc.refresh, tc.spent
				want := *s
				want.ID = mustCreate(t, m, s, 0)
				got := mustGet(t, m, want.ID, t0)
				sameSession(t, got, &want)
				if tc.secret == nil && got.SecretHash != nil {
					t.Errorf("nil SecretHash came back as %x", got.SecretHash)
				}
			})
		}
	})

	t.Run("times in any location", func(t *testing.T) {
		m := New()
		zone := time.FixedZone("UTC+5:45", 5*3600+45*60)
		s := newSession("alice", t0.In(zone).Add(123456789*time.Nanosecond))
		want := *s
		want.ID = mustCreate(t, m, s, 0)
		sameSession(t, mustGet(t, m, want.ID, t0), &want)
	})

	t.Run("absent", func(t *testing.T) {
		m := New()
		real := mustCreate(t, m, newSession("alice", t0), 0)
		before := snap(m)
		flipped := []byte(real)
		if flipped[0] >= 'a' {
			flipped[0] -= 'a' - 'A'
		} else if flipped[0] >= 'A' {
			flipped[0] += 'a' - 'A'
		} else {
			flipped[0] = 'x'
		}
		ids := []struct{ name, id string }{
			{"unknown valid id", store.NewID()},
			{"case changed", string(flipped)},
			{"empty", ""},
			{"short", real[:store.IDLen-1]},
			{"long", real + "0"},
			{"punctuation", "abc-def_ghi.jkl+mno/pq"},
			{"unicode", "ééééééééééé"},
			{"sql", "' OR '1'='1' --xxxxxxxxx"},
			{"nul", strings.Repeat("\x00", store.IDLen)},
		}
		for _, tc := range ids {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				assertNotFound(t, m, tc.id, t0)
				if err := m.Touch(ctx, tc.id, t0, time.Hour, 0); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Touch = %v, want ErrNotFound", err)
				}
				r := store.Rotation{Old: hash("refresh"), RefreshHash: hash("new"), IdleUntil: t0.Add(time.Hour), KeepSpent: 5}
				if err := m.Rotate(ctx, tc.id, r, t0); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Rotate = %v, want ErrNotFound", err)
				}
			})
		}
		mustGet(t, m, real, t0)
		if n := before.changes(m); n != 0 {
			t.Errorf("calls on absent ids made %d changes, want 0", n)
		}
	})

	t.Run("nil session", func(t *testing.T) {
		m := New()
		err := m.Create(context.Background(), nil, 0)
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Fatalf("Create(nil) = %v, want a backend error", err)
		}
	})
}

func TestDeepCopy(t *testing.T) {
	newClaimed := func() *store.Session {
		s := newSession("alice", t0)
		s.Spent = [][]byte{hash("spent")}
		s.Claims = map[string]any{
			"nested": map[string]any{"k": "v"},
			"list":   []any{"a", map[string]any{"x": 1.0}},
		}
		return s
	}
	// corrupt mutates every mutable part of s.
	corrupt := func(s *store.Session) {
		s.SecretHash[0] ^= 0xff
		s.RefreshHash[0] ^= 0xff
		s.Spent[0][0] ^= 0xff
		s.Spent = append(s.Spent, hash("extra"))
		s.Claims["nested"].(map[string]any)["k"] = "changed"
		s.Claims["list"].([]any)[0] = "changed"
		s.Claims["list"].([]any)[1].(map[string]any)["x"] = 2.0
		s.Claims["added"] = true
		s.Device.Label = "changed"
		s.ExpiresAt = s.ExpiresAt.Add(time.Hour)
	}
	want := func(id string) *store.Session {
		w := newClaimed()
		w.ID = id
		return w
	}

	t.Run("input mutated after Create", func(t *testing.T) {
		m := New()
		s := newClaimed()
		id := mustCreate(t, m, s, 0)
		corrupt(s)
		sameSession(t, mustGet(t, m, id, t0), want(id))
	})
	t.Run("Get result mutated", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newClaimed(), 0)
		corrupt(mustGet(t, m, id, t0))
		sameSession(t, mustGet(t, m, id, t0), want(id))
	})
	t.Run("List result mutated", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newClaimed(), 0)
		l := mustList(t, m, "alice", t0)
		corrupt(&l[0])
		sameSession(t, mustGet(t, m, id, t0), want(id))
	})
	t.Run("Rotation mutated after Rotate", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newClaimed(), 0)
		r := store.Rotation{Old: hash("refresh"), RefreshHash: hash("r2"), SecretHash: hash("s2"), IdleUntil: t0.Add(time.Hour), KeepSpent: 5}
		if err := m.Rotate(context.Background(), id, r, t0); err != nil {
			t.Fatal(err)
		}
		r.Old[0] ^= 0xff
		r.RefreshHash[0] ^= 0xff
		r.SecretHash[0] ^= 0xff
		got := mustGet(t, m, id, t0)
		if !bytes.Equal(got.RefreshHash, hash("r2")) || !bytes.Equal(got.SecretHash, hash("s2")) || !bytes.Equal(got.Spent[0], hash("refresh")) {
			t.Fatalf("caller's Rotation slices leaked into the store: %x %x %x", got.RefreshHash, got.SecretHash, got.Spent[0])
		}
	})
	t.Run("versions do not share spent hashes", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newClaimed(), 0)
		before := mustGet(t, m, id, t0)
		r := store.Rotation{Old: hash("refresh"), RefreshHash: hash("r2"), IdleUntil: t0.Add(time.Hour), KeepSpent: 5}
		if err := m.Rotate(context.Background(), id, r, t0); err != nil {
			t.Fatal(err)
		}
		after := mustGet(t, m, id, t0)
		after.Spent[1][0] ^= 0xff
		if !bytes.Equal(mustGet(t, m, id, t0).Spent[1], before.Spent[0]) {
			t.Fatal("mutating a returned spent hash changed the stored one")
		}
	})
}
