package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
)

// ttls returns each key under prefix with its PEXPIRETIME (-1: none).
func ttls(t testing.TB, c redis.UniversalClient, prefix string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, k := range keysOf(t, c, prefix) {
		v, err := c.Do(context.Background(), "PEXPIRETIME", k).Int64()
		if err != nil {
			t.Fatalf("PEXPIRETIME: %v", err)
		}
		if v != -2 { // expired between SCAN and now
			out[k] = v
		}
	}
	return out
}

// TestTTLs: after every kind of write, every key has a TTL: a session's
// is its own deadline, min(IdleUntil, ExpiresAt); each index member is
// scored with its session's ExpiresAt, never before its key's expiry; an
// index's TTL is its highest score.
func TestTTLs(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		s := newStore(t, c)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		check := func(step string) {
			t.Helper()
			all := ttls(t, c, s.prefix)
			if len(all) == 0 {
				t.Fatalf("%s: no keys", step)
			}
			for k, at := range all {
				if at < 0 {
					t.Errorf("%s: key %q has no TTL", step, k)
				}
				if _, id, ok := strings.Cut(k, "}:s:"); ok {
					x, err := s.Get(ctx, id, now)
					if err != nil {
						t.Fatalf("%s: Get %s: %v", step, id, err)
					}
					if want := min(x.IdleUntil.UnixMilli(), x.ExpiresAt.UnixMilli()); at != want {
						t.Errorf("%s: session %s expires at %d, want %d", step, id, at, want)
					}
					continue
				}
				members, err := c.ZRangeWithScores(ctx, k, 0, -1).Result()
				if err != nil {
					t.Fatal(err)
				}
				var latest int64
				for _, m := range members {
					latest = max(latest, int64(m.Score))
					id := m.Member.(string)
					x, err := s.Get(ctx, id, now)
					if err != nil {
						t.Fatalf("%s: Get of member %s: %v", step, id, err)
					}
					if int64(m.Score) != x.ExpiresAt.UnixMilli() {
						t.Errorf("%s: index member %s scored %d, its ExpiresAt is %d", step, id, int64(m.Score), x.ExpiresAt.UnixMilli())
					}
					if exp := all[s.sessionKey(id)]; int64(m.Score) < exp {
						t.Errorf("%s: index member %s scored %d, before its key's expiry %d", step, id, int64(m.Score), exp)
					}
				}
				if at != latest {
					t.Errorf("%s: index %q expires at %d, want its highest score %d", step, k, at, latest)
				}
			}
		}
		var ids []string
		for i := range 4 {
			x := session("alice", now.Add(time.Duration(i)*time.Millisecond)) // the first is evicted
			x.IdleUntil = now.Add(time.Duration(i+1) * time.Hour)
			x.ExpiresAt = now.Add(time.Duration(24+i) * time.Hour)
			ids = append(ids, mustCreate(t, s, x, 3))
		}
		check("capped Create")
		mustCreate(t, s, session("alice", now), 0)
		check("Create")
		if err := s.Touch(ctx, ids[3], now.Add(time.Minute), 10*time.Hour, 0); err != nil {
			t.Fatal(err)
		}
		check("Touch")
		x, err := s.Get(ctx, ids[2], now)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Rotate(ctx, ids[2], store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: now.Add(30 * time.Minute), KeepSpent: 2}, now); err != nil {
			t.Fatal(err)
		}
		check("Rotate")
		if err := s.Revoke(ctx, "alice", ids[3]); err != nil {
			t.Fatal(err)
		}
		check("Revoke of the latest")
		if _, err := s.List(ctx, "alice", now); err != nil {
			t.Fatal(err)
		}
		check("List")
	})
}

// TestIndexHasNoDanglingEntries: once Redis has expired a session key at
// its ExpiresAt, the next script that writes its subject's index removes
// its member (by score), and the index itself expires with the last
// ExpiresAt. A session that idled out is removed by the scripts that
// declare its key: a capped Create, List, RevokeSubject.
func TestIndexHasNoDanglingEntries(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		s := newStore(t, c)
		ctx := context.Background()
		short := func(sub string, idle bool) string {
			now := time.Now().Truncate(time.Millisecond)
			x := session(sub, now)
			if idle {
				x.IdleUntil = now.Add(300 * time.Millisecond)
			} else {
				x.ExpiresAt = now.Add(300 * time.Millisecond)
			}
			return mustCreate(t, s, x, 0)
		}
		long := func(sub string) string {
			return mustCreate(t, s, session(sub, time.Now().Truncate(time.Millisecond)), 0)
		}
		members := func(sub string) []string {
			t.Helper()
			m, err := c.ZRange(ctx, s.indexKey(s.keys[0], sub), 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(m)
			return m
		}
		ops := map[string]func(sub string){
			"Create": func(sub string) { long(sub) },
			"capped Create": func(sub string) {
				mustCreate(t, s, session(sub, time.Now().Truncate(time.Millisecond)), 10)
			},
			"List": func(sub string) {
				if _, err := s.List(ctx, sub, time.Now()); err != nil {
					t.Fatal(err)
				}
			},
			"Revoke of another": func(sub string) {
				// An absent id with the subject's tag: Revoke looks in the
				// index the id's tag names.
				if err := s.Revoke(ctx, sub, newID(tag(s.keys[0], sub))); err != nil {
					t.Fatal(err)
				}
			},
		}
		// Which operations drop the members of idled-out sessions.
		idleToo := map[string]bool{"capped Create": true, "List": true}
		for name := range ops {
			for _, idle := range []bool{false, true} {
				if idle && !idleToo[name] {
					continue
				}
				sub := fmt.Sprintf("dangling %s %v", name, idle)
				long(sub)
				short(sub, idle)
				short(sub, idle)
			}
		}
		// A subject whose sessions all expire: its index goes with them.
		gone := "all expire"
		short(gone, false)
		short(gone, false)
		time.Sleep(400 * time.Millisecond) // past every short session's deadline, by Redis' clock
		for name, op := range ops {
			for _, idle := range []bool{false, true} {
				if idle && !idleToo[name] {
					continue
				}
				sub := fmt.Sprintf("dangling %s %v", name, idle)
				op(sub)
				for _, id := range members(sub) {
					if n, _ := c.Exists(ctx, s.sessionKey(id)).Result(); n == 0 {
						t.Errorf("after %s, the index still holds expired session %s (idle: %v)", name, id, idle)
					}
				}
			}
		}
		if n, _ := c.Exists(ctx, s.indexKey(s.keys[0], gone)).Result(); n != 0 {
			t.Errorf("the index of a subject whose sessions all expired still exists")
		}
	})
}

// TestUndeclaredMembers: a capped Create or RevokeSubject script given
// fewer members than the index holds (a login came in between) changes
// nothing it was not told about and says so, and the Store's retry then
// gets it right.
func TestUndeclaredMembers(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		s := newStore(t, c)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		a := mustCreate(t, s, session("alice", now), 0)
		b := mustCreate(t, s, session("alice", now.Add(time.Millisecond)), 0)
		idx := s.indexKey(s.keys[0], "alice")
		x := session("alice", now.Add(2*time.Millisecond))
		v, err := encode(x)
		if err != nil {
			t.Fatal(err)
		}
		id := newID(tag(s.keys[0], "alice"))
		exp := x.ExpiresAt.UnixMilli()
		// Only a is declared; b is not: the script must refuse.
		n, err := createCappedScript.Run(ctx, c, []string{idx, s.sessionKey(id), s.sessionKey(a)},
			id, v, exp, exp, 1, now.Add(2*time.Millisecond).UnixMilli()).Int()
		if err != nil || n != -2 {
			t.Fatalf("capped create with a member undeclared = %d, %v; want -2", n, err)
		}
		res, err := revokeSubjectScript.Run(ctx, c, []string{idx, s.sessionKey(a)}, "").Int64Slice()
		if err != nil || len(res) != 2 || res[0] != 1 || res[1] != 1 {
			t.Fatalf("revoke subject with a member undeclared = %v, %v; want [1 1]", res, err)
		}
		if _, err := s.Get(ctx, b, now); err != nil {
			t.Errorf("the undeclared session was touched: %v", err)
		}
		if _, err := s.Get(ctx, id, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the refused create wrote its session: %v", err)
		}
		if n, err := s.RevokeSubject(ctx, "alice", ""); err != nil || n != 1 {
			t.Errorf("RevokeSubject = %d, %v; want 1", n, err)
		}
	})
}
