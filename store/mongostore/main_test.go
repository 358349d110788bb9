package mongostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/latchauth/latch/internal/testenv"
	"github.com/latchauth/latch/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// testDB is the database the tests share; each store in it has a
// collection prefix of its own.
const testDB = "latch_test"

var (
	clientOnce sync.Once
	client     *mongo.Client
	clientErr  error
)

// testClient returns a client of the server from testenv, shared by the
// package's tests (it is never disconnected: the process ends first).
func testClient(t testing.TB) *mongo.Client {
	t.Helper()
	uri := testenv.MongoURI(t)
	clientOnce.Do(func() {
		client, clientErr = mongo.Connect(options.Client().ApplyURI(uri).SetMaxPoolSize(64))
	})
	if clientErr != nil {
		t.Fatalf("connect: %v", clientErr)
	}
	return client
}

// randomPrefix returns a collection prefix no other test uses.
func randomPrefix() string {
	var b [4]byte
	rand.Read(b[:])
	return "t" + hex.EncodeToString(b[:]) + "_"
}

// newStore returns a set-up Store with a fresh collection prefix; when t
// ends it is closed and its collection dropped.
func newStore(t testing.TB, opts ...Option) *Store {
	t.Helper()
	db := testClient(t).Database(testDB)
	opts = append([]Option{WithCollectionPrefix(randomPrefix())}, opts...)
	s, err := New(db, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { drop(t, s.Collection()) })
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Setup(ctx); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	return s
}

func drop(t testing.TB, c *mongo.Collection) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Drop(ctx); err != nil {
		t.Errorf("drop %s: %v", c.Name(), err)
	}
}

// count returns how many documents of c match filter.
func count(t testing.TB, c *mongo.Collection, filter bson.D) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := c.CountDocuments(ctx, filter)
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	return int(n)
}

// session returns a session of subject created at now, live for an hour.
func session(subject string, now time.Time) *store.Session {
	h := make([]byte, store.HashLen)
	rand.Read(h)
	return &store.Session{
		Subject: subject, RefreshHash: h,
		CreatedAt: now, LastUsedAt: now,
		IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(2 * time.Hour),
	}
}
