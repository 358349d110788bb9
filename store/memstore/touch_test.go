package memstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

func TestExpiry(t *testing.T) {
	idle := newSession("alice", t0) // idles out at t0+1h, expires at t0+24h
	absolute := newSession("alice", t0)
	absolute.IdleUntil = t0.Add(48 * time.Hour) // only ExpiresAt (t0+24h) bounds it

	cases := []struct {
		name string
		s    *store.Session
		now  time.Time
		live bool
	}{
		{"idle: at creation", idle, t0, true},
		{"idle: 1ns before IdleUntil", idle, t0.Add(time.Hour - time.Nanosecond), true},
		{"idle: at IdleUntil", idle, t0.Add(time.Hour), false},
		{"idle: long after", idle, t0.Add(100 * 24 * time.Hour), false},
		{"absolute: 1ns before ExpiresAt", absolute, t0.Add(24*time.Hour - time.Nanosecond), true},
		{"absolute: at ExpiresAt", absolute, t0.Add(24 * time.Hour), false},
		{"absolute: after ExpiresAt, before IdleUntil", absolute, t0.Add(30 * time.Hour), false},
	}
	ops := []struct {
		name string
		do   func(m *Store, id string, now time.Time) error
	}{
		{"Get", func(m *Store, id string, now time.Time) error {
			_, err := m.Get(context.Background(), id, now)
			return err
		}},
		{"Touch", func(m *Store, id string, now time.Time) error {
			return m.Touch(context.Background(), id, now, time.Hour, 0)
		}},
		{"Rotate", func(m *Store, id string, now time.Time) error {
			r := store.Rotation{Old: hash("refresh"), RefreshHash: hash("new"), IdleUntil: now.Add(time.Hour), KeepSpent: 1}
			return m.Rotate(context.Background(), id, r, now)
		}},
		{"List", func(m *Store, id string, now time.Time) error {
			l, err := m.List(context.Background(), "alice", now)
			if err != nil || len(l) == 0 {
				return errors.Join(err, store.ErrNotFound)
			}
			if l[0].ID != id {
				return fmt.Errorf("List returned %s, want %s", l[0].ID, id)
			}
			return nil
		}},
	}
	for _, tc := range cases {
		for _, op := range ops {
			t.Run(tc.name+"/"+op.name, func(t *testing.T) {
				m := New()
				s := *tc.s
				id := mustCreate(t, m, &s, 0)
				before := snap(m)
				err := op.do(m, id, tc.now)
				switch {
				case tc.live && err != nil:
					t.Fatalf("%s on a live session = %v, want nil", op.name, err)
				case !tc.live && !errors.Is(err, store.ErrNotFound):
					t.Fatalf("%s on a dead session = %v, want ErrNotFound", op.name, err)
				case !tc.live && before.changes(m) != 0:
					t.Fatalf("%s on a dead session wrote", op.name)
				}
			})
		}
	}

	t.Run("reads never delete", func(t *testing.T) {
		// A later now makes the session read as absent, but an earlier
		// now still sees it: ErrNotFound is decided by the caller's now.
		m := New()
		id := mustCreate(t, m, newSession("alice", t0), 0)
		assertNotFound(t, m, id, t0.Add(2*time.Hour))
		mustList(t, m, "alice", t0.Add(2*time.Hour))
		mustGet(t, m, id, t0)
	})
}

func TestTouch(t *testing.T) {
	ctx := context.Background()
	const idle, every = time.Hour, time.Minute
	cases := []struct {
		name        string
		setup       func(s *store.Session)
		now         time.Time
		every       time.Duration
		wrote       bool
		wantLast    time.Time
		wantIdle    time.Time
		wantErr     error
		stillLiveAt time.Time // zero: not checked
	}{
		{
			name: "inside the interval writes nothing", now: t0.Add(30 * time.Second), every: every,
			wantLast: t0, wantIdle: t0.Add(time.Hour),
		},
		{
			name: "just inside the interval writes nothing", now: t0.Add(every - time.Nanosecond), every: every,
			wantLast: t0, wantIdle: t0.Add(time.Hour),
		},
		{
			name: "at the interval writes", now: t0.Add(every), every: every, wrote: true,
			wantLast: t0.Add(every), wantIdle: t0.Add(every + idle),
		},
		{
			name: "after the interval slides IdleUntil", now: t0.Add(50 * time.Minute), every: every, wrote: true,
			wantLast: t0.Add(50 * time.Minute), wantIdle: t0.Add(110 * time.Minute),
			stillLiveAt: t0.Add(100 * time.Minute),
		},
		{
			name: "every zero always writes", now: t0.Add(time.Second), every: 0, wrote: true,
			wantLast: t0.Add(time.Second), wantIdle: t0.Add(time.Second + idle),
		},
		{
			name:  "capped at ExpiresAt",
			setup: func(s *store.Session) { s.IdleUntil = t0.Add(23*time.Hour + 45*time.Minute) },
			now:   t0.Add(23*time.Hour + 30*time.Minute), every: every, wrote: true,
			wantLast: t0.Add(23*time.Hour + 30*time.Minute), wantIdle: t0.Add(24 * time.Hour),
		},
		{
			name: "idle-expired is not found", now: t0.Add(time.Hour), every: every, wantErr: store.ErrNotFound,
		},
		{
			name:  "absolutely expired is not found",
			setup: func(s *store.Session) { s.IdleUntil = t0.Add(48 * time.Hour) },
			now:   t0.Add(24 * time.Hour), every: every, wantErr: store.ErrNotFound,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			s := newSession("alice", t0)
			if tc.setup != nil {
				tc.setup(s)
			}
			before := *s
			id := mustCreate(t, m, s, 0)
			before.ID = id
			stored := snap(m)

			err := m.Touch(ctx, id, tc.now, idle, tc.every)
			if !errors.Is(err, tc.wantErr) || (err != nil) != (tc.wantErr != nil) {
				t.Fatalf("Touch = %v, want %v", err, tc.wantErr)
			}
			if d := stored.changes(m); (d == 1) != tc.wrote || d > 1 {
				t.Fatalf("Touch made %d changes, want wrote=%v", d, tc.wrote)
			}
			if tc.wantErr != nil {
				return
			}
			got := mustGet(t, m, id, tc.now)
			if !got.LastUsedAt.Equal(tc.wantLast) || !got.IdleUntil.Equal(tc.wantIdle) {
				t.Fatalf("LastUsedAt, IdleUntil = %v, %v; want %v, %v", got.LastUsedAt, got.IdleUntil, tc.wantLast, tc.wantIdle)
			}
			// Nothing else changes.
			want := before
			want.LastUsedAt, want.IdleUntil = got.LastUsedAt, got.IdleUntil
			sameSession(t, got, &want)
			if !tc.stillLiveAt.IsZero() {
				mustGet(t, m, id, tc.stillLiveAt)
			}
		})
	}

	t.Run("unused session dies where a touched one lives", func(t *testing.T) {
		m := New()
		touched := mustCreate(t, m, newSession("alice", t0), 0)
		untouched := mustCreate(t, m, newSession("alice", t0), 0)
		for i := 1; i <= 10; i++ { // a use every 30 minutes for 5 hours
			if err := m.Touch(ctx, touched, t0.Add(time.Duration(i)*30*time.Minute), idle, every); err != nil {
				t.Fatalf("Touch %d: %v", i, err)
			}
		}
		mustGet(t, m, touched, t0.Add(5*time.Hour+59*time.Minute))
		assertNotFound(t, m, untouched, t0.Add(5*time.Hour))
	})

	t.Run("throttled touches do not extend", func(t *testing.T) {
		m := New()
		id := mustCreate(t, m, newSession("alice", t0), 0)
		before := snap(m)
		for i := 1; i < 60; i++ { // a use every second, for a minute
			if err := m.Touch(ctx, id, t0.Add(time.Duration(i)*time.Second), idle, every); err != nil {
				t.Fatal(err)
			}
		}
		if n := before.changes(m); n != 0 {
			t.Fatalf("%d changes inside one interval, want 0", n)
		}
		if got := mustGet(t, m, id, t0); !got.IdleUntil.Equal(t0.Add(time.Hour)) {
			t.Fatalf("IdleUntil = %v, want unchanged", got.IdleUntil)
		}
	})
}
