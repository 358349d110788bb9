package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/internal/lifecycle"
	"github.com/latchauth/latch/store/storekit"
)

func session(subject string, now time.Time) *store.Session {
	return &store.Session{
		Subject:         subject,
		Device:          store.Device{Label: "laptop", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", IP: "192.0.2.7"},
		SecretHash:      hash(),
		RefreshHash:     hash(),
		Claims:          map[string]any{"role": "reader"},
		CreatedAt:       now,
		LastUsedAt:      now,
		AccessExpiresAt: now.Add(15 * time.Minute),
		IdleUntil:       now.Add(time.Hour),
		ExpiresAt:       now.Add(24 * time.Hour),
	}
}

func mustCreate(t testing.TB, s *Store, x *store.Session, max int) string {
	t.Helper()
	if err := s.Create(context.Background(), x, max); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return x.ID
}

// TestSlots: a subject's session keys and index share a hash slot, the
// ids carry the subject's tag, braces in a subject do not move the slot,
// and subjects spread over the three masters.
func TestSlots(t *testing.T) {
	c := topologies[1].client(t).(*redis.ClusterClient)
	s := newStore(t, c)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	slot := func(key string) int64 {
		t.Helper()
		n, err := c.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT: %v", err)
		}
		return n
	}
	masters := map[string]int{}
	for i := range 60 {
		sub := fmt.Sprintf("user-%d", i)
		if i == 0 {
			sub = "{x}"
		}
		want := tag(s.keys[0], sub)
		idx := s.indexKey(s.keys[0], sub)
		for range 3 {
			id := mustCreate(t, s, session(sub, now), 0)
			if id[:tagLen] != want {
				t.Fatalf("id %s of %q does not start with its tag %s", id, sub, want)
			}
			if a, b := slot(s.sessionKey(id)), slot(idx); a != b {
				t.Fatalf("subject %q: session key in slot %d, index in slot %d", sub, a, b)
			}
		}
		// The tag chooses the slot, whatever braces the subject holds.
		if got, want := slot(idx), slot("{"+want+"}"); got != want {
			t.Fatalf("subject %q: index in slot %d, want the tag's %d", sub, got, want)
		}
		if i == 0 && slot(idx) == slot("{x}") {
			t.Fatalf("subject {x}: the index is in the slot of x, not of its tag")
		}
		m, err := c.MasterForKey(ctx, idx)
		if err != nil {
			t.Fatal(err)
		}
		masters[m.Options().Addr]++
	}
	if len(masters) != 3 {
		t.Errorf("60 subjects landed on %d masters, want all 3: %v", len(masters), masters)
	}
}

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
				mustCreate(t, s, session("warm-up", now), 0) // scripts loaded, cluster slots known
				var x *store.Session
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
					{"refresh (Rotate)", 1, func() error {
						return s.Rotate(ctx, x.ID, store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: now.Add(time.Hour), KeepSpent: 5}, now)
					}},
					{"list", 2 + v.extra, func() error { _, err := s.List(ctx, "alice", now); return err }},
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

// TestRoutingKeys: a session created under a routing key the Store does
// not know is refused, never served; naming the old key as previous finds
// every session during a change of keys.
func TestRoutingKeys(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		prefix := randomPrefix()
		t.Cleanup(func() { deleteKeys(t, c, prefix) })
		secret := []byte("a secret routing key of 32 bytes")
		mk := func(opts ...Option) *Store {
			s, err := New(c, append([]Option{WithKeyPrefix(prefix)}, opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		def, moving, moved := mk(), mk(WithRoutingKey(secret, []byte(DefaultRoutingKey))), mk(WithRoutingKey(secret))
		// Subjects whose tags differ under the two keys.
		var subs []string
		for i := 0; len(subs) < 5; i++ {
			sub := fmt.Sprintf("user-%d", i)
			if tag([]byte(DefaultRoutingKey), sub) != tag(secret, sub) {
				subs = append(subs, sub)
			}
		}
		for _, sub := range subs {
			a := mustCreate(t, def, session(sub, now), 0)
			b := mustCreate(t, moving, session(sub, now), 0)
			if _, err := moved.Get(ctx, a, now); !errors.Is(err, ErrRoutingKey) || errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get of a session under an unknown routing key = %v, want ErrRoutingKey", err)
			}
			if _, err := def.Get(ctx, b, now); !errors.Is(err, ErrRoutingKey) {
				t.Errorf("Get of a session under an unknown routing key = %v, want ErrRoutingKey", err)
			}
			for _, id := range []string{a, b} {
				if _, err := moving.Get(ctx, id, now); err != nil {
					t.Errorf("Get with the previous key named: %v", err)
				}
			}
			l, err := moving.List(ctx, sub, now)
			if err != nil || len(l) != 2 {
				t.Errorf("List during the change of keys = %d sessions, %v; want 2", len(l), err)
			}
			if n, err := moving.RevokeSubject(ctx, sub, ""); err != nil || n != 2 {
				t.Errorf("RevokeSubject during the change of keys = %d, %v; want 2", n, err)
			}
		}
	})
}

// TestClose: after Close every method fails with ErrClosed, an outage;
// the client passed to New stays open.
func TestClose(t *testing.T) {
	c := topologies[0].client(t)
	s := newStore(t, c)
	other, err := New(c, WithKeyPrefix(s.prefix))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	x := session("alice", now)
	mustCreate(t, s, x, 0)
	lifecycle.Closed(t, s, x, ErrClosed, func(id string) (*store.Session, error) { return other.Get(ctx, id, now) })
	if err := c.Ping(ctx).Err(); err != nil {
		t.Errorf("the client passed to New was closed: %v", err)
	}
}

// TestInvalid: values beyond package store's limits are ErrInvalid and
// write nothing.
func TestInvalid(t *testing.T) {
	c := topologies[0].client(t)
	s := newStore(t, c)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	for name, change := range map[string]func(*store.Session){
		"long subject":         func(x *store.Session) { x.Subject = strings.Repeat("x", store.MaxSubjectLen+1) },
		"subject with NUL":     func(x *store.Session) { x.Subject = "a\x00b" },
		"subject not UTF-8":    func(x *store.Session) { x.Subject = "\xff" },
		"long device field":    func(x *store.Session) { x.Device.UserAgent = strings.Repeat("M", store.MaxDeviceLen+1) },
		"long hash":            func(x *store.Session) { x.RefreshHash = make([]byte, store.HashLen+1) },
		"long spent hash":      func(x *store.Session) { x.Spent = [][]byte{make([]byte, store.HashLen+1)} },
		"time beyond 2^53 ms":  func(x *store.Session) { x.ExpiresAt = time.UnixMilli(maxMS + 1) },
		"claims not encodable": func(x *store.Session) { x.Claims = map[string]any{"f": func() {}} },
	} {
		x := session("alice", now)
		change(x)
		if err := s.Create(ctx, x, 1); !errors.Is(err, ErrInvalid) {
			t.Errorf("Create with a %s = %v, want ErrInvalid", name, err)
		}
	}
	x := session("alice", now)
	mustCreate(t, s, x, 0)
	for name, r := range map[string]store.Rotation{
		"long hash":           {Old: x.RefreshHash, RefreshHash: make([]byte, store.HashLen+1)},
		"time beyond 2^53 ms": {Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: time.UnixMilli(-maxMS - 1)},
	} {
		if err := s.Rotate(ctx, x.ID, r, now); !errors.Is(err, ErrInvalid) {
			t.Errorf("Rotate with a %s = %v, want ErrInvalid", name, err)
		}
	}
	if keys := keysOf(t, c, s.prefix); len(keys) != 2 {
		t.Errorf("%d keys after refused writes, want the 2 of one session", len(keys))
	}
	// A now far beyond the stored range decides as its clamped value.
	if err := s.Touch(ctx, x.ID, time.UnixMilli(maxMS).Add(time.Hour), time.Hour, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Touch at a far-future now = %v, want store.ErrNotFound", err)
	}
}

// TestDecodeCorrupt: a value this package did not write is an error, not
// a session and not absence.
func TestDecodeCorrupt(t *testing.T) {
	now := time.Now().Truncate(time.Millisecond)
	x := session("alice", now)
	x.Spent = [][]byte{hash(), {}}
	v, err := encode(x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decode("id", v)
	if err != nil || got.Subject != "alice" || len(got.Spent) != 2 || len(got.Spent[1]) != 0 {
		t.Fatalf("decode(encode) = %+v, %v", got, err)
	}
	// Spent hashes run to the end of the value, so only a value without
	// them is corrupt when cut anywhere.
	x.Spent = nil
	if v, err = encode(x); err != nil {
		t.Fatal(err)
	}
	for i := range len(v) {
		if _, err := decode("id", v[:i]); !errors.Is(err, errCorrupt) {
			t.Errorf("decode of the first %d bytes = %v, want errCorrupt", i, err)
		}
	}
	bad := slices.Clone(v)
	bad[0] = 2
	if _, err := decode("id", bad); !errors.Is(err, errCorrupt) {
		t.Errorf("decode of another version = %v", err)
	}
}

// TestIDs: ids are valid, carry the tag, and differ.
func TestIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := range 10000 {
		tg := tag([]byte(DefaultRoutingKey), fmt.Sprint(i))
		id := newID(tg)
		if !store.ValidID(id) || id[:tagLen] != tg || seen[id] {
			t.Fatalf("newID(%s) = %s", tg, id)
		}
		seen[id] = true
	}
}

// FuzzDecode: no stored value, however damaged, makes decode panic, and
// what decodes encodes again.
func FuzzDecode(f *testing.F) {
	now := time.Now().Truncate(time.Millisecond)
	x := session("alice", now)
	x.Spent = [][]byte{hash(), hash()}
	v, err := encode(x)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v)
	f.Add(v[:headerLen])
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := decode("id", b)
		if err != nil {
			return
		}
		if storekit.ValidSubject(x.Subject) {
			if _, err := encode(x); err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("encode of a decoded session: %v", err)
			}
		}
	})
}

// TestTimes: the Unix epoch itself and the zero time both come back as
// they went in, through Create, Touch, Rotate and List; a session whose
// RotatedAt and FreshUntil are zero is handled by every script.
func TestTimes(t *testing.T) {
	epoch := time.UnixMilli(0).UTC()
	x := session("alice", time.Now().Truncate(time.Millisecond))
	x.CreatedAt, x.LastUsedAt, x.AccessExpiresAt = epoch, time.Time{}, epoch
	v, err := encode(x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decode("id", v)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(epoch) || got.CreatedAt.IsZero() || !got.AccessExpiresAt.Equal(epoch) {
		t.Errorf("the Unix epoch came back as %v, %v", got.CreatedAt, got.AccessExpiresAt)
	}
	if got.LastUsedAt != (time.Time{}) || got.RotatedAt != (time.Time{}) || got.FreshUntil != (time.Time{}) {
		t.Errorf("zero times came back as %v, %v, %v", got.LastUsedAt, got.RotatedAt, got.FreshUntil)
	}
	eachTopology(t, func(t *testing.T, tp topology) {
		s := newStore(t, tp.client(t))
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		x := session("alice", now)
		x.CreatedAt, x.LastUsedAt, x.AccessExpiresAt = epoch, time.Time{}, time.Time{}
		mustCreate(t, s, x, 2)
		mustCreate(t, s, session("alice", now), 2) // judges x's liveness at its CreatedAt
		l, err := s.List(ctx, "alice", now)
		if err != nil || len(l) != 2 {
			t.Fatalf("List = %d sessions, %v; want 2", len(l), err)
		}
		g, err := s.Get(ctx, x.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if !g.CreatedAt.Equal(epoch) || !g.LastUsedAt.IsZero() || !g.RotatedAt.IsZero() || !g.FreshUntil.IsZero() || !g.AccessExpiresAt.IsZero() {
			t.Errorf("Get = created %v, last used %v, rotated %v, fresh %v, access %v", g.CreatedAt, g.LastUsedAt, g.RotatedAt, g.FreshUntil, g.AccessExpiresAt)
		}
		// A zero LastUsedAt is long ago: the touch is due.
		if err := s.Touch(ctx, x.ID, now, time.Hour, time.Hour); err != nil {
			t.Fatal(err)
		}
		if g, _ = s.Get(ctx, x.ID, now); !g.LastUsedAt.Equal(now) {
			t.Errorf("after Touch, LastUsedAt = %v, want %v", g.LastUsedAt, now)
		}
		if err := s.Rotate(ctx, x.ID, store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: now.Add(time.Hour), KeepSpent: 1}, now); err != nil {
			t.Fatal(err)
		}
		if g, _ = s.Get(ctx, x.ID, now); !g.FreshUntil.IsZero() || !g.AccessExpiresAt.IsZero() || !g.RotatedAt.Equal(now) || !g.CreatedAt.Equal(epoch) {
			t.Errorf("after Rotate: fresh %v, access %v, rotated %v, created %v", g.FreshUntil, g.AccessExpiresAt, g.RotatedAt, g.CreatedAt)
		}
		// Zero IdleUntil or ExpiresAt: never live.
		for _, z := range []func(*store.Session){
			func(x *store.Session) { x.IdleUntil = time.Time{} },
			func(x *store.Session) { x.ExpiresAt = time.Time{} },
		} {
			x := session("bob", now)
			z(x)
			mustCreate(t, s, x, 1)
			if _, err := s.Get(ctx, x.ID, now); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get of a session with a zero deadline = %v, want store.ErrNotFound", err)
			}
		}
	})
}

// TestClosedInFlight: a call on an owned client closed under it fails
// with ErrClosed.
func TestClosedInFlight(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: privateServer(t)})
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	s.owned = true
	c.Close() // as Close does, while a call is on its way
	if _, err := s.Get(context.Background(), newID("abc"), time.Now()); !errors.Is(err, ErrClosed) {
		t.Errorf("Get on a closed client = %v, want ErrClosed", err)
	}
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

// TestBounded: a client ends a call at its context's deadline only with
// ContextTimeoutEnabled; without it latch guards each call.
func TestBounded(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    redis.UniversalClient
		want bool
	}{
		{"client", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), false},
		{"client with context timeouts", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}), true},
		{"cluster", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}), false},
		{"cluster with context timeouts", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true}), true},
		{"ring", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ContextTimeoutEnabled: true}), false},
	} {
		t.Cleanup(func() { tt.c.Close() })
		s, err := New(tt.c)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Bounded(); got != tt.want {
			t.Errorf("%s: Bounded() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
