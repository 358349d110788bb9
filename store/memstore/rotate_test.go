package memstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

func TestRotate(t *testing.T) {
	ctx := context.Background()
	now := t0.Add(10 * time.Minute)
	good := func() store.Rotation {
		return store.Rotation{
			Old:             hash("refresh"),
			RefreshHash:     hash("refresh 2"),
			SecretHash:      hash("secret 2"),
			AccessExpiresAt: now.Add(15 * time.Minute),
			IdleUntil:       now.Add(time.Hour),
			KeepSpent:       5,
		}
	}

	t.Run("applies", func(t *testing.T) {
		m := New()
		s := newSession("alice", t0)
		want := *s
		id := mustCreate(t, m, s, 0)
		before := snap(m)
		if err := m.Rotate(ctx, id, good(), now); err != nil {
			t.Fatalf("Rotate = %v", err)
		}
		want.ID = id
		want.RefreshHash = hash("refresh 2")
		want.SecretHash = hash("secret 2")
		want.AccessExpiresAt = now.Add(15 * time.Minute)
		want.IdleUntil = now.Add(time.Hour)
		want.FreshUntil = time.Time{}
		want.LastUsedAt = now
		want.Spent = [][]byte{hash("refresh")}
		sameSession(t, mustGet(t, m, id, now), &want)
		if n := before.changes(m); n != 1 {
			t.Errorf("Rotate made %d changes, want 1", n)
		}
	})

	t.Run("nil SecretHash stays nil", func(t *testing.T) {
		m := New()
		s := newSession("alice", t0)
		s.SecretHash = nil
		id := mustCreate(t, m, s, 0)
		r := good()
		r.SecretHash, r.AccessExpiresAt = nil, time.Time{}
		if err := m.Rotate(ctx, id, r, now); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, m, id, now); got.SecretHash != nil || !got.AccessExpiresAt.IsZero() {
			t.Fatalf("SecretHash, AccessExpiresAt = %x, %v; want nil, zero", got.SecretHash, got.AccessExpiresAt)
		}
	})

	t.Run("IdleUntil capped at ExpiresAt", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newSession("alice", t0), 0)
		r := good()
		r.IdleUntil = t0.Add(48 * time.Hour)
		if err := m.Rotate(ctx, id, r, now); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, m, id, now); !got.IdleUntil.Equal(t0.Add(24 * time.Hour)) {
			t.Fatalf("IdleUntil = %v, want ExpiresAt %v", got.IdleUntil, t0.Add(24*time.Hour))
		}
	})

	t.Run("FreshUntil replaced", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newSession("alice", t0), 0)
		r := good()
		r.FreshUntil = now.Add(time.Minute)
		if err := m.Rotate(ctx, id, r, now); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, m, id, now); !got.FreshUntil.Equal(now.Add(time.Minute)) {
			t.Fatalf("FreshUntil = %v, want %v", got.FreshUntil, now.Add(time.Minute))
		}
	})

	refused := []struct {
		name string
		old  []byte
		now  time.Time
		want error
	}{
		{"wrong old hash", hash("other"), now, store.ErrConflict},
		{"nil old hash", nil, now, store.ErrConflict},
		{"truncated old hash", hash("refresh")[:31], now, store.ErrConflict},
		{"idle-expired, right hash", hash("refresh"), t0.Add(time.Hour), store.ErrNotFound},
		{"idle-expired, wrong hash", hash("other"), t0.Add(time.Hour), store.ErrNotFound},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			s := newSession("alice", t0)
			want := *s
			id := mustCreate(t, m, s, 0)
			want.ID = id
			before := snap(m)
			r := good()
			r.Old = tc.old
			if err := m.Rotate(ctx, id, r, tc.now); !errors.Is(err, tc.want) {
				t.Fatalf("Rotate = %v, want %v", err, tc.want)
			}
			if n := before.changes(m); n != 0 {
				t.Errorf("a refused Rotate made %d changes", n)
			}
			sameSession(t, mustGet(t, m, id, t0), &want)
		})
	}

	t.Run("a spent hash conflicts", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newSession("alice", t0), 0)
		if err := m.Rotate(ctx, id, good(), now); err != nil {
			t.Fatal(err)
		}
		if err := m.Rotate(ctx, id, good(), now); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second Rotate from the same Old = %v, want ErrConflict", err)
		}
	})

	t.Run("spent bounded, newest first", func(t *testing.T) {
		for _, tc := range []struct {
			keep int
			want []string // after rotating h0 -> h1 -> ... -> h5
		}{
			{-1, nil},
			{0, nil},
			{1, []string{"h4"}},
			{3, []string{"h4", "h3", "h2"}},
			{5, []string{"h4", "h3", "h2", "h1", "h0"}},
			{100, []string{"h4", "h3", "h2", "h1", "h0"}},
		} {
			t.Run(fmt.Sprintf("keep %d", tc.keep), func(t *testing.T) {
				m := New()
				s := newSession("alice", t0)
				s.RefreshHash = hash("h0")
				id := mustCreate(t, m, s, 0)
				for i := range 5 {
					r := store.Rotation{
						Old:         hash(fmt.Sprintf("h%d", i)),
						RefreshHash: hash(fmt.Sprintf("h%d", i+1)),
						IdleUntil:   now.Add(time.Hour),
						KeepSpent:   tc.keep,
					}
					if err := m.Rotate(ctx, id, r, now); err != nil {
						t.Fatalf("rotation %d: %v", i, err)
					}
				}
				got := mustGet(t, m, id, now)
				if len(got.Spent) != len(tc.want) {
					t.Fatalf("Spent has %d hashes, want %d", len(got.Spent), len(tc.want))
				}
				for i, w := range tc.want {
					if !bytes.Equal(got.Spent[i], hash(w)) {
						t.Errorf("Spent[%d] = %x, want hash of %s", i, got.Spent[i], w)
					}
				}
				if !bytes.Equal(got.RefreshHash, hash("h5")) {
					t.Errorf("RefreshHash is not h5")
				}
			})
		}
	})

	t.Run("KeepSpent shortens a longer Spent", func(t *testing.T) {
		m := New()
		s := newSession("alice", t0)
		s.Spent = [][]byte{hash("a"), hash("b"), hash("c"), hash("d")}
		id := mustCreate(t, m, s, 0)
		r := good()
		r.KeepSpent = 2
		if err := m.Rotate(ctx, id, r, now); err != nil {
			t.Fatal(err)
		}
		got := mustGet(t, m, id, now).Spent
		if len(got) != 2 || !bytes.Equal(got[0], hash("refresh")) || !bytes.Equal(got[1], hash("a")) {
			t.Fatalf("Spent = %x, want [refresh a]", got)
		}
	})
}

func TestRotateConcurrent(t *testing.T) {
	const callers = 64
	ctx := context.Background()
	for round := range 10 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			m := New()
			id := mustCreate(t, m, newSession("alice", t0), 0)
			now := t0.Add(time.Minute)
			errs := make([]error, callers)
			var start, done sync.WaitGroup
			start.Add(1)
			for i := range callers {
				done.Go(func() {
					start.Wait()
					r := store.Rotation{
						Old:         hash("refresh"),
						RefreshHash: hash(fmt.Sprintf("winner %d", i)),
						IdleUntil:   now.Add(time.Hour),
						KeepSpent:   5,
					}
					errs[i] = m.Rotate(ctx, id, r, now)
				})
			}
			start.Done()
			done.Wait()

			winner := -1
			for i, err := range errs {
				switch {
				case err == nil:
					if winner >= 0 {
						t.Fatalf("callers %d and %d both won", winner, i)
					}
					winner = i
				case !errors.Is(err, store.ErrConflict):
					t.Fatalf("caller %d: %v, want nil or ErrConflict", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no caller won")
			}
			got := mustGet(t, m, id, now)
			if !bytes.Equal(got.RefreshHash, hash(fmt.Sprintf("winner %d", winner))) {
				t.Fatal("stored RefreshHash is not the winner's")
			}
			// A second rotation applied would have prepended a second
			// spent hash.
			if len(got.Spent) != 1 || !bytes.Equal(got.Spent[0], hash("refresh")) {
				t.Fatalf("Spent = %x, want just the old hash", got.Spent)
			}
		})
	}
}
