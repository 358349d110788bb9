package memstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		subject string
		id      func(alice, bob string) string
		gone    string // "alice", "bob" or ""
	}{
		{"own session", "alice", func(a, b string) string { return a }, "alice"},
		{"another subject's session", "bob", func(a, b string) string { return a }, ""},
		{"subject differs by case", "Alice", func(a, b string) string { return a }, ""},
		{"subject is a prefix", "alic", func(a, b string) string { return a }, ""},
		{"empty subject", "", func(a, b string) string { return a }, ""},
		{"absent id", "alice", func(a, b string) string { return store.NewID() }, ""},
		{"malformed id", "alice", func(a, b string) string { return "not an id" }, ""},
		{"empty id", "alice", func(a, b string) string { return "" }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			alice := mustCreate(t, m, newSession("alice", t0), 0)
			alice2 := mustCreate(t, m, newSession("alice", t0), 0)
			bob := mustCreate(t, m, newSession("bob", t0), 0)
			before := snap(m)
			id := tc.id(alice, bob)
			for i := range 2 { // idempotent
				if err := m.Revoke(ctx, tc.subject, id); err != nil {
					t.Fatalf("Revoke #%d = %v, want nil", i+1, err)
				}
			}
			if tc.gone == "alice" {
				assertNotFound(t, m, alice, t0)
			} else {
				mustGet(t, m, alice, t0)
			}
			mustGet(t, m, alice2, t0)
			mustGet(t, m, bob, t0)
			want := 0
			if tc.gone != "" {
				want = 1
			}
			if n := before.changes(m); n != want {
				t.Errorf("two Revokes made %d changes, want %d", n, want)
			}
			checkIndex(t, m)
		})
	}

	t.Run("dead session of the subject", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newSession("alice", t0), 0)
		if err := m.Revoke(ctx, "alice", id); err != nil {
			t.Fatal(err)
		}
		if n := stored(m, "alice"); n != 0 {
			t.Fatalf("%d sessions left in memory, want 0", n)
		}
		checkIndex(t, m)
	})
}

func TestRevokeSubject(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name      string
		keep      func(alice []string, bob string) string
		wantCount int
		wantLeft  func(alice []string) []string
	}{
		{"keep none", func(a []string, b string) string { return "" }, 5, func(a []string) []string { return nil }},
		{"keep one", func(a []string, b string) string { return a[2] }, 4, func(a []string) []string { return a[2:3] }},
		{"keep another subject's id", func(a []string, b string) string { return b }, 5, func(a []string) []string { return nil }},
		{"keep an absent id", func(a []string, b string) string { return store.NewID() }, 5, func(a []string) []string { return nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New(WithClock(func() time.Time { return t0 }))
			var alice []string
			for i := range 5 {
				alice = append(alice, mustCreate(t, m, newSession("alice", t0.Add(-time.Duration(i)*time.Second)), 0))
			}
			bob := mustCreate(t, m, newSession("bob", t0), 0)
			bob2 := mustCreate(t, m, newSession("bob", t0), 0)
			other := mustCreate(t, m, newSession("alice2", t0), 0)

			n, err := m.RevokeSubject(ctx, "alice", tc.keep(alice, bob))
			if err != nil || n != tc.wantCount {
				t.Fatalf("RevokeSubject = %d, %v; want %d, nil", n, err, tc.wantCount)
			}
			var left []string
			for _, s := range mustList(t, m, "alice", t0) {
				left = append(left, s.ID)
			}
			if want := tc.wantLeft(alice); !slices.Equal(left, want) {
				t.Fatalf("alice has %v left, want %v", left, want)
			}
			for _, id := range []string{bob, bob2, other} {
				mustGet(t, m, id, t0)
			}
			// Idempotent: nothing more to delete.
			if n, err := m.RevokeSubject(ctx, "alice", tc.keep(alice, bob)); err != nil || n != 0 {
				t.Fatalf("second RevokeSubject = %d, %v; want 0, nil", n, err)
			}
			checkIndex(t, m)
		})
	}

	t.Run("counts only live sessions", func(t *testing.T) {
		m := New(WithClock(func() time.Time { return t0.Add(50 * time.Minute) }))
		for i := range 5 {
			// Idle until t0+20m, t0+40m, ... t0+100m: the first two have
			// idled out by t0+50m.
			s := newSession("alice", t0)
			s.IdleUntil = t0.Add(time.Duration(i+1) * 20 * time.Minute)
			mustCreate(t, m, s, 0)
		}
		if n := stored(m, "alice"); n != 5 {
			t.Fatalf("%d sessions in memory before RevokeSubject, want 5", n)
		}
		n, err := m.RevokeSubject(ctx, "alice", "")
		if err != nil || n != 3 {
			t.Fatalf("RevokeSubject = %d, %v; want 3, nil", n, err)
		}
		if left := stored(m, "alice"); left != 0 {
			t.Fatalf("%d sessions left in memory, want 0", left)
		}
	})

	t.Run("unknown subject", func(t *testing.T) {
		m := New()
		mustCreate(t, m, newSession("alice", t0), 0)
		before := snap(m)
		if n, err := m.RevokeSubject(ctx, "nobody", ""); err != nil || n != 0 {
			t.Fatalf("RevokeSubject = %d, %v; want 0, nil", n, err)
		}
		if before.changes(m) != 0 {
			t.Fatal("RevokeSubject of nobody wrote")
		}
	})
}
