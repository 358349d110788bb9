package memstore_test

import (
	"testing"

	"github.com/latchauth/latch/conformance"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

// A closed Store stands for the lost backend; memstore's write counter
// checks touch throttling.
func TestConformance(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		conformance.Run(t, func(t *testing.T) store.Store { return memstore.New() },
			conformance.WithBroken(func(t *testing.T) store.Store {
				m := memstore.New()
				m.Close()
				return m
			}),
			conformance.WithWrites(func(s store.Store) int64 { return s.(*memstore.Store).Writes() }))
	})
}
