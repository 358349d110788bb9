package mongostore

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/latchauth/latch/store"
)

// TestClose: after Close every method fails with ErrClosed, an outage that
// is neither store.ErrNotFound nor store.ErrConflict; the database passed
// to New stays usable.
func TestClose(t *testing.T) {
	if errors.Is(ErrClosed, store.ErrNotFound) || errors.Is(ErrClosed, store.ErrConflict) || errors.Is(ErrClosed, ErrInvalid) {
		t.Fatal("ErrClosed reads as another error")
	}
	m := newStore(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	s, err := New(m.db, WithCollectionPrefix(m.prefix), WithSweepInterval(time.Millisecond),
		WithErrorHook(func(err error) { t.Errorf("sweeper: %v", err) }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x := session("alice", now)
	if err := s.Create(ctx, x, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closed := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrClosed) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("%s after Close = %v, want ErrClosed", what, err)
		}
	}
	got, err := s.Get(ctx, x.ID, now)
	closed("Get", err)
	if got != nil {
		t.Errorf("Get after Close returned a session")
	}
	closed("Create", s.Create(ctx, session("bob", now), 0))
	closed("capped Create", s.Create(ctx, session("bob", now), 1))
	closed("Touch", s.Touch(ctx, x.ID, now.Add(time.Minute), time.Hour, 0))
	closed("Rotate", s.Rotate(ctx, x.ID, store.Rotation{Old: x.RefreshHash}, now))
	closed("Revoke", s.Revoke(ctx, "alice", x.ID))
	n, err := s.RevokeSubject(ctx, "alice", "")
	closed("RevokeSubject", err)
	if n != 0 {
		t.Errorf("RevokeSubject after Close = %d", n)
	}
	l, err := s.List(ctx, "alice", now)
	closed("List", err)
	if l != nil {
		t.Errorf("List after Close = %v", l)
	}
	_, err = s.Sweep(ctx, now.Add(24*time.Hour))
	closed("Sweep", err)
	closed("Migrate", s.Migrate(ctx))
	if n := count(t, m.c, bson.D{{Key: "k", Value: kindSession}}); n != 1 {
		t.Errorf("%d sessions after Close, want the 1 created before", n)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// A done context still wins, as before Close.
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Get(c, x.ID, now); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a canceled context after Close = %v", err)
	}
	// The database passed to New stays usable.
	if _, err := m.Get(ctx, x.ID, now); err != nil {
		t.Errorf("another Store on the same database after Close: %v", err)
	}
}

// TestInvalid: values the collection cannot keep exactly are refused
// before any I/O, with ErrInvalid.
func TestInvalid(t *testing.T) {
	s, err := New(brokenStore(t).db) // any I/O would fail differently
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	for name, mod := range map[string]func(x *store.Session){
		"subject not UTF-8": func(x *store.Session) { x.Subject = "\xff" },
		"subject with NUL":  func(x *store.Session) { x.Subject = "a\x00b" },
		"subject too long":  func(x *store.Session) { x.Subject = string(make([]byte, store.MaxSubjectLen+1)) },
		"device too long":   func(x *store.Session) { x.Device.UserAgent = string(make([]byte, store.MaxDeviceLen+1)) },
		"hash too long":     func(x *store.Session) { x.RefreshHash = make([]byte, store.HashLen+1) },
		"time out of range": func(x *store.Session) { x.ExpiresAt = time.Unix(1<<62, 0) },
		"claims not JSON":   func(x *store.Session) { x.Claims = map[string]any{"f": func() {}} },
	} {
		x := session("alice", now)
		mod(x)
		if err := s.Create(ctx, x, 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("Create with %s = %v, want ErrInvalid", name, err)
		}
	}
	id := store.NewID()
	// A long new hash is refused; a long Old only fails to match, as in
	// every store (storekit.Gate.CheckRotation).
	if err := s.Rotate(ctx, id, store.Rotation{RefreshHash: make([]byte, 33)}, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("Rotate with a long hash = %v, want ErrInvalid", err)
	}
	for _, o := range []Option{WithCollectionPrefix(""), WithCollectionPrefix("a.b"), WithCollectionPrefix("1a"), WithSweepInterval(-1), WithSweepGrace(-1)} {
		if _, err := New(s.db, o); !errors.Is(err, ErrInvalid) {
			t.Errorf("New with a bad option = %v, want ErrInvalid", err)
		}
	}
	if _, err := New(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("New(nil) = %v, want ErrInvalid", err)
	}
}
