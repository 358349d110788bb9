package sqlstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

// BenchmarkStore measures each Store operation on every database, with
// memstore (no I/O) as the baseline in the same run:
//
//	go test -run '^$' -bench Store -benchmem -count 6 ./store/sqlstore
//
// Get is what every opaque-token request costs; the core touches a
// session at most once a minute (Config.TouchInterval), so Touch is rare.
func BenchmarkStore(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchOps(b, memstore.New()) })
	// Connected as store.Open connects for a URL: arguments in the same
	// round trip as the query.
	params := map[string]string{"postgres": "binary_parameters=yes", "mysql": "interpolateParams=true"}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			dsn := be.dsn(b)
			if p := params[be.name]; p != "" {
				dsn = withParam(dsn, p)
			}
			benchOps(b, newStore(b, openDSN(b, be, dsn)))
		})
	}
}

func benchOps(b *testing.B, s store.Store) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	session := func(subject string) *store.Session {
		return &store.Session{
			Subject:     subject,
			Device:      store.Device{Label: "laptop", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", IP: "192.0.2.7"},
			SecretHash:  hash(),
			RefreshHash: hash(),
			Claims:      map[string]any{"role": "reader"},
			CreatedAt:   now, LastUsedAt: now,
			AccessExpiresAt: now.Add(15 * time.Minute),
			IdleUntil:       now.Add(30 * 24 * time.Hour),
			ExpiresAt:       now.Add(90 * 24 * time.Hour),
		}
	}
	create := func(b *testing.B, subject string, max int) *store.Session {
		x := session(subject)
		if err := s.Create(ctx, x, max); err != nil {
			b.Fatal(err)
		}
		return x
	}
	// Ten sessions for one subject, as a user with several devices has.
	var ten []*store.Session
	for range 10 {
		ten = append(ten, create(b, "alice", 0))
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
			r := store.Rotation{Old: old, RefreshHash: hash(), SecretHash: hash(),
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
	// A table this benchmark just filled has no planner statistics yet,
	// and PostgreSQL then also scans the expires_at index; autovacuum
	// keeps them in a real table, so gather them as it would.
	if x, ok := s.(*Store); ok && x.d == postgres {
		if _, err := x.db.ExecContext(ctx, "ANALYZE "+x.prefix+"sessions"); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("List-10", func(b *testing.B) {
		for b.Loop() {
			l, err := s.List(ctx, "alice", now)
			if err != nil || len(l) != 10 {
				b.Fatal(len(l), err)
			}
		}
	})
	// A revocation needs a session to end: this is a login and a logout.
	b.Run("Create+Revoke", func(b *testing.B) {
		for b.Loop() {
			x := create(b, "erin", 0)
			if err := s.Revoke(ctx, "erin", x.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func hash() []byte {
	h := make([]byte, store.HashLen)
	rand.Read(h)
	return h
}
