package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/conformance"
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
	b.Run("memory", func(b *testing.B) { conformance.Benchmark(b, memstore.New()) })
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := newStore(b, benchDB(b, be))
			conformance.Benchmark(b, s, conformance.WithSettle(func(b *testing.B) { analyze(b, s) }))
		})
	}
}

// analyze gathers PostgreSQL's planner statistics, as autovacuum keeps
// them for a real table: a table the benchmark just filled has none, and
// the planner then also scans the expires_at index for a List.
func analyze(b *testing.B, s *Store) {
	if s.d != PostgreSQL {
		return
	}
	if _, err := s.db.ExecContext(context.Background(), "ANALYZE "+s.prefix+"sessions"); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPostgresSize measures what a session costs PostgreSQL on disk:
// 10,000 compact sessions (conformance.Benchmark's: 31-byte user agent,
// one claim), one per subject, each created a millisecond after the
// last, in tables of their own, then VACUUM
// ANALYZE, as autovacuum would leave them. It reports per session the
// table's main fork (heap), its indexes, everything
// (pg_total_relation_size: heap, indexes, TOAST, free space and
// visibility maps), and the average row (pg_column_size):
//
//	go test -run '^$' -bench PostgresSize -benchtime 1x ./store/sqlstore
func BenchmarkPostgresSize(b *testing.B) {
	const n = 10_000
	db := openDB(b, backends[0])
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	var heap, indexes, total, row float64
	for b.Loop() {
		s := newStore(b, db)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < n; i += 8 {
					// Distinct times, as real logins have: equal keys
					// would shrink the time indexes by deduplication.
					now := now.Add(time.Duration(i) * time.Millisecond)
					x := &store.Session{
						Subject:     fmt.Sprintf("user-%07d", i),
						Device:      store.Device{Label: "laptop", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", IP: "192.0.2.7"},
						SecretHash:  randomHash(),
						RefreshHash: randomHash(),
						Claims:      map[string]any{"role": "reader"},
						CreatedAt:   now, LastUsedAt: now, AccessExpiresAt: now.Add(15 * time.Minute),
						IdleUntil: now.Add(30 * 24 * time.Hour), ExpiresAt: now.Add(90 * 24 * time.Hour),
					}
					if err := s.Create(ctx, x, 0); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		table := s.prefix + "sessions"
		if _, err := db.ExecContext(ctx, "VACUUM ANALYZE "+table); err != nil {
			b.Fatal(err)
		}
		var h, i, t int64
		err := db.QueryRowContext(ctx, `SELECT pg_relation_size($1::regclass), pg_indexes_size($1::regclass),
			pg_total_relation_size($1::regclass), (SELECT avg(pg_column_size(s.*)) FROM `+table+` s)`, table).
			Scan(&h, &i, &t, &row)
		if err != nil {
			b.Fatal(err)
		}
		heap, indexes, total = float64(h)/n, float64(i)/n, float64(t)/n
		rows, err := db.QueryContext(ctx, `SELECT indexrelid::regclass::text, pg_relation_size(indexrelid)
			FROM pg_index WHERE indrelid = $1::regclass ORDER BY 1`, table)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var name string
			var size int64
			if err := rows.Scan(&name, &size); err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: %.1f bytes per session", strings.TrimPrefix(name, s.prefix), float64(size)/n)
		}
		rows.Close()
	}
	b.ReportMetric(heap, "B-heap/session")
	b.ReportMetric(indexes, "B-indexes/session")
	b.ReportMetric(total, "B-total/session")
	b.ReportMetric(row, "B/row")
}
