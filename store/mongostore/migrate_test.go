package mongostore

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// isFerretDB reports whether the test server is FerretDB, from the
// ferretdbVersion field its buildInfo adds.
func isFerretDB(t testing.TB) bool {
	t.Helper()
	var info bson.M
	err := testClient(t).Database("admin").RunCommand(context.Background(), bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info)
	if err != nil {
		t.Fatalf("buildInfo: %v", err)
	}
	_, ok := info["ferretdbVersion"]
	return ok
}

// TestSetup: Migrate is idempotent, also when run concurrently; the TTL
// index exists on MongoDB, and FerretDB's refusal of it reaches the hook
// exactly once per Store.
func TestSetup(t *testing.T) {
	ferret := isFerretDB(t)
	var mu sync.Mutex
	var hooked []error
	s := newStore(t, WithErrorHook(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		hooked = append(hooked, err)
	})) // Migrate ran once
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- s.Migrate(ctx) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate: %v", err)
		}
	}

	names := indexes(t, s.c)
	if _, ok := names[subjectIndex]; !ok {
		t.Errorf("no subject index among %v", names)
	}
	colls, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(colls, s.strikes.Name()) {
		t.Errorf("no strikes collection among %v", colls)
	}
	strikeIdx := indexes(t, s.strikes)
	mu.Lock()
	defer mu.Unlock()
	if ferret {
		if _, ok := names[ttlIndex]; ok {
			t.Errorf("FerretDB created the TTL index: the store's assumption is out of date")
		}
		if _, ok := strikeIdx[ttlIndex]; ok {
			t.Errorf("FerretDB created the strikes' TTL index: the store's assumption is out of date")
		}
		if len(hooked) != 1 {
			t.Fatalf("on FerretDB the hook got %d errors after 10 Migrates, want the TTL refusal exactly once: %v", len(hooked), hooked)
		}
		if !errors.Is(hooked[0], errNoTTL) || !hasCode(hooked[0], codeNotImplemented) {
			t.Errorf("hook got %v, want errNoTTL wrapping NotImplemented", hooked[0])
		}
		return
	}
	for _, names := range []map[string]bson.M{names, strikeIdx} {
		ttl, ok := names[ttlIndex]
		if !ok {
			t.Fatalf("no TTL index among %v", names)
		}
		if v, _ := ttl["expireAfterSeconds"].(int32); v != 0 {
			t.Errorf("TTL index expireAfterSeconds = %v, want 0", ttl["expireAfterSeconds"])
		}
	}
	if len(hooked) != 0 {
		t.Errorf("the hook got %v on MongoDB", hooked)
	}
}

// indexes returns the indexes of c by name.
func indexes(t testing.TB, c *mongo.Collection) map[string]bson.M {
	t.Helper()
	ctx := context.Background()
	cur, err := c.Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var idx []bson.M
	if err := cur.All(ctx, &idx); err != nil {
		t.Fatal(err)
	}
	names := map[string]bson.M{}
	for _, x := range idx {
		names[x["name"].(string)] = x
	}
	return names
}

// Migrate refuses a collection whose default collation is not simple: a
// case-insensitive one would let RevokeSubject("alice") end ALICE's
// sessions. On a server that can create such a collection (MongoDB) the
// whole of Migrate is checked; the check of the options always is
// (FerretDB has no collations).
func TestSetupRefusesCollation(t *testing.T) {
	raw := func(d bson.D) bson.Raw {
		b, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		opts bson.Raw
		bad  bool
	}{
		{nil, false},
		{raw(bson.D{}), false},
		{raw(bson.D{{Key: "collation", Value: bson.D{{Key: "locale", Value: "simple"}}}}), false},
		{raw(bson.D{{Key: "collation", Value: bson.D{{Key: "locale", Value: "en"}, {Key: "strength", Value: 2}}}}), true},
	} {
		if err := collationErr("c", c.opts); errors.Is(err, ErrInvalid) != c.bad {
			t.Errorf("collationErr(%v) = %v, want refused: %v", c.opts, err, c.bad)
		}
	}

	ctx := context.Background()
	db := testClient(t).Database(testDB)
	prefix := randomPrefix()
	err := db.CreateCollection(ctx, prefix+"sessions", options.CreateCollection().SetCollation(&options.Collation{Locale: "en", Strength: 2}))
	if err != nil {
		if !isFerretDB(t) {
			t.Fatalf("create a collection with a collation: %v", err)
		}
		return // FerretDB: NotImplemented
	}
	t.Cleanup(func() { drop(t, db.Collection(prefix+"sessions")) })
	s, err := New(db, WithCollectionPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); !errors.Is(err, ErrInvalid) {
		t.Errorf("Migrate on a collection with a case-insensitive collation = %v, want ErrInvalid", err)
	}
}
