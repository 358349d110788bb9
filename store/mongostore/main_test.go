package mongostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
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
		client, clientErr = mongo.Connect(options.Client().ApplyURI(uri).SetMaxPoolSize(64).SetMonitor(writeMonitor))
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

// newStore returns a set-up Store in a database of its own, with a fresh
// collection prefix; when t ends it is closed and its database dropped.
// On FerretDB a database is an SQLite file of its own, so a test's
// schema changes never wait on another test's.
// twin returns a second Store on s's collections through a client of its
// own, as a second process would open it; disconnected when t ends.
func twin(t testing.TB, s *Store) *Store {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(testenv.MongoURI(t)).SetMaxPoolSize(16))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	s2, err := New(c.Database(s.db.Name()), WithCollectionPrefix(s.prefix))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s2
}

func newStore(t testing.TB, opts ...Option) *Store {
	t.Helper()
	db := testClient(t).Database(testDB + "_" + strings.TrimSuffix(randomPrefix(), "_"))
	opts = append([]Option{WithCollectionPrefix(randomPrefix())}, opts...)
	s, err := New(db, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := retryLocked(ctx, func() error { return db.Drop(ctx) }); err != nil {
			t.Errorf("drop database %s: %v", db.Name(), err)
		}
	})
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := retryLocked(ctx, func() error { return s.Migrate(ctx) }); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func drop(t testing.TB, c *mongo.Collection) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := retryLocked(ctx, func() error { return c.Drop(ctx) }); err != nil {
		t.Errorf("drop %s: %v", c.Name(), err)
	}
}

// retryLocked runs f again while FerretDB's SQLite backend answers
// "database is locked": creating or dropping a collection is a schema
// change of the one SQLite file the tests share, and FerretDB gives up at
// once when another one is under way (SQLITE_BUSY_SNAPSHOT). That is the
// test server's quirk, not something the store decides, so the test
// set-up, and only it, waits it out.
func retryLocked(ctx context.Context, f func() error) error {
	wait := 20 * time.Millisecond
	for {
		err := f()
		if err == nil || !strings.Contains(err.Error(), "database is locked") {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
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

// writeMonitor is the command monitor of the tests' client. It counts the
// commands the client sends, and the write commands among them, by
// database: each store of the tests has a database of its own, so
// writes(s) and commands(s) are what s sent.
var writeMonitor = &event.CommandMonitor{
	Started: func(_ context.Context, e *event.CommandStartedEvent) {
		writesMu.Lock()
		defer writesMu.Unlock()
		commandsByDB[e.DatabaseName]++
		switch e.CommandName {
		case "insert", "update", "delete", "findAndModify", "createIndexes":
			writesByDB[e.DatabaseName]++
		}
	},
}

var (
	writesMu     sync.Mutex
	writesByDB   = map[string]int64{}
	commandsByDB = map[string]int64{}
)

// writes returns how many write commands s's database has received from
// the tests' client.
func writes(s *Store) int64 {
	writesMu.Lock()
	defer writesMu.Unlock()
	return writesByDB[s.db.Name()]
}

// commands returns how many commands, each one round trip, s's database
// has received from the tests' client.
func commands(s *Store) int64 {
	writesMu.Lock()
	defer writesMu.Unlock()
	return commandsByDB[s.db.Name()]
}
