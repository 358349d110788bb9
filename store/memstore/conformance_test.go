package memstore_test

import (
	"testing"

	"github.com/latchauth/latch/conformance"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

// A closed Store stands for the lost backend. memstore has no backend
// whose writes a hook could count (conformance.WithWrites): the suite
// checks touch throttling on the stored state, and memstore_test counts
// its writes by the identity of the stored sessions.
func TestConformance(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		conformance.Run(t, func(t *testing.T) store.Store { return memstore.New() },
			conformance.WithBroken(func(t *testing.T) store.Store {
				m := memstore.New()
				m.Close()
				return m
			}))
	})
}
