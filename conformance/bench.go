package conformance

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// Benchmark measures each Store operation on s as a sub-benchmark named
// after what it costs a request: Get (validating an opaque token), Touch
// (written, as when due), Rotate (a refresh), Create (a login),
// Create-capped (a login under a cap of 5 that evicts), List-10 (a device
// list of ten) and Create+Revoke (a login and its logout). Run it on
// memstore in the same benchmark for a baseline from the same run:
//
//	func BenchmarkStore(b *testing.B) {
//		b.Run("memory", func(b *testing.B) { conformance.Benchmark(b, memstore.New()) })
//		b.Run("mystore", func(b *testing.B) { conformance.Benchmark(b, newStore(b)) })
//	}
//
// The sessions it writes are a 31-byte user agent, one claim, 30 days
// idle and 90 days absolute: give it a store of its own. WithSettle is
// the one option it takes.
func Benchmark(b *testing.B, s store.Store, opts ...Option) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	create := func(b *testing.B, subject string, max int) *store.Session {
		x := benchSession(subject, now)
		if err := s.Create(ctx, x, max); err != nil {
			b.Fatal(err)
		}
		return x
	}
	// Ten sessions for one subject, as a user with several devices has.
	for range 10 {
		create(b, "alice", 0)
	}
	// Get and Touch use a session of their own: a row updated thousands of
	// times in a second leaves dead versions (PostgreSQL) that a List of
	// its subject would wade through until vacuum, which no real session
	// sees.
	id := create(b, "gina", 0).ID

	b.Run("Get", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Get(ctx, id, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	at := now // across the runs of -count, so every touch is due
	b.Run("Touch", func(b *testing.B) {
		for b.Loop() {
			at = at.Add(time.Millisecond) // due every time: one write
			if err := s.Touch(ctx, id, at, time.Hour, time.Millisecond); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Rotate", func(b *testing.B) {
		x := create(b, "bob", 0)
		old := x.RefreshHash
		for b.Loop() {
			r := store.Rotation{Old: old, RefreshHash: randomHash(), SecretHash: randomHash(),
				AccessExpiresAt: now.Add(15 * time.Minute), IdleUntil: now.Add(time.Hour), KeepSpent: 5}
			if err := s.Rotate(ctx, x.ID, r, now); err != nil {
				b.Fatal(err)
			}
			old = r.RefreshHash
		}
	})
	b.Run("Create", func(b *testing.B) {
		i := 0
		for b.Loop() {
			create(b, fmt.Sprint("carol", i), 0)
			i++
		}
	})
	b.Run("Create-capped", func(b *testing.B) {
		for b.Loop() {
			create(b, "dave", 5) // a cap of 5, evicting one each time
		}
	})
	if o.settle != nil {
		o.settle(b)
	}
	b.Run("List-10", func(b *testing.B) {
		for b.Loop() {
			l, err := s.List(ctx, "alice", now)
			if err != nil || len(l) != 10 {
				b.Fatal(len(l), err)
			}
		}
	})
	b.Run("Create+Revoke", func(b *testing.B) {
		for b.Loop() {
			x := create(b, "erin", 0)
			if err := s.Revoke(ctx, "erin", x.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchSession is the session Benchmark writes.
func benchSession(subject string, now time.Time) *store.Session {
	return &store.Session{
		Subject:         subject,
		Device:          store.Device{Label: "laptop", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", IP: "192.0.2.7"},
		SecretHash:      randomHash(),
		RefreshHash:     randomHash(),
		Claims:          map[string]any{"role": "reader"},
		CreatedAt:       now,
		LastUsedAt:      now,
		AccessExpiresAt: now.Add(15 * time.Minute),
		IdleUntil:       now.Add(30 * 24 * time.Hour),
		ExpiresAt:       now.Add(90 * 24 * time.Hour),
	}
}
