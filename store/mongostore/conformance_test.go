package mongostore

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/latchauth/latch/conformance"
	"github.com/latchauth/latch/store"
)

func TestConformance(t *testing.T) {
	t.Run("mongo", func(t *testing.T) {
		testClient(t)
		conformance.Run(t, func(t *testing.T) store.Store { return newStore(t) },
			conformance.WithTwin(func(t *testing.T, s store.Store) store.Store { return twin(t, s.(*Store)) }),
			conformance.WithBroken(func(t *testing.T) store.Store { return brokenStore(t) }),
			conformance.WithWrites(func(s store.Store) int64 { return writes(s.(*Store)) }),
		)
	})
}

// brokenStore returns a Store whose client can reach no server: each call
// fails within about two seconds.
func brokenStore(t testing.TB) *Store {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1/").
		SetServerSelectionTimeout(2 * time.Second).SetConnectTimeout(2 * time.Second))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Disconnect(t.Context()) })
	s, err := New(c.Database("none"))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}
