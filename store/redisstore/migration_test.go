package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
)

// privateCluster starts a Redis Cluster of two masters of its own (private
// redis-server processes, stopped when t ends), the first with slots 0 to
// 8191 and the second the rest, and returns a client of each node.
func privateCluster(t *testing.T) (a, b *redis.Client) {
	t.Helper()
	ctx := context.Background()
	var nodes []*redis.Client
	for range 2 {
		addr := privateServer(t, "--cluster-enabled", "yes", "--cluster-node-timeout", "5000")
		nodes = append(nodes, closing(t, redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})))
	}
	a, b = nodes[0], nodes[1]
	host, port, _ := net.SplitHostPort(b.Options().Addr)
	if err := a.ClusterMeet(ctx, host, port).Err(); err != nil {
		t.Fatalf("CLUSTER MEET: %v", err)
	}
	if err := a.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 8191).Err(); err != nil {
		t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
	}
	if err := b.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 8192, 16383).Err(); err != nil {
		t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ok := true
		for _, n := range nodes {
			info, err := n.ClusterInfo(ctx).Result()
			ok = ok && err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:2")
		}
		if ok {
			return a, b
		}
		if time.Now().After(deadline) {
			t.Fatal("the private cluster did not reach cluster_state:ok")
		}
	}
}

// TestSlotMigration moves the slot of a subject from one master to the
// other the way redis-cli --cluster reshard does (SETSLOT IMPORTING and
// MIGRATING, MIGRATE key by key, SETSLOT NODE) and checks, phase by phase,
// exactly what each operation must do: succeed with the right result and
// state, or fail with TRYAGAIN (never store.ErrNotFound or
// store.ErrConflict) and change nothing. After every step no session may
// be alive without its member in the index, and the index may never exist
// on both nodes.
func TestSlotMigration(t *testing.T) {
	a, b := privateCluster(t)
	ctx := context.Background()
	c := closing(t, redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: []string{a.Options().Addr, b.Options().Addr}, ContextTimeoutEnabled: true,
	}))
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	const sub = "alice"
	idx := s.indexKey(s.keys[0], sub)
	slot, err := a.ClusterKeySlot(ctx, idx).Result()
	if err != nil {
		t.Fatal(err)
	}
	src, dst := a, b
	if slot >= 8192 {
		src, dst = b, a
	}
	srcID, err := src.Do(ctx, "CLUSTER", "MYID").Text()
	if err != nil {
		t.Fatal(err)
	}
	dstID, err := dst.Do(ctx, "CLUSTER", "MYID").Text()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Millisecond)
	at := now.Add(time.Minute) // the operations' now
	xs := make([]*store.Session, 6)
	for i := range xs {
		xs[i] = session(sub, now.Add(time.Duration(i)*time.Millisecond))
		mustCreate(t, s, xs[i], 0)
	}
	// An idled-out session: its key is gone at once, its member dangles.
	y := session(sub, now)
	y.IdleUntil = now.Add(-time.Second)
	mustCreate(t, s, y, 0)
	absent := tag(s.keys[0], sub) + strings.Repeat("A", store.IDLen-tagLen) // never created

	// asking runs cmd on n after ASKING, so that an importing node answers
	// for a key it holds; MOVED or ASK (the key is not on the node) is
	// absence.
	asking := func(n *redis.Client, cmd redis.Cmder) {
		t.Helper()
		p := n.Pipeline()
		p.Do(ctx, "ASKING")
		p.Process(ctx, cmd)
		p.Exec(ctx)
		if err := cmd.Err(); err != nil && err != redis.Nil && !strings.HasPrefix(err.Error(), "MOVED ") && !strings.HasPrefix(err.Error(), "ASK ") {
			t.Fatalf("%v on %s: %v", cmd.Args(), n.Options().Addr, err)
		}
	}
	// on reports the node holding key: src, dst or nil.
	on := func(key string) *redis.Client {
		t.Helper()
		for _, n := range []*redis.Client{src, dst} {
			e := redis.NewIntCmd(ctx, "EXISTS", key)
			asking(n, e)
			if e.Val() == 1 {
				return n
			}
		}
		return nil
	}
	want := []string{} // the ids that must be alive, in List order
	for i := len(xs) - 1; i >= 0; i-- {
		want = append(want, xs[i].ID)
	}
	drop := func(id string) { want = slices.DeleteFunc(want, func(x string) bool { return x == id }) }
	// check compares both nodes with want: the sessions alive on either,
	// the members of the index (a dangling member is allowed), and on how
	// many nodes the index exists.
	check := func(step string) {
		t.Helper()
		var alive, indexed []string
		copies := 0
		for _, n := range []*redis.Client{src, dst} {
			for _, x := range append(slices.Clone(xs), y) {
				e := redis.NewIntCmd(ctx, "EXISTS", s.sessionKey(x.ID))
				asking(n, e)
				if e.Val() == 1 {
					alive = append(alive, x.ID)
				}
			}
			m := redis.NewStringSliceCmd(ctx, "ZRANGE", idx, 0, -1)
			asking(n, m)
			if len(m.Val()) > 0 {
				copies++
			}
			indexed = append(indexed, m.Val()...)
		}
		if copies > 1 {
			t.Errorf("%s: the index exists on both nodes", step)
		}
		for _, id := range alive {
			if !slices.Contains(indexed, id) {
				t.Errorf("%s: session %s is alive but missing from its subject's index: RevokeSubject and List would miss it", step, id)
			}
		}
		slices.Sort(alive)
		w := slices.Sorted(slices.Values(want))
		if !slices.Equal(alive, w) {
			t.Errorf("%s: alive %v, want %v", step, alive, w)
		}
	}
	tryAgain := func(step string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "TRYAGAIN") ||
			errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("%s = %v, want a TRYAGAIN outage", step, err)
		}
		check(step)
	}
	ok := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s = %v, want nil", step, err)
		}
		check(step)
	}
	// single runs Get, Touch and Rotate on x: one key each, they succeed
	// wherever the key is.
	single := func(phase string, x *store.Session) {
		t.Helper()
		g, err := s.Get(ctx, x.ID, at)
		if err == nil && g.ID != x.ID {
			err = fmt.Errorf("got session %s", g.ID)
		}
		ok(phase+": Get", err)
		ok(phase+": Touch", s.Touch(ctx, x.ID, at, time.Hour, 0))
		r := store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: at.Add(time.Hour)}
		ok(phase+": Rotate", s.Rotate(ctx, x.ID, r, at))
		x.RefreshHash = r.RefreshHash
	}
	list := func(step string) {
		t.Helper()
		l, err := s.List(ctx, sub, at)
		ok(step, err)
		var got []string
		for _, x := range l {
			got = append(got, x.ID)
		}
		if err == nil && !slices.Equal(got, want) {
			t.Errorf("%s: List = %v, want %v", step, got, want)
		}
	}
	// creates: every Create names a new key, which no node holds, so
	// Redis refuses it while the slot migrates, whatever the cap.
	creates := func(phase string) {
		t.Helper()
		tryAgain(phase+": Create", s.Create(ctx, session(sub, at), 0))
		tryAgain(phase+": capped Create", s.Create(ctx, session(sub, at), 10))
	}
	check("before the migration")

	for _, cmd := range []struct {
		n    *redis.Client
		args []any
	}{
		{dst, []any{"CLUSTER", "SETSLOT", slot, "IMPORTING", srcID}},
		{src, []any{"CLUSTER", "SETSLOT", slot, "MIGRATING", dstID}},
	} {
		if err := cmd.n.Do(ctx, cmd.args...).Err(); err != nil {
			t.Fatalf("%v: %v", cmd.args, err)
		}
	}
	dhost, dport, _ := net.SplitHostPort(dst.Options().Addr)
	migrate := func(key string) {
		t.Helper()
		if err := src.Migrate(ctx, dhost, dport, key, 0, 5*time.Second).Err(); err != nil {
			t.Fatalf("MIGRATE %s: %v", key, err)
		}
	}

	// Phase 1: nothing has moved. The subject's keys are all on the
	// source, but for y's dangling member, which List clears (one EXISTS
	// per member) before it succeeds.
	phase := "nothing moved"
	single(phase, xs[0])
	list(phase + ": List")
	if n, _ := src.ZScore(ctx, idx, y.ID).Result(); n != 0 {
		t.Errorf("%s: List left the dangling member", phase)
	}
	creates(phase)
	ok(phase+": Revoke of an absent id", s.Revoke(ctx, sub, absent))
	err = s.Revoke(ctx, sub, xs[3].ID)
	drop(xs[3].ID)
	ok(phase+": Revoke", err)

	// Phase 2: one session on the target, the index on the source, and a
	// dangling member (a session key deleted by hand).
	phase = "index on the source, a session on the target"
	migrate(s.sessionKey(xs[0].ID))
	if err := src.Del(ctx, s.sessionKey(xs[4].ID)).Err(); err != nil {
		t.Fatal(err)
	}
	drop(xs[4].ID)
	if on(s.sessionKey(xs[0].ID)) != dst || on(idx) != src {
		t.Fatalf("%s: keys not where the phase needs them", phase)
	}
	single(phase, xs[0])
	single(phase, xs[1])
	tryAgain(phase+": List", func() error { _, err := s.List(ctx, sub, at); return err }())
	creates(phase)
	tryAgain(phase+": RevokeSubject", func() error { _, err := s.RevokeSubject(ctx, sub, ""); return err }())
	ok(phase+": Revoke of an absent id", s.Revoke(ctx, sub, absent))
	tryAgain(phase+": Revoke of the moved session", s.Revoke(ctx, sub, xs[0].ID))

	// Phase 3: the index on the target too, the other sessions on the
	// source.
	phase = "index and a session on the target"
	migrate(idx)
	single(phase, xs[0])
	single(phase, xs[1])
	tryAgain(phase+": List", func() error { _, err := s.List(ctx, sub, at); return err }())
	creates(phase)
	tryAgain(phase+": RevokeSubject", func() error { _, err := s.RevokeSubject(ctx, sub, ""); return err }())
	ok(phase+": Revoke of an absent id", s.Revoke(ctx, sub, absent))
	tryAgain(phase+": Revoke of a session on the source", s.Revoke(ctx, sub, xs[1].ID))

	// Phase 4: every key has moved, and the slot is still MIGRATING on
	// the source and IMPORTING on the target: the source answers ASK, and
	// the target serves every command whose keys it all holds. One more
	// dangling member (deleted by hand on the target) is cleared by List.
	phase = "every key moved, slot still migrating"
	for {
		keys, err := src.ClusterGetKeysInSlot(ctx, int(slot), 100).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == 0 {
			break
		}
		for _, k := range keys {
			migrate(k)
		}
	}
	del := redis.NewIntCmd(ctx, "DEL", s.sessionKey(xs[5].ID))
	asking(dst, del)
	if del.Val() != 1 {
		t.Fatalf("%s: DEL on the target: %v", phase, del.Err())
	}
	drop(xs[5].ID)
	single(phase, xs[0])
	list(phase + ": List")
	creates(phase)
	ok(phase+": Revoke of an absent id", s.Revoke(ctx, sub, absent))
	err = s.Revoke(ctx, sub, xs[2].ID)
	drop(xs[2].ID)
	ok(phase+": Revoke", err)
	// Left: xs[0] and xs[1]. RevokeSubject keeping xs[0] deletes xs[1].
	n, err := s.RevokeSubject(ctx, sub, xs[0].ID)
	drop(xs[1].ID)
	ok(phase+": RevokeSubject", err)
	if n != 1 {
		t.Errorf("%s: RevokeSubject = %d, want 1", phase, n)
	}
	list(phase + ": List after RevokeSubject")

	// Finish: hand the slot over; everything works again.
	for _, n := range []*redis.Client{dst, src} {
		if err := n.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err(); err != nil {
			t.Fatalf("CLUSTER SETSLOT NODE: %v", err)
		}
	}
	phase = "migration finished"
	check(phase)
	list(phase + ": List")
	var made []*store.Session
	for i := range 3 {
		x := session(sub, at.Add(time.Duration(1+i)*time.Second))
		if err := s.Create(ctx, x, 2); err != nil {
			t.Fatalf("%s: capped Create: %v", phase, err)
		}
		made = append(made, x)
	}
	xs = append(xs, made...)
	want = []string{made[2].ID, made[1].ID}
	list(phase + ": capped Creates")
	n, err = s.RevokeSubject(ctx, sub, "")
	if err != nil || n != 2 {
		t.Errorf("%s: RevokeSubject = %d, %v; want 2", phase, n, err)
	}
	want = nil
	check(phase + ": RevokeSubject")
	if e, _ := dst.Exists(ctx, idx).Result(); e != 0 {
		t.Errorf("%s: the index outlived its sessions", phase)
	}
}
