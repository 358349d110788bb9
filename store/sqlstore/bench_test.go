package sqlstore

import (
	"context"
	"testing"

	"github.com/latchauth/latch/conformance"
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
	// Connected as store.Open connects for a URL: arguments in the same
	// round trip as the query.
	params := map[string]string{"postgres": "binary_parameters=yes", "mysql": "interpolateParams=true"}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			dsn := be.dsn(b)
			if p := params[be.name]; p != "" {
				dsn = withParam(dsn, p)
			}
			s := newStore(b, openDSN(b, be, dsn))
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
