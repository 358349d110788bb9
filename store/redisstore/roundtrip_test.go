package redisstore

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
)

// counter counts the commands and pipelines a client sends: its round
// trips.
type counter struct{ n atomic.Int64 }

func (h *counter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// roundTrips runs op and returns how many round trips it made.
func (h *counter) roundTrips(t testing.TB, op func() error) int64 {
	t.Helper()
	before := h.n.Load()
	if err := op(); err != nil {
		t.Fatal(err)
	}
	return h.n.Load() - before
}

// TestRoundTrips: the round trips of each operation (docs/stores.md
// quotes these): one, except a capped Create, RevokeSubject and List,
// which read the index's members first; previous routing keys add one per
// key to RevokeSubject and List only (an empty index needs no script).
func TestRoundTrips(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		h := &counter{}
		c.AddHook(h)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		old := []byte("an old routing key, 32 bytes....")
		for _, v := range []struct {
			name  string
			opts  []Option
			extra int64 // per subject-wide operation
		}{
			{"one routing key", nil, 0},
			{"a previous routing key", []Option{WithRoutingKey([]byte("the new routing key, 32 bytes..."), old)}, 1},
		} {
			t.Run(v.name, func(t *testing.T) {
				s := newStore(t, c, v.opts...)
				mustCreate(t, s, session("warm-up", now), 0) // cluster slots known
				// Every script loaded on every master: no NOSCRIPT round trip.
				for _, sc := range scripts {
					if err := sc.Load(ctx, c).Err(); err != nil {
						t.Fatal(err)
					}
				}
				var x *store.Session
				var buckets []string // 30 keys: some on each master of the cluster
				for i := range 30 {
					buckets = append(buckets, fmt.Sprint("login:", i))
				}
				// The first pipeline may dial a connection, whose HELLO and
				// CLIENT SETINFO pass the hooks.
				if _, err := s.Strikes(ctx, buckets, now); err != nil {
					t.Fatal(err)
				}
				for _, op := range []struct {
					name string
					want int64
					op   func() error
				}{
					{"login (Create with a cap)", 2, func() error { x = session("alice", now); return s.Create(ctx, x, 5) }},
					{"login (Create)", 1, func() error { return s.Create(ctx, session("alice", now), 0) }},
					{"validate (Get)", 1, func() error { _, err := s.Get(ctx, x.ID, now); return err }},
					{"Touch", 1, func() error { return s.Touch(ctx, x.ID, now.Add(time.Minute), time.Hour, time.Minute) }},
					{"throttled Touch", 1, func() error { return s.Touch(ctx, x.ID, now.Add(time.Minute), time.Hour, time.Minute) }},
					{"step-up (Freshen)", 1, func() error { return s.Freshen(ctx, x.ID, now.Add(5*time.Minute), now) }},
					{"refresh (Rotate)", 1, func() error {
						return s.Rotate(ctx, x.ID, store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: now.Add(time.Hour), KeepSpent: 5}, now)
					}},
					{"list", 2 + v.extra, func() error { _, err := s.List(ctx, "alice", now); return err }},
					{"AddStrike", 1, func() error { _, err := s.AddStrike(ctx, "login:alice", now, time.Hour); return err }},
					{"Strikes of keys on every master", 1, func() error { _, err := s.Strikes(ctx, buckets, now); return err }},
					{"ClearStrikes of keys on every master", 1, func() error { return s.ClearStrikes(ctx, buckets) }},
					{"revoke", 1, func() error { return s.Revoke(ctx, "alice", x.ID) }},
					{"revoke all", 2 + v.extra, func() error { _, err := s.RevokeSubject(ctx, "alice", ""); return err }},
				} {
					if got := h.roundTrips(t, op.op); got != op.want {
						t.Errorf("%s: %d round trips, want %d", op.name, got, op.want)
					}
				}
			})
		}
	})
}

// TestScriptsReloaded: after SCRIPT FLUSH every operation still works,
// reloading its script on NOSCRIPT with one more round trip.
func TestScriptsReloaded(t *testing.T) {
	flush := func(t *testing.T, c redis.UniversalClient) {
		ctx := context.Background()
		var err error
		switch c := c.(type) {
		case *redis.ClusterClient:
			err = c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return n.ScriptFlush(ctx).Err() })
		default:
			err = c.ScriptFlush(ctx).Err()
		}
		if err != nil {
			t.Fatalf("SCRIPT FLUSH: %v", err)
		}
	}
	run := func(t *testing.T, c redis.UniversalClient) {
		h := &counter{}
		c.AddHook(h)
		s := newStore(t, c)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		x := session("alice", now)
		mustCreate(t, s, x, 0)
		for _, op := range []struct {
			name string
			base int64 // round trips with the script loaded
			op   func() error
		}{
			{"Create", 1, func() error { return s.Create(ctx, session("carol", now), 0) }},
			{"capped Create", 2, func() error { return s.Create(ctx, session("alice", now), 2) }},
			{"Touch", 1, func() error { return s.Touch(ctx, x.ID, now.Add(time.Minute), time.Hour, 0) }},
			{"Freshen", 1, func() error { return s.Freshen(ctx, x.ID, now.Add(5*time.Minute), now) }},
			{"AddStrike", 1, func() error { _, err := s.AddStrike(ctx, "login:alice", now, time.Hour); return err }},
			{"Rotate", 1, func() error {
				return s.Rotate(ctx, x.ID, store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: now.Add(time.Hour), KeepSpent: 5}, now)
			}},
			{"List", 2, func() error {
				l, err := s.List(ctx, "alice", now)
				if err == nil && len(l) != 2 {
					err = fmt.Errorf("%d sessions, want 2", len(l))
				}
				return err
			}},
			{"Revoke", 1, func() error { return s.Revoke(ctx, "alice", x.ID) }},
			{"RevokeSubject", 2, func() error {
				n, err := s.RevokeSubject(ctx, "alice", "")
				if err == nil && n != 1 {
					err = fmt.Errorf("revoked %d, want 1", n)
				}
				return err
			}},
		} {
			flush(t, c)
			if got := h.roundTrips(t, op.op); got != op.base+1 {
				t.Errorf("%s after SCRIPT FLUSH: %d round trips, want %d (NOSCRIPT, then EVAL)", op.name, got, op.base+1)
			}
		}
		create := func() error { return s.Create(ctx, session("bob", now), 0) }
		h.roundTrips(t, create) // reloads: every flush above dropped it
		if got := h.roundTrips(t, create); got != 1 {
			t.Errorf("Create once its script is reloaded: %d round trips, want 1", got)
		}
	}
	t.Run("private-redis", func(t *testing.T) {
		run(t, closing(t, redis.NewClient(&redis.Options{Addr: privateServer(t)})))
	})
	t.Run("redis-cluster", func(t *testing.T) { run(t, topologies[1].client(t)) })
}
