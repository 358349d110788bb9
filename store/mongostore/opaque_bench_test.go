package mongostore

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/latchauth/latch/internal/opaquebench"
)

// BenchmarkOpaque measures an opaque access token's authentication against
// a hand-written find by _id of the same session document on the same
// client (docs/performance.md, "Opaque tokens against a hand-written
// lookup"):
//
//	go test -run '^$' -bench Opaque -benchmem ./store/mongostore
func BenchmarkOpaque(b *testing.B) {
	s := newStore(b)
	opaquebench.Run(b, s, func(*testing.B, []string) opaquebench.Lookup {
		return func(ctx context.Context, id string) (string, []byte, error) {
			var d struct {
				Subject    string `bson:"sub"`
				SecretHash []byte `bson:"sh"`
			}
			err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
			return d.Subject, d.SecretHash, err
		}
	})
}
