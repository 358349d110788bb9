package redisstore

import (
	"context"
	"testing"
	"time"
)

// TestWriteCounter: the hook the conformance suite counts writes with
// sees each kind of write, and no read or refused write, on both
// topologies.
func TestWriteCounter(t *testing.T) {
	ctx := context.Background()
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		w := countWrites(c)
		s := newStore(t, c)
		now := time.Now().Truncate(time.Millisecond)
		x := session("alice", now)
		for _, step := range []struct {
			name  string
			do    func() error
			wrote bool
		}{
			{"Create", func() error { return s.Create(ctx, x, 0) }, true},
			{"Get", func() error { _, err := s.Get(ctx, x.ID, now); return err }, false},
			{"throttled Touch", func() error { return s.Touch(ctx, x.ID, now.Add(time.Second), time.Hour, time.Minute) }, false},
			{"Touch", func() error { return s.Touch(ctx, x.ID, now.Add(time.Minute), time.Hour, time.Minute) }, true},
			{"List", func() error { _, err := s.List(ctx, "alice", now); return err }, false},
			{"Revoke of another subject", func() error { return s.Revoke(ctx, "bob", x.ID) }, false},
			{"Revoke", func() error { return s.Revoke(ctx, "alice", x.ID) }, true},
			{"Revoke again", func() error { return s.Revoke(ctx, "alice", x.ID) }, false},
		} {
			before := w.n.Load()
			if err := step.do(); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if got := w.n.Load() != before; got != step.wrote {
				t.Errorf("%s: counted a write = %v, want %v", step.name, got, step.wrote)
			}
		}
	})
}
