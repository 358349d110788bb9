package redisstore

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
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
	bad[0] = formatV2 + 1
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
	x.IdleTimeout, x.Actor = 10*time.Minute+1, &store.Actor{Subject: "staff", SessionID: "0123456789abcdefghijkl"}
	if v, err = encode(x); err != nil {
		f.Fatal(err)
	}
	f.Add(v) // version 2
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

// v1Session is the session testdata/session-v1.hex holds, as a release
// before IdleTimeout and Actor encoded it (format version 1). Its times
// are in 2100, so that Redis keeps it while the tests use it.
func v1Session() *store.Session {
	at := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	return &store.Session{
		Subject:         "alice@example.com",
		Device:          store.Device{Label: "laptop", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", IP: "192.0.2.7"},
		SecretHash:      bytes.Repeat([]byte{0x5e}, 32),
		RefreshHash:     bytes.Repeat([]byte{0x2f}, 32),
		Spent:           [][]byte{bytes.Repeat([]byte{0x01}, 32)},
		Claims:          map[string]any{"role": "reader"},
		CreatedAt:       at,
		LastUsedAt:      at.Add(time.Minute),
		RotatedAt:       at.Add(2 * time.Minute),
		FreshUntil:      at.Add(5 * time.Minute),
		AccessExpiresAt: at.Add(17 * time.Minute),
		IdleUntil:       at.Add(time.Hour),
		ExpiresAt:       at.Add(24 * time.Hour),
	}
}

// v1Value returns testdata/session-v1.hex as bytes.
func v1Value(t testing.TB) []byte {
	t.Helper()
	h, err := os.ReadFile("testdata/session-v1.hex")
	if err != nil {
		t.Fatal(err)
	}
	v, err := hex.DecodeString(strings.Join(strings.Fields(string(h)), ""))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sameSession reports the first field in which got differs from want, or
// "": times compared as instants, Actor by nil-ness and value.
func sameSession(got, want *store.Session) string {
	g, w := *got, *want
	for _, p := range [][2]*time.Time{
		{&g.CreatedAt, &w.CreatedAt}, {&g.LastUsedAt, &w.LastUsedAt}, {&g.RotatedAt, &w.RotatedAt},
		{&g.FreshUntil, &w.FreshUntil}, {&g.AccessExpiresAt, &w.AccessExpiresAt},
		{&g.IdleUntil, &w.IdleUntil}, {&g.ExpiresAt, &w.ExpiresAt},
	} {
		if !p[0].Equal(*p[1]) {
			return fmt.Sprintf("time %v, want %v", *p[0], *p[1])
		}
		*p[0], *p[1] = time.Time{}, time.Time{}
	}
	if (g.Actor == nil) != (w.Actor == nil) || (g.Actor != nil && *g.Actor != *w.Actor) {
		return fmt.Sprintf("Actor %+v, want %+v", g.Actor, w.Actor)
	}
	g.Actor, w.Actor = nil, nil
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("%+v, want %+v", g, w)
	}
	return ""
}

// TestDecodeV1: a session stored in format version 1, before IdleTimeout
// and Actor, reads with IdleTimeout 0 and no Actor, and a session that
// has neither is still written in version 1, byte for byte, so that a
// process of the earlier release reads it during a rolling upgrade.
func TestDecodeV1(t *testing.T) {
	v := v1Value(t)
	if v[0] != formatV1 {
		t.Fatalf("the fixture is version %d", v[0])
	}
	got, err := decode("id", v)
	if err != nil {
		t.Fatal(err)
	}
	want := v1Session()
	want.ID = "id"
	if d := sameSession(got, want); d != "" {
		t.Errorf("decode of version 1: %s", d)
	}
	if got.IdleTimeout != 0 || got.Actor != nil {
		t.Errorf("version 1 read as IdleTimeout %v, Actor %+v; want 0, nil", got.IdleTimeout, got.Actor)
	}
	again, err := encode(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, v) {
		t.Errorf("a session without IdleTimeout and Actor encodes as\n%x\nwant version 1 as before\n%x", again, v)
	}
}

// TestEncodeExtension: IdleTimeout to the nanosecond and Actor, nil or
// not, round-trip through version 2; cut anywhere, such a value is
// corrupt.
func TestEncodeExtension(t *testing.T) {
	now := time.Now().Truncate(time.Millisecond)
	for _, it := range []time.Duration{0, 1, time.Millisecond, 1500 * time.Microsecond, 90 * 24 * time.Hour,
		-1, -time.Millisecond - 1, math.MinInt64, math.MaxInt64} {
		for _, a := range []*store.Actor{nil, {}, {Subject: "staff@example.com", SessionID: "0123456789abcdefghijkl"}} {
			x := session("alice", now)
			x.IdleTimeout, x.Actor = it, a
			v, err := encode(x)
			if err != nil {
				t.Fatal(err)
			}
			if want := byte(formatV2); it == 0 && a == nil {
				if v[0] != formatV1 {
					t.Errorf("IdleTimeout 0, no Actor: version %d, want 1", v[0])
				}
			} else if v[0] != want {
				t.Errorf("IdleTimeout %v, Actor %+v: version %d, want %d", it, a, v[0], want)
			}
			got, err := decode("id", v)
			if err != nil {
				t.Fatalf("IdleTimeout %v, Actor %+v: %v", it, a, err)
			}
			x.ID = "id"
			if d := sameSession(got, x); d != "" {
				t.Errorf("IdleTimeout %v, Actor %+v: %s", it, a, d)
			}
			if a != nil && got.Actor == a {
				t.Errorf("the decoded Actor is the caller's pointer")
			}
		}
	}
	x := session("alice", now)
	x.IdleTimeout, x.Actor = time.Minute, &store.Actor{Subject: "staff", SessionID: "s"}
	x.RefreshHash, x.SecretHash = nil, nil // spent hashes run to the end: none, so every cut shows
	v, err := encode(x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(v) {
		if _, err := decode("id", v[:i]); !errors.Is(err, errCorrupt) {
			t.Errorf("decode of the first %d bytes of version 2 = %v, want errCorrupt", i, err)
		}
	}
	x.Actor.Subject = strings.Repeat("a", math.MaxUint16+1)
	if _, err := encode(x); !errors.Is(err, ErrInvalid) {
		t.Errorf("encode of an Actor subject of 65,536 bytes = %v, want ErrInvalid", err)
	}
}
