package mongostore

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

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

// BenchmarkThrottle measures the strike records on the test server:
//
//	go test -run '^$' -bench Throttle -benchtime 200x ./store/mongostore
//
// AddStrike is a read and an insert; "contended" runs it from 8
// goroutines on one key, where all but one of those that read the same
// newest document read again. The strikes collection holds the chain of
// the benchmark's key (one document per strike), which on FerretDB every
// query scans.
func BenchmarkThrottle(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	b.Run("AddStrike", func(b *testing.B) {
		s := newStore(b)
		for b.Loop() {
			if _, err := s.AddStrike(ctx, "ip:192.0.2.1", now, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AddStrike/contended", func(b *testing.B) {
		s := newStore(b)
		b.SetParallelism(4) // 8 goroutines on 2 cores
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.AddStrike(ctx, "ip:192.0.2.1", now, time.Hour); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("Strikes/3-keys", func(b *testing.B) {
		s := newStore(b)
		keys := []string{"ip:192.0.2.1", "user:alice", "ip+user:192.0.2.1/alice"}
		for _, k := range keys {
			if _, err := s.AddStrike(ctx, k, now, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		for b.Loop() {
			if _, err := s.Strikes(ctx, keys, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AddStrike+ClearStrikes", func(b *testing.B) {
		s := newStore(b)
		for b.Loop() {
			if _, err := s.AddStrike(ctx, "user:alice", now, time.Hour); err != nil {
				b.Fatal(err)
			}
			if err := s.ClearStrikes(ctx, []string{"user:alice"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
