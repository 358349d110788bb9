// Package lifecycle holds the checks of a store's life around its
// store.Store methods that every store of this repository's tests runs:
// what Close does to every method, and how the sweeper reports. Each
// store's tests pass it a store of their own.
package lifecycle

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// Closable is a store with a Close.
type Closable interface {
	store.Store
	io.Closer
}

// Closed closes s, which holds x (a live session of x.Subject, unrotated),
// and checks that every method of store.Store then fails with an error
// wrapping errClosed, an outage that is neither store.ErrNotFound nor
// store.ErrConflict, returns no session, and writes nothing (x still
// reads back the same, through get, a reader that bypasses s); that a
// second Close returns nil; and that a done context still wins, as
// before Close. It returns check, for the store's own methods.
func Closed(t *testing.T, s Closable, x *store.Session, errClosed error, get func(id string) (*store.Session, error)) (check func(what string, err error)) {
	t.Helper()
	if errors.Is(errClosed, store.ErrNotFound) || errors.Is(errClosed, store.ErrConflict) {
		t.Fatal("ErrClosed reads as a sentinel of package store")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	check = func(what string, err error) {
		t.Helper()
		if !errors.Is(err, errClosed) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("%s after Close = %v, want ErrClosed", what, err)
		}
	}
	ctx := context.Background()
	now := x.CreatedAt
	got, err := s.Get(ctx, x.ID, now)
	check("Get", err)
	if got != nil {
		t.Errorf("Get after Close returned a session")
	}
	other := func() *store.Session {
		return &store.Session{Subject: "bob", RefreshHash: x.RefreshHash, CreatedAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}
	}
	check("Create", s.Create(ctx, other(), 0))
	check("capped Create", s.Create(ctx, other(), 1))
	check("Touch", s.Touch(ctx, x.ID, now.Add(time.Minute), time.Hour, 0))
	check("Rotate", s.Rotate(ctx, x.ID, store.Rotation{Old: x.RefreshHash, RefreshHash: []byte("new"), IdleUntil: now.Add(time.Hour)}, now))
	check("Revoke", s.Revoke(ctx, x.Subject, x.ID))
	n, err := s.RevokeSubject(ctx, x.Subject, "")
	check("RevokeSubject", err)
	if n != 0 {
		t.Errorf("RevokeSubject after Close = %d", n)
	}
	l, err := s.List(ctx, x.Subject, now)
	check("List", err)
	if l != nil {
		t.Errorf("List after Close = %v", l)
	}
	if got, err := get(x.ID); err != nil || string(got.RefreshHash) != string(x.RefreshHash) || !got.LastUsedAt.Equal(x.LastUsedAt) {
		t.Errorf("the session after calls on the closed store: %+v, %v; want it as created", got, err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Get(done, x.ID, now); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a canceled context after Close = %v", err)
	}
	return check
}

// SweeperReports opens, with open, a store whose every sweep fails,
// sweeping every few milliseconds and reporting to the hook it is given,
// and checks that the hook gets an error that is not store.ErrNotFound,
// and nothing once Close has returned.
func SweeperReports(t *testing.T, open func(every time.Duration, hook func(error)) (io.Closer, error)) {
	t.Helper()
	var calls atomic.Int64
	got := make(chan error, 1)
	s, err := open(5*time.Millisecond, func(err error) {
		calls.Add(1)
		select {
		case got <- err:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case err := <-got:
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("hook got %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the hook was never called")
	}
	s.Close()
	n := calls.Load()
	time.Sleep(50 * time.Millisecond)
	if calls.Load() != n {
		t.Error("the hook was called after Close")
	}
}
