package redisstore

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
)

// get returns the live session id at now, failing t otherwise.
func get(t testing.TB, s *Store, id string, now time.Time) *store.Session {
	t.Helper()
	x, err := s.Get(context.Background(), id, now)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return x
}

// expiry returns the PEXPIRETIME of key (-2: absent).
func expiry(t testing.TB, c redis.UniversalClient, key string) int64 {
	t.Helper()
	v, err := c.Do(context.Background(), "PEXPIRETIME", key).Int64()
	if err != nil {
		t.Fatalf("PEXPIRETIME: %v", err)
	}
	return v
}

// ms rounds t down to the millisecond, as the Store keeps times.
func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// TestIdleAndActorStored: IdleTimeout and Actor, nil, empty or set, come
// back exactly from Get and List, and survive Touch and Rotate.
func TestIdleAndActorStored(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		s := newStore(t, tp.client(t))
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		var xs []*store.Session
		for _, v := range []struct {
			idle  time.Duration
			actor *store.Actor
		}{
			{0, nil},
			{0, &store.Actor{}},
			{10*time.Minute + 1, nil},
			{time.Minute, &store.Actor{Subject: "staff@example.com", SessionID: "0123456789abcdefghijkl"}},
		} {
			x := session("alice", now)
			x.IdleTimeout, x.Actor = v.idle, v.actor
			mustCreate(t, s, x, 0)
			xs = append(xs, x)
		}
		l, err := s.List(ctx, "alice", now)
		if err != nil || len(l) != len(xs) {
			t.Fatalf("List = %d sessions, %v", len(l), err)
		}
		for _, x := range xs {
			if d := sameSession(get(t, s, x.ID, now), x); d != "" {
				t.Errorf("Get: %s", d)
			}
			for _, y := range l {
				if y.ID == x.ID {
					if d := sameSession(&y, x); d != "" {
						t.Errorf("List: %s", d)
					}
				}
			}
			at := now.Add(time.Minute)
			if err := s.Touch(ctx, x.ID, at, time.Hour, 0); err != nil {
				t.Fatal(err)
			}
			r := store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: at.Add(time.Hour), KeepSpent: 1}
			if err := s.Rotate(ctx, x.ID, r, at); err != nil {
				t.Fatal(err)
			}
			g := get(t, s, x.ID, at)
			if g.IdleTimeout != x.IdleTimeout || (g.Actor == nil) != (x.Actor == nil) || (g.Actor != nil && *g.Actor != *x.Actor) {
				t.Errorf("after Touch and Rotate: IdleTimeout %v, Actor %+v; want %v, %+v", g.IdleTimeout, g.Actor, x.IdleTimeout, x.Actor)
			}
		}
	})
}

// TestTouchIdleTimeout: Touch slides IdleUntil by the session's own
// IdleTimeout when that is positive and shorter than idle, to the exact
// millisecond now.Add gives (sub-millisecond parts carried), never past
// ExpiresAt, and moves the key's expiry with it.
func TestTouchIdleTimeout(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		s := newStore(t, c)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		at := now.Add(time.Minute + 700*time.Microsecond) // a touch's now, not a whole millisecond
		for _, v := range []struct {
			name      string
			own, idle time.Duration
			want      time.Time
		}{
			{"no IdleTimeout", 0, time.Hour, at.Add(time.Hour)},
			{"a shorter IdleTimeout", 10*time.Minute + 600*time.Microsecond, time.Hour, at.Add(10*time.Minute + 600*time.Microsecond)},
			{"a longer IdleTimeout", 2 * time.Hour, time.Hour, at.Add(time.Hour)},
			{"a negative IdleTimeout", -time.Minute, time.Hour, at.Add(time.Hour)},
			{"an IdleTimeout of 1ns", 1, time.Hour, at.Add(1)},
			{"capped at ExpiresAt", 48 * time.Hour, 72 * time.Hour, now.Add(24 * time.Hour)},
		} {
			t.Run(v.name, func(t *testing.T) {
				x := session("alice", now)
				x.IdleTimeout = v.own
				mustCreate(t, s, x, 0)
				if err := s.Touch(ctx, x.ID, at, v.idle, 0); err != nil {
					t.Fatal(err)
				}
				g := get(t, s, x.ID, now) // at is past the 1ns timeout
				if want := ms(v.want); !g.IdleUntil.Equal(want) || !g.LastUsedAt.Equal(ms(at)) {
					t.Errorf("IdleUntil %v, LastUsedAt %v; want %v, %v", g.IdleUntil, g.LastUsedAt, want, ms(at))
				}
				if e := expiry(t, c, s.sessionKey(x.ID)); e != g.IdleUntil.UnixMilli() {
					t.Errorf("the key expires at %d, want IdleUntil %d", e, g.IdleUntil.UnixMilli())
				}
			})
		}
	})
}

// TestFreshen: Freshen sets FreshUntil alone on a live session, leaving
// every other field and the key's expiry as they were; a session that is
// not live is store.ErrNotFound and is not written; racing a Revoke it
// never brings the session back, and racing Rotates it never restores an
// old hash.
func TestFreshen(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		s := newStore(t, c)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		x := session("alice", now)
		x.IdleTimeout, x.Actor = time.Minute, &store.Actor{Subject: "staff", SessionID: "from"}
		mustCreate(t, s, x, 0)
		key := s.sessionKey(x.ID)
		e := expiry(t, c, key)
		until := now.Add(5*time.Minute + 300*time.Microsecond)
		if err := s.Freshen(ctx, x.ID, until, now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		want := *x
		want.FreshUntil = ms(until)
		if d := sameSession(get(t, s, x.ID, now), &want); d != "" {
			t.Errorf("after Freshen: %s", d)
		}
		if got := expiry(t, c, key); got != e {
			t.Errorf("Freshen moved the key's expiry from %d to %d", e, got)
		}

		before, err := c.Get(ctx, key).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		for name, id := range map[string]string{
			"an idled-out session": x.ID,
			"an absent session":    newID(tag(s.keys[0], "alice")),
			"an invalid id":        "not an id",
		} {
			if err := s.Freshen(ctx, id, until, x.IdleUntil); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Freshen of %s = %v, want store.ErrNotFound", name, err)
			}
		}
		if after, _ := c.Get(ctx, key).Bytes(); !bytes.Equal(after, before) {
			t.Errorf("Freshen of an idled-out session wrote it")
		}
		if err := s.Freshen(ctx, x.ID, maxTime.Add(time.Millisecond), now); !errors.Is(err, ErrInvalid) {
			t.Errorf("Freshen until beyond 2^53 ms = %v, want ErrInvalid", err)
		}

		for range 20 {
			y := session("bob", now)
			mustCreate(t, s, y, 0)
			var wg sync.WaitGroup
			wg.Go(func() { s.Freshen(ctx, y.ID, until, now) })
			wg.Go(func() { s.Revoke(ctx, "bob", y.ID) })
			wg.Wait()
			if n, err := c.Exists(ctx, s.sessionKey(y.ID)).Result(); err != nil || n != 0 {
				t.Fatalf("after a Revoke raced by a Freshen, the session's key exists (%d, %v)", n, err)
			}
		}

		y := session("carol", now)
		mustCreate(t, s, y, 0)
		var wg sync.WaitGroup
		latest := make(chan []byte, 1)
		latest <- y.RefreshHash
		for range 20 {
			wg.Go(func() {
				if err := s.Freshen(ctx, y.ID, until, now); err != nil {
					t.Error(err)
				}
			})
			wg.Go(func() {
				old := <-latest
				r := store.Rotation{Old: old, RefreshHash: hash(), IdleUntil: now.Add(time.Hour), FreshUntil: until}
				if err := s.Rotate(ctx, y.ID, r, now); err != nil {
					t.Error(err)
				}
				latest <- r.RefreshHash
			})
		}
		wg.Wait()
		if g := get(t, s, y.ID, now); !bytes.Equal(g.RefreshHash, <-latest) || !g.FreshUntil.Equal(ms(until)) {
			t.Errorf("after racing Rotates and Freshens: not the last rotation's hash, or FreshUntil %v", g.FreshUntil)
		}
	})
}

// TestStoredV1: a session stored by an earlier release (format version 1,
// testdata/session-v1.hex) is served as it was, with IdleTimeout 0 and no
// Actor, and every operation keeps it in version 1.
func TestStoredV1(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		s := newStore(t, c)
		ctx := context.Background()
		x := v1Session()
		x.ID = newID(tag(s.keys[0], x.Subject))
		key := s.sessionKey(x.ID)
		if err := c.Set(ctx, key, v1Value(t), 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.PExpireAt(ctx, key, x.IdleUntil).Err(); err != nil {
			t.Fatal(err)
		}
		idx := s.indexKey(s.keys[0], x.Subject)
		if err := c.ZAdd(ctx, idx, redis.Z{Score: float64(x.ExpiresAt.UnixMilli()), Member: x.ID}).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.PExpireAt(ctx, idx, x.ExpiresAt).Err(); err != nil {
			t.Fatal(err)
		}
		now := x.CreatedAt.Add(30 * time.Minute)
		if d := sameSession(get(t, s, x.ID, now), x); d != "" {
			t.Errorf("Get: %s", d)
		}
		l, err := s.List(ctx, x.Subject, now)
		if err != nil || len(l) != 1 || sameSession(&l[0], x) != "" {
			t.Errorf("List = %+v, %v; want the stored session", l, err)
		}
		if err := s.Touch(ctx, x.ID, now, 10*time.Minute, 0); err != nil {
			t.Fatal(err)
		}
		until := now.Add(3 * time.Minute)
		if err := s.Freshen(ctx, x.ID, until, now); err != nil {
			t.Fatal(err)
		}
		r := store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), SecretHash: hash(), IdleUntil: now.Add(20 * time.Minute), FreshUntil: until, KeepSpent: 2}
		if err := s.Rotate(ctx, x.ID, r, now); err != nil {
			t.Fatal(err)
		}
		g := get(t, s, x.ID, now)
		if g.IdleTimeout != 0 || g.Actor != nil || !g.IdleUntil.Equal(now.Add(20*time.Minute)) || !g.FreshUntil.Equal(until) || len(g.Spent) != 2 {
			t.Errorf("after Touch, Freshen and Rotate: %+v", g)
		}
		if v, err := c.Get(ctx, key).Bytes(); err != nil || v[0] != formatV1 {
			t.Errorf("the stored session is no longer version 1 (%v)", err)
		}
	})
}
