package sqlstore

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// TestTouchIdleTimeout: Touch slides IdleUntil by the session's own
// IdleTimeout when that is positive and shorter than idle, rounded down
// to the millisecond like every stored time, and capped at ExpiresAt,
// even at the very end of the int64 range.
func TestTouchIdleTimeout(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDB(t, b)
		s := newStore(t, db)
		ctx := context.Background()
		base := time.Now().Truncate(time.Millisecond)
		end := time.UnixMilli(math.MaxInt64)
		for _, c := range []struct {
			name            string
			at              time.Time // when Touch runs
			own, idle       time.Duration
			expires         time.Time
			wantIdleUntilAt time.Time
		}{
			{"shorter own timeout", base.Add(time.Minute), 10 * time.Minute, time.Hour, base.Add(24 * time.Hour), base.Add(11 * time.Minute)},
			{"longer own timeout", base.Add(time.Minute), 2 * time.Hour, time.Hour, base.Add(24 * time.Hour), base.Add(61 * time.Minute)},
			{"no own timeout", base.Add(time.Minute), 0, time.Hour, base.Add(24 * time.Hour), base.Add(61 * time.Minute)},
			{"negative own timeout", base.Add(time.Minute), -time.Minute, time.Hour, base.Add(24 * time.Hour), base.Add(61 * time.Minute)},
			{"capped at expiry", base.Add(time.Minute), 10 * time.Minute, time.Hour, base.Add(5 * time.Minute), base.Add(5 * time.Minute)},
			// now+timeout rounded down, not now and timeout each rounded.
			{"sub-millisecond", base.Add(700 * time.Microsecond), 10*time.Minute + 500*time.Microsecond, time.Hour, base.Add(24 * time.Hour), base.Add(10*time.Minute + time.Millisecond)},
			{"end of range, shorter", end.Add(-time.Second), 300 * time.Millisecond, time.Hour, end, end.Add(-700 * time.Millisecond)},
			{"end of range, beyond it", end.Add(-time.Second).Add(500 * time.Microsecond), time.Hour, 2 * time.Hour, end, end},
			{"end of range, huge", end.Add(-time.Second), time.Duration(math.MaxInt64 - 1), time.Duration(math.MaxInt64), end, end},
		} {
			t.Run(c.name, func(t *testing.T) {
				x := &store.Session{Subject: "alice", RefreshHash: []byte("r"), SecretHash: []byte("s"), CreatedAt: base, LastUsedAt: base,
					IdleUntil: c.expires, ExpiresAt: c.expires, IdleTimeout: c.own, Actor: &store.Actor{Subject: "bob"}}
				if err := s.Create(ctx, x, 0); err != nil {
					t.Fatal(err)
				}
				before, err := s.Get(ctx, x.ID, base)
				if err != nil {
					t.Fatal(err)
				}
				writes := db.writes.Load()
				if err := s.Touch(ctx, x.ID, c.at, c.idle, 0); err != nil {
					t.Fatalf("Touch: %v", err)
				}
				if n := db.writes.Load() - writes; n != 1 {
					t.Errorf("Touch made %d writes, want 1", n)
				}
				got, err := s.Get(ctx, x.ID, base)
				if err != nil {
					t.Fatal(err)
				}
				if !got.IdleUntil.Equal(c.wantIdleUntilAt) || !got.LastUsedAt.Equal(c.at.Truncate(time.Millisecond)) {
					t.Errorf("IdleUntil %v, LastUsedAt %v; want %v, %v", got.IdleUntil, got.LastUsedAt, c.wantIdleUntilAt, c.at.Truncate(time.Millisecond))
				}
				got.IdleUntil, got.LastUsedAt = before.IdleUntil, before.LastUsedAt
				if !reflect.DeepEqual(got, before) {
					t.Errorf("Touch changed more than IdleUntil and LastUsedAt:\n%+v\nwas\n%+v", got, before)
				}
			})
		}
	})
}

// TestFreshen: Freshen sets FreshUntil alone on a live session, in one
// write; a session that is not live is store.ErrNotFound, and values it
// cannot store are ErrInvalid.
func TestFreshen(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDB(t, b)
		s := newStore(t, db)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		x := &store.Session{Subject: "alice", RefreshHash: []byte("r"), Spent: [][]byte{[]byte("old")}, Claims: map[string]any{"role": "admin"},
			CreatedAt: now, LastUsedAt: now, FreshUntil: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(2 * time.Hour),
			IdleTimeout: time.Minute, Actor: &store.Actor{Subject: "bob", SessionID: store.NewID()}}
		if err := s.Create(ctx, x, 0); err != nil {
			t.Fatal(err)
		}
		before, err := s.Get(ctx, x.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, until := range []time.Time{now.Add(5 * time.Minute), now.Add(5 * time.Minute), time.Time{}, now.Add(time.Minute)} {
			writes := db.writes.Load()
			if err := s.Freshen(ctx, x.ID, until, now.Add(time.Second)); err != nil {
				t.Fatalf("Freshen to %v: %v", until, err)
			}
			if n := db.writes.Load() - writes; n > 1 {
				t.Errorf("Freshen made %d writes, want at most 1", n)
			}
			got, err := s.Get(ctx, x.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			if !got.FreshUntil.Equal(until) {
				t.Errorf("FreshUntil %v, want %v", got.FreshUntil, until)
			}
			got.FreshUntil = before.FreshUntil
			if !reflect.DeepEqual(got, before) {
				t.Errorf("Freshen changed more than FreshUntil:\n%+v\nwas\n%+v", got, before)
			}
		}

		for name, c := range map[string]struct {
			id  string
			now time.Time
		}{
			"idle-expired": {x.ID, now.Add(time.Hour)},
			"unknown":      {store.NewID(), now},
			"not an id":    {"nope", now},
		} {
			if err := s.Freshen(ctx, c.id, now.Add(time.Hour), c.now); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Freshen of a session %s = %v, want store.ErrNotFound", name, err)
			}
		}
		if err := s.Revoke(ctx, "alice", x.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Freshen(ctx, x.ID, now.Add(time.Hour), now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Freshen of a revoked session = %v, want store.ErrNotFound", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"sessions"); n != 0 {
			t.Errorf("Freshen brought back a revoked session: %d rows", n)
		}
		far := time.Unix(1<<62, 0)
		for name, err := range map[string]error{
			"far until": s.Freshen(ctx, x.ID, far, now),
			"far now":   s.Freshen(ctx, x.ID, now, far),
		} {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Freshen with a %s = %v, want ErrInvalid", name, err)
			}
		}
	})
}
