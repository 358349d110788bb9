package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// TestCappedCreateDeletesDead: a capped Create deletes the subject's
// sessions that are dead at its CreatedAt (idled out by the caller's
// clock while Redis still holds their keys), key and member, as memstore
// does, and does not count them.
func TestCappedCreateDeletesDead(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		s := newStore(t, c)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		old := session("dora", now) // idle until now+1h, expires now+24h
		mustCreate(t, s, old, 0)
		live := session("dora", now.Add(90*time.Minute))
		mustCreate(t, s, live, 0)
		x := session("dora", now.Add(2*time.Hour))
		mustCreate(t, s, x, 2)
		if n, err := c.Exists(ctx, s.sessionKey(old.ID)).Result(); err != nil || n != 0 {
			t.Errorf("the session dead at CreatedAt still has its key (%v)", err)
		}
		idx := s.indexKey(s.keys[0], "dora")
		m, err := c.ZRange(ctx, idx, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(m) != 2 || (m[0] != live.ID && m[1] != live.ID) || (m[0] != x.ID && m[1] != x.ID) {
			t.Errorf("index = %v, want %s and %s", m, live.ID, x.ID)
		}
	})
}

// TestListForeignSubject: a session in a subject's index that holds
// another subject is corruption, not a session to skip.
func TestListForeignSubject(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		s := newStore(t, c)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		x := session("erin", now)
		mustCreate(t, s, x, 0)
		// Overwrite erin's session with one of frank's, same length.
		y := session("frnk", now)
		v, err := encode(y)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Set(ctx, s.sessionKey(x.ID), v, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		_, err = s.List(ctx, "erin", now)
		if !errors.Is(err, errCorrupt) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("List = %v, want errCorrupt", err)
		}
	})
}

// TestContention: a call that keeps losing to logins gives up with
// errBusy, naming the operation, after a second of retries, and stops at
// once with the context's error when it is done.
func TestContention(t *testing.T) {
	s, err := New(topologies[0].dead(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	busy := contention()
	n := 0
	for err == nil {
		if err = s.wait(context.Background(), "create", busy); err == nil {
			n++
		}
	}
	if !errors.Is(err, errBusy) || err.Error() != "redisstore: create: "+errBusy.Error() {
		t.Fatalf("after %d retries: %v, want errBusy for create", n, err)
	}
	if d := time.Since(start); d < time.Second || n < 60 {
		t.Fatalf("gave up after %v and %d retries, want a second of 1 to 16ms pauses", d, n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.wait(ctx, "revoke subject", contention()); !errors.Is(err, context.Canceled) || errors.Is(err, errBusy) {
		t.Fatalf("wait under a canceled context = %v, want context.Canceled", err)
	}
}
