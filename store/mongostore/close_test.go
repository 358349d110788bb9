package mongostore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/internal/lifecycle"
)

// TestClose: after Close every method fails with ErrClosed, an outage that
// is neither store.ErrNotFound nor store.ErrConflict; Close stops the
// sweeper, and the database passed to New stays usable.
func TestClose(t *testing.T) {
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
	closed := lifecycle.Closed(t, s, x, ErrClosed, func(id string) (*store.Session, error) { return m.Get(ctx, id, now) })
	_, err = s.Sweep(ctx, now.Add(24*time.Hour))
	closed("Sweep", err)
	closed("Migrate", s.Migrate(ctx))
	if err := m.db.Client().Ping(ctx, nil); err != nil {
		t.Errorf("the client after Close: %v", err)
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
		"actor too long":    func(x *store.Session) { x.Actor = &store.Actor{SessionID: string(make([]byte, store.MaxSubjectLen+1))} },
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
	if err := s.Freshen(ctx, id, time.Unix(1<<62, 0), now); !errors.Is(err, ErrInvalid) {
		t.Errorf("Freshen until a time out of range = %v, want ErrInvalid", err)
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
