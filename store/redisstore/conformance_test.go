package redisstore

import (
	"testing"

	"github.com/latchauth/latch/conformance"
	"github.com/latchauth/latch/store"
)

// TestConformance runs the suite on a single server and on a three-master
// cluster, each rule with a key prefix of its own. The rules run one at a
// time, so the client's write counter counts the writes of one store.
func TestConformance(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		c := tp.client(t)
		writes := countWrites(c)
		conformance.Run(t, func(t *testing.T) store.Store { return newStore(t, c) },
			conformance.WithTwin(func(t *testing.T, s store.Store) store.Store { return twin(t, tp, s.(*Store)) }),
			conformance.WithBroken(func(t *testing.T) store.Store {
				s, err := New(tp.dead(t))
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return s
			}),
			conformance.WithWrites(func(store.Store) int64 { return writes.n.Load() }),
		)
	})
}
