package redisstore

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

// TestDecodeCorrupt: a value this package did not write is an error, not
// a session and not absence.
func TestDecodeCorrupt(t *testing.T) {
	now := time.Now().Truncate(time.Millisecond)
	x := session("alice", now)
	x.Spent = [][]byte{hash(), {}}
	v, err := encode(x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decode("id", v)
	if err != nil || got.Subject != "alice" || len(got.Spent) != 2 || len(got.Spent[1]) != 0 {
		t.Fatalf("decode(encode) = %+v, %v", got, err)
	}
	// Spent hashes run to the end of the value, so only a value without
	// them is corrupt when cut anywhere.
	x.Spent = nil
	if v, err = encode(x); err != nil {
		t.Fatal(err)
	}
	for i := range len(v) {
		if _, err := decode("id", v[:i]); !errors.Is(err, errCorrupt) {
			t.Errorf("decode of the first %d bytes = %v, want errCorrupt", i, err)
		}
	}
	bad := slices.Clone(v)
	bad[0] = 2
	if _, err := decode("id", bad); !errors.Is(err, errCorrupt) {
		t.Errorf("decode of another version = %v", err)
	}
}

// FuzzDecode: no stored value, however damaged, makes decode panic, and
// what decodes encodes again.
func FuzzDecode(f *testing.F) {
	now := time.Now().Truncate(time.Millisecond)
	x := session("alice", now)
	x.Spent = [][]byte{hash(), hash()}
	v, err := encode(x)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v)
	f.Add(v[:headerLen])
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := decode("id", b)
		if err != nil {
			return
		}
		if storekit.ValidSubject(x.Subject) {
			if _, err := encode(x); err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("encode of a decoded session: %v", err)
			}
		}
	})
}

// TestTimes: the Unix epoch itself and the zero time both come back as
// they went in, through Create, Touch, Rotate and List; a session whose
// RotatedAt and FreshUntil are zero is handled by every script.
func TestTimes(t *testing.T) {
	epoch := time.UnixMilli(0).UTC()
	x := session("alice", time.Now().Truncate(time.Millisecond))
	x.CreatedAt, x.LastUsedAt, x.AccessExpiresAt = epoch, time.Time{}, epoch
	v, err := encode(x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decode("id", v)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(epoch) || got.CreatedAt.IsZero() || !got.AccessExpiresAt.Equal(epoch) {
		t.Errorf("the Unix epoch came back as %v, %v", got.CreatedAt, got.AccessExpiresAt)
	}
	if got.LastUsedAt != (time.Time{}) || got.RotatedAt != (time.Time{}) || got.FreshUntil != (time.Time{}) {
		t.Errorf("zero times came back as %v, %v, %v", got.LastUsedAt, got.RotatedAt, got.FreshUntil)
	}
	eachTopology(t, func(t *testing.T, tp topology) {
		s := newStore(t, tp.client(t))
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		x := session("alice", now)
		x.CreatedAt, x.LastUsedAt, x.AccessExpiresAt = epoch, time.Time{}, time.Time{}
		mustCreate(t, s, x, 2)
		mustCreate(t, s, session("alice", now), 2) // judges x's liveness at its CreatedAt
		l, err := s.List(ctx, "alice", now)
		if err != nil || len(l) != 2 {
			t.Fatalf("List = %d sessions, %v; want 2", len(l), err)
		}
		g, err := s.Get(ctx, x.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if !g.CreatedAt.Equal(epoch) || !g.LastUsedAt.IsZero() || !g.RotatedAt.IsZero() || !g.FreshUntil.IsZero() || !g.AccessExpiresAt.IsZero() {
			t.Errorf("Get = created %v, last used %v, rotated %v, fresh %v, access %v", g.CreatedAt, g.LastUsedAt, g.RotatedAt, g.FreshUntil, g.AccessExpiresAt)
		}
		// A zero LastUsedAt is long ago: the touch is due.
		if err := s.Touch(ctx, x.ID, now, time.Hour, time.Hour); err != nil {
			t.Fatal(err)
		}
		if g, _ = s.Get(ctx, x.ID, now); !g.LastUsedAt.Equal(now) {
			t.Errorf("after Touch, LastUsedAt = %v, want %v", g.LastUsedAt, now)
		}
		if err := s.Rotate(ctx, x.ID, store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: now.Add(time.Hour), KeepSpent: 1}, now); err != nil {
			t.Fatal(err)
		}
		if g, _ = s.Get(ctx, x.ID, now); !g.FreshUntil.IsZero() || !g.AccessExpiresAt.IsZero() || !g.RotatedAt.Equal(now) || !g.CreatedAt.Equal(epoch) {
			t.Errorf("after Rotate: fresh %v, access %v, rotated %v, created %v", g.FreshUntil, g.AccessExpiresAt, g.RotatedAt, g.CreatedAt)
		}
		// Zero IdleUntil or ExpiresAt: never live.
		for _, z := range []func(*store.Session){
			func(x *store.Session) { x.IdleUntil = time.Time{} },
			func(x *store.Session) { x.ExpiresAt = time.Time{} },
		} {
			x := session("bob", now)
			z(x)
			mustCreate(t, s, x, 1)
			if _, err := s.Get(ctx, x.ID, now); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get of a session with a zero deadline = %v, want store.ErrNotFound", err)
			}
		}
	})
}
