package memstore_test

import (
	"testing"

	"github.com/latchauth/latch/conformance"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

// An in-process store has no backend to lose, so the suite runs without
// WithBroken; memstore's write counter checks touch throttling.
func TestConformance(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		conformance.Run(t, func(t *testing.T) store.Store { return memstore.New() },
			conformance.WithWrites(func(s store.Store) int64 { return s.(*memstore.Store).Writes() }))
	})
}
