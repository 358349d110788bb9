package mongostore_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/latchauth/latch/internal/testenv"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/mongostore"
)

// An application that owns its *mongo.Client hands a database to New and
// runs Migrate once at start-up. The store never disconnects the client.
// (This example needs a server, so go test compiles it without running
// it; it prints "1 Firefox on Linux".)
func ExampleNew() {
	uri := os.Getenv("MONGO_URI") // mongodb://127.0.0.1:27017/, say
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		panic(err)
	}
	defer client.Disconnect(ctx)

	s, err := mongostore.New(client.Database("example"),
		mongostore.WithCollectionPrefix("example_"),
		mongostore.WithErrorHook(func(err error) {
			// the sweeper's failures, a server without TTL indexes…
		}))
	if err != nil {
		panic(err)
	}
	defer s.Close()
	defer s.Collection().Drop(ctx) // an example cleans up after itself
	if err := s.Migrate(ctx); err != nil {
		panic(err)
	}

	now := time.Now()
	refresh := sha256.Sum256([]byte("refresh secret"))
	sess := &store.Session{
		Subject:     "user-42",
		Device:      store.Device{Label: "Firefox on Linux"},
		RefreshHash: refresh[:],
		CreatedAt:   now,
		LastUsedAt:  now,
		IdleUntil:   now.Add(30 * 24 * time.Hour),
		ExpiresAt:   now.Add(90 * 24 * time.Hour),
	}
	if err := s.Create(ctx, sess, 5); err != nil { // at most 5 devices
		panic(err)
	}
	list, err := s.List(ctx, "user-42", now)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(list), list[0].Device.Label)
}

// A configuration string names the store; the URL-opened store runs Migrate
// on open and owns its client. latch_ parameters configure the store and
// never reach the driver.
//
// A full URL reads mongodb://user:pass@db.example.net:27017/app?replicaSet=rs0&latch_collection_prefix=auth_&latch_sweep_interval=10m;
// one without a database is refused before anything connects.
func Example_open() {
	ctx := context.Background()
	_, err := store.Open(ctx, "mongodb://db.example.net:27017/?latch_sweep_interval=10m")
	fmt.Println(errors.Is(err, mongostore.ErrInvalid)) // the URL names no database
	// Output: true
}

// A lost compare-and-swap is store.ErrConflict, told apart with errors.Is.
// (This example needs a server, so go test compiles it without running
// it; it prints "<nil>" then "true".)
func ExampleStore_Rotate() {
	uri := os.Getenv("MONGO_URI")
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		panic(err)
	}
	defer client.Disconnect(ctx)
	s, err := mongostore.New(client.Database("example"), mongostore.WithCollectionPrefix("rotate_example_"))
	if err != nil {
		panic(err)
	}
	defer s.Close()
	defer s.Collection().Drop(ctx)
	if err := s.Migrate(ctx); err != nil {
		panic(err)
	}

	now := time.Now()
	old := sha256.Sum256([]byte("refresh 1"))
	sess := &store.Session{Subject: "user-42", RefreshHash: old[:], CreatedAt: now, LastUsedAt: now,
		IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(24 * time.Hour)}
	if err := s.Create(ctx, sess, 0); err != nil {
		panic(err)
	}
	next := sha256.Sum256([]byte("refresh 2"))
	r := store.Rotation{Old: old[:], RefreshHash: next[:], IdleUntil: now.Add(time.Hour), KeepSpent: 5}
	fmt.Println(s.Rotate(ctx, sess.ID, r, now))
	// The same refresh hash again: somebody else already rotated it.
	err = s.Rotate(ctx, sess.ID, r, now)
	fmt.Println(errors.Is(err, store.ErrConflict))
}

// TestExamples runs the examples that need a server against the test
// server and checks what they print.
func TestExamples(t *testing.T) {
	t.Setenv("MONGO_URI", testenv.MongoURI(t))
	for _, c := range []struct {
		name string
		run  func()
		want string
	}{
		{"ExampleNew", ExampleNew, "1 Firefox on Linux\n"},
		{"ExampleStore_Rotate", ExampleStore_Rotate, "<nil>\ntrue\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := stdout(t, c.run); got != c.want {
				t.Errorf("%s printed %q, want %q", c.name, got, c.want)
			}
		})
	}
}

// stdout returns what f prints.
func stdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	orig := os.Stdout
	os.Stdout = w
	defer func() { os.Stdout = orig }()
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	f()
	w.Close()
	return <-done
}
