package redisstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/internal/lifecycle"
)

// TestClose: after Close every method fails with ErrClosed, an outage;
// the client passed to New stays open.
func TestClose(t *testing.T) {
	c := topologies[0].client(t)
	s := newStore(t, c)
	other, err := New(c, WithKeyPrefix(s.prefix))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	x := session("alice", now)
	mustCreate(t, s, x, 0)
	lifecycle.Closed(t, s, x, ErrClosed, func(id string) (*store.Session, error) { return other.Get(ctx, id, now) })
	if err := c.Ping(ctx).Err(); err != nil {
		t.Errorf("the client passed to New was closed: %v", err)
	}
}

// TestInvalid: values beyond package store's limits are ErrInvalid and
// write nothing.
func TestInvalid(t *testing.T) {
	c := topologies[0].client(t)
	s := newStore(t, c)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	for name, change := range map[string]func(*store.Session){
		"long subject":         func(x *store.Session) { x.Subject = strings.Repeat("x", store.MaxSubjectLen+1) },
		"subject with NUL":     func(x *store.Session) { x.Subject = "a\x00b" },
		"subject not UTF-8":    func(x *store.Session) { x.Subject = "\xff" },
		"long device field":    func(x *store.Session) { x.Device.UserAgent = strings.Repeat("M", store.MaxDeviceLen+1) },
		"long hash":            func(x *store.Session) { x.RefreshHash = make([]byte, store.HashLen+1) },
		"long spent hash":      func(x *store.Session) { x.Spent = [][]byte{make([]byte, store.HashLen+1)} },
		"time beyond 2^53 ms":  func(x *store.Session) { x.ExpiresAt = time.UnixMilli(maxMS + 1) },
		"claims not encodable": func(x *store.Session) { x.Claims = map[string]any{"f": func() {}} },
	} {
		x := session("alice", now)
		change(x)
		if err := s.Create(ctx, x, 1); !errors.Is(err, ErrInvalid) {
			t.Errorf("Create with a %s = %v, want ErrInvalid", name, err)
		}
	}
	x := session("alice", now)
	mustCreate(t, s, x, 0)
	for name, r := range map[string]store.Rotation{
		"long hash":           {Old: x.RefreshHash, RefreshHash: make([]byte, store.HashLen+1)},
		"time beyond 2^53 ms": {Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: time.UnixMilli(-maxMS - 1)},
	} {
		if err := s.Rotate(ctx, x.ID, r, now); !errors.Is(err, ErrInvalid) {
			t.Errorf("Rotate with a %s = %v, want ErrInvalid", name, err)
		}
	}
	if keys := keysOf(t, c, s.prefix); len(keys) != 2 {
		t.Errorf("%d keys after refused writes, want the 2 of one session", len(keys))
	}
	// A now far beyond the stored range decides as its clamped value.
	if err := s.Touch(ctx, x.ID, time.UnixMilli(maxMS).Add(time.Hour), time.Hour, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Touch at a far-future now = %v, want store.ErrNotFound", err)
	}
}

// TestClosedInFlight: a call on an owned client closed under it fails
// with ErrClosed.
func TestClosedInFlight(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: privateServer(t)})
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	s.owned = true
	c.Close() // as Close does, while a call is on its way
	if _, err := s.Get(context.Background(), newID("abc"), time.Now()); !errors.Is(err, ErrClosed) {
		t.Errorf("Get on a closed client = %v, want ErrClosed", err)
	}
}
