package memstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/internal/opaquebench"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

// BenchmarkOpaque measures an opaque access token's authentication against
// a hand-written map lookup under a mutex of the same sessions
// (docs/performance.md, "Opaque tokens against a hand-written lookup"):
//
//	go test -run '^$' -bench Opaque -benchmem ./store/memstore
func BenchmarkOpaque(b *testing.B) {
	s := memstore.New()
	opaquebench.Run(b, s, func(b *testing.B, ids []string) opaquebench.Lookup {
		type record struct {
			subject string
			hash    []byte
		}
		var mu sync.Mutex
		m := make(map[string]record, len(ids))
		for _, id := range ids {
			x, err := s.Get(context.Background(), id, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			m[id] = record{x.Subject, x.SecretHash}
		}
		return func(_ context.Context, id string) (string, []byte, error) {
			mu.Lock()
			r, ok := m[id]
			mu.Unlock()
			if !ok {
				return "", nil, store.ErrNotFound
			}
			return r.subject, r.hash, nil
		}
	})
}
