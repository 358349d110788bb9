package sqlstore

import (
	"context"
	"testing"

	"github.com/latchauth/latch/internal/opaquebench"
)

// BenchmarkOpaque measures an opaque access token's authentication on
// every database against a hand-written SELECT by primary key of the same
// session through the same pool (docs/performance.md, "Opaque tokens
// against a hand-written lookup"):
//
//	go test -run '^$' -bench Opaque -benchmem ./store/sqlstore
func BenchmarkOpaque(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := newStore(b, benchDB(b, be))
			q := s.db.Rebind(`SELECT subject, secret_hash FROM ` + s.prefix + `sessions WHERE id = ?`)
			opaquebench.Run(b, s, func(b *testing.B, _ []string) opaquebench.Lookup {
				analyze(b, s) // the planner's statistics, as autovacuum keeps them
				return func(ctx context.Context, id string) (subject string, hash []byte, err error) {
					err = s.db.DB.QueryRowContext(ctx, q, id).Scan(&subject, &hash)
					return subject, hash, err
				}
			})
		})
	}
}

// benchDB opens a pool on be's database connected as store.Open connects
// for a URL: arguments in the same round trip as the query.
func benchDB(b *testing.B, be backend) *testDB {
	dsn := be.dsn(b)
	switch be.d {
	case PostgreSQL:
		dsn = withParam(dsn, "binary_parameters=yes")
	case MySQL:
		dsn = withParam(dsn, "interpolateParams=true")
	}
	return openDSN(b, be, dsn)
}
