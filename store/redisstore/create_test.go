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

// TestContention: the retries of one call pause between half and all of a
// pause that doubles from firstWait up to maxWait, give up with errBusy
// (naming the operation) once busyBudget has passed since the first, and
// stop at once with the context's error when it is done.
func TestContention(t *testing.T) {
	var c contention
	start := time.Now()
	n := 0
	var err error
	for err == nil {
		before := time.Now()
		err = c.wait(context.Background(), "create")
		if err != nil {
			break
		}
		n++
		want := min(firstWait<<min(n-1, 10), maxWait) / 2
		if d := time.Since(before); d < want {
			t.Fatalf("retry %d paused %v, want at least %v", n, d, want)
		}
	}
	if !errors.Is(err, errBusy) || err.Error() != "redisstore: create: "+errBusy.Error() {
		t.Fatalf("after %d retries: %v, want errBusy for create", n, err)
	}
	if d := time.Since(start); d < busyBudget {
		t.Fatalf("gave up after %v, want at least %v", d, busyBudget)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var fresh contention
	if err := fresh.wait(ctx, "revoke subject"); !errors.Is(err, context.Canceled) || errors.Is(err, errBusy) {
		t.Fatalf("wait under a canceled context = %v, want context.Canceled", err)
	}
}
