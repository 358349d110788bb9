package mongostore

import (
	"crypto/rand"
	"testing"

	"github.com/latchauth/latch/conformance"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

// BenchmarkStore measures each Store operation on the test server, with
// memstore (no I/O) as the baseline in the same run:
//
//	go test -run '^$' -bench Store -benchmem -count 6 ./store/mongostore
//
// Get is what every opaque-token request costs; the core touches a
// session at most once a minute (Config.TouchInterval), so Touch is rare.
// FerretDB's SQLite backend serves no query from an index (see
// "FerretDB" in the package doc, and BenchmarkSize), so its figures say
// little about MongoDB's.
func BenchmarkStore(b *testing.B) {
	b.Run("memory", func(b *testing.B) { conformance.Benchmark(b, memstore.New()) })
	b.Run("mongo", func(b *testing.B) { conformance.Benchmark(b, newStore(b)) })
}

func hash() []byte {
	h := make([]byte, store.HashLen)
	rand.Read(h)
	return h
}
