package mongostore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// BenchmarkSize measures the per-request operations against a collection
// already holding n other sessions (of n/10 subjects), to show how each
// grows with the collection on the test server:
//
//	go test -run '^$' -bench Size -benchtime 20x ./store/mongostore
//
// On FerretDB v1.24.2 (SQLite) no query uses an index, not even one on
// exact _id (see "FerretDB" in the package doc): every operation grows
// with the collection, an exact _id least (SQLite scans the rows), other
// filters most (every document is decoded and filtered in Go).
func BenchmarkSize(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("docs=%d", n), func(b *testing.B) {
			s := newStore(b)
			ctx := context.Background()
			now := time.Now().Truncate(time.Millisecond)
			var batch []any
			for i := range n {
				x := session(fmt.Sprint("filler", i/10), now)
				x.ID = store.NewID()
				d, err := sessionDoc(x)
				if err != nil {
					b.Fatal(err)
				}
				batch = append(batch, d)
				if len(batch) == 500 || i == n-1 {
					if _, err := s.c.InsertMany(ctx, batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			for range 10 {
				if err := s.Create(ctx, session("alice", now), 0); err != nil {
					b.Fatal(err)
				}
			}
			x := session("gina", now)
			if err := s.Create(ctx, x, 0); err != nil {
				b.Fatal(err)
			}
			b.Run("Get", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.Get(ctx, x.ID, now); err != nil {
						b.Fatal(err)
					}
				}
			})
			at := now
			b.Run("Touch", func(b *testing.B) {
				for b.Loop() {
					at = at.Add(time.Millisecond)
					if err := s.Touch(ctx, x.ID, at, time.Hour, time.Millisecond); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Rotate", func(b *testing.B) {
				old := x.RefreshHash
				for b.Loop() {
					r := store.Rotation{Old: old, RefreshHash: hash(), IdleUntil: now.Add(time.Hour), KeepSpent: 5}
					if err := s.Rotate(ctx, x.ID, r, now); err != nil {
						b.Fatal(err)
					}
					old = r.RefreshHash
				}
			})
			b.Run("List-10", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.List(ctx, "alice", now); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Create-capped", func(b *testing.B) {
				// Fails once the turn's budget (2 s) is exceeded: counted,
				// not fatal.
				failed := 0
				for b.Loop() {
					if err := s.Create(ctx, session("dave", now), 5); err != nil {
						failed++
					}
				}
				b.ReportMetric(float64(failed), "failed")
			})
			b.Run("Create+Revoke", func(b *testing.B) {
				for b.Loop() {
					y := session("erin", now)
					if err := s.Create(ctx, y, 0); err != nil {
						b.Fatal(err)
					}
					if err := s.Revoke(ctx, "erin", y.ID); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
