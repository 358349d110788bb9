package mongostore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// TestRoundTrips: the commands, each one round trip, that each operation
// sends (docs/stores.md quotes these), counted by the driver's command
// monitor on the real server. On FerretDB a session is read with one find
// per document, run at once (see Store.read): want is MongoDB's count,
// ferret FerretDB's. Strikes, too, sends its finds at once. Every change
// that ends or alters a session costs one insert more: its report in the
// change log (watch.go).
func TestRoundTrips(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	x := session("alice", now)
	create := func(x *store.Session, max int) error { return s.Create(ctx, x, max) }
	if err := create(x, 0); err != nil { // warm up: a connection is open
		t.Fatal(err)
	}
	onFerret := !s.oneQuery.Load()
	rotate := func() error {
		r := store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: now.Add(time.Hour), KeepSpent: 3}
		x.RefreshHash = r.RefreshHash
		return s.Rotate(ctx, x.ID, r, now)
	}
	for _, op := range []struct {
		name         string
		want, ferret int64
		op           func() error
	}{
		{"login (Create)", 1, 1, func() error { return create(session("alice", now), 0) }},
		{"login under a cap, first of its subject (Create)", 6, 6, func() error { return create(session("bob", now), 3) }},
		{"login under a cap, nothing evicted (Create)", 7, 7, func() error { return create(session("bob", now), 3) }},
		{"login under a cap, evicting (Create)", 9, 9, func() error { return create(session("bob", now), 1) }},
		{"validate (Get)", 1, 3, func() error { _, err := s.Get(ctx, x.ID, now); return err }},
		{"touch (Touch)", 2, 3, func() error { return s.Touch(ctx, x.ID, now.Add(time.Minute), time.Hour, time.Minute) }},
		{"throttled touch (Touch)", 1, 2, func() error { return s.Touch(ctx, x.ID, now.Add(time.Minute), time.Hour, time.Minute) }},
		{"step-up (Freshen)", 3, 4, func() error { return s.Freshen(ctx, x.ID, now.Add(5*time.Minute), now) }},
		{"refresh, first (Rotate)", 4, 5, rotate},
		{"refresh, later (Rotate)", 5, 6, rotate},
		{"refresh with a spent token (Rotate: ErrConflict)", 1, 2, func() error {
			r := store.Rotation{Old: hash(), RefreshHash: hash(), IdleUntil: now.Add(time.Hour), KeepSpent: 3}
			if err := s.Rotate(ctx, x.ID, r, now); err != store.ErrConflict {
				return fmt.Errorf("Rotate: %v, want ErrConflict", err)
			}
			return nil
		}},
		{"list devices (List)", 1, 1, func() error { _, err := s.List(ctx, "alice", now); return err }},
		{"revoke (Revoke)", 2, 2, func() error { return s.Revoke(ctx, "alice", x.ID) }},
		{"revoke all (RevokeSubject)", 4, 4, func() error { _, err := s.RevokeSubject(ctx, "alice", ""); return err }},
		{"revoke all, no session (RevokeSubject)", 1, 1, func() error { _, err := s.RevokeSubject(ctx, "alice", ""); return err }},
		{"failed login (AddStrike)", 2, 2, func() error { _, err := s.AddStrike(ctx, "login:alice", now, time.Hour); return err }},
		{"throttling check of two keys (Strikes)", 2, 2, func() error { _, err := s.Strikes(ctx, []string{"login:alice", "ip:192.0.2.7"}, now); return err }},
		{"throttling reset of two keys, one with strikes (ClearStrikes)", 3, 3, func() error { return s.ClearStrikes(ctx, []string{"login:alice", "ip:192.0.2.7"}) }},
	} {
		before := commands(s)
		if err := op.op(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		got, want := commands(s)-before, op.want
		if onFerret {
			want = op.ferret
		}
		t.Logf("%-50s %d round trips", op.name, got)
		if got != want {
			t.Errorf("%s: %d round trips, want %d", op.name, got, want)
		}
	}
}
