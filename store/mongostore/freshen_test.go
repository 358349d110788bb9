package mongostore

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/latchauth/latch/store"
)

// Freshen sets FreshUntil and nothing else, as Get and List read it; a
// later rotation replaces it (the core passes zero), a later Freshen sets
// it again, and a Freshen written from a generation since rotated away
// counts for nothing.
func TestFreshen(t *testing.T) {
	s, x := storeWithSession(t)
	ctx := context.Background()
	now := x.CreatedAt.Add(time.Second)
	before, err := s.Get(ctx, x.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	until := now.Add(5 * time.Minute)
	if err := s.Freshen(ctx, x.ID, until, now); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, x.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	want := *before
	want.FreshUntil = until
	if !sameSession(got, &want) {
		t.Fatalf("after Freshen:\n got %+v\nwant %+v", got, &want)
	}
	if l, err := s.List(ctx, x.Subject, now); err != nil || len(l) != 1 || !l[0].FreshUntil.Equal(until) {
		t.Fatalf("List after Freshen = %+v, %v", l, err)
	}

	r := store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: now.Add(time.Hour), KeepSpent: 1}
	if err := s.Rotate(ctx, x.ID, r, now); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, x.ID, now); err != nil || !got.FreshUntil.IsZero() {
		t.Fatalf("after Rotate: FreshUntil %v, %v; want zero", got.FreshUntil, err)
	}
	// A Freshen that read generation 0 lands after the rotation.
	stale := doc{ID: freshID(x.ID), Kind: kindFresh, SID: x.ID, Subject: x.Subject, Gen: 0, Fresh: date(until), ExpireAt: date(x.ExpiresAt)}
	if _, err := s.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: stale.ID}}, stale); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, x.ID, now); err != nil || !got.FreshUntil.IsZero() {
		t.Fatalf("a stale Freshen counted: FreshUntil %v, %v", got.FreshUntil, err)
	}
	later := until.Add(time.Minute)
	if err := s.Freshen(ctx, x.ID, later, now); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, x.ID, now); err != nil || !got.FreshUntil.Equal(later) || !bytes.Equal(got.RefreshHash, r.RefreshHash) {
		t.Fatalf("Freshen after Rotate: FreshUntil %v, %v; want %v and the rotated hash", got.FreshUntil, err, later)
	}
	// Back to not fresh.
	if err := s.Freshen(ctx, x.ID, time.Time{}, now); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, x.ID, now); err != nil || !got.FreshUntil.IsZero() {
		t.Fatalf("Freshen to zero: FreshUntil %v, %v", got.FreshUntil, err)
	}
}

// sameSession compares what a Store keeps of two sessions.
func sameSession(a, b *store.Session) bool {
	return a.ID == b.ID && a.Subject == b.Subject && a.Device == b.Device &&
		bytes.Equal(a.RefreshHash, b.RefreshHash) && bytes.Equal(a.SecretHash, b.SecretHash) &&
		len(a.Spent) == len(b.Spent) && a.CreatedAt.Equal(b.CreatedAt) && a.LastUsedAt.Equal(b.LastUsedAt) &&
		a.RotatedAt.Equal(b.RotatedAt) && a.FreshUntil.Equal(b.FreshUntil) &&
		a.AccessExpiresAt.Equal(b.AccessExpiresAt) && a.IdleUntil.Equal(b.IdleUntil) &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.IdleTimeout == b.IdleTimeout
}

// Freshen of a session that is not live is store.ErrNotFound, and brings
// nothing back.
func TestFreshenNotLive(t *testing.T) {
	s, x := storeWithSession(t)
	ctx := context.Background()
	now := x.CreatedAt
	for name, at := range map[string]time.Time{"idle": x.IdleUntil, "expired": x.ExpiresAt.Add(time.Second)} {
		if err := s.Freshen(ctx, x.ID, at.Add(time.Hour), at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Freshen of an %s session = %v, want ErrNotFound", name, err)
		}
	}
	for _, id := range []string{store.NewID(), "not an id"} {
		if err := s.Freshen(ctx, id, now.Add(time.Hour), now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Freshen of an absent session = %v, want ErrNotFound", err)
		}
	}
	if err := s.Revoke(ctx, x.Subject, x.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Freshen(ctx, x.ID, now.Add(time.Hour), now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Freshen of a revoked session = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, x.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Freshen of a revoked session = %v", err)
	}
	if n := count(t, s.c, bson.D{}); n != 0 {
		t.Errorf("%d documents left after the revocation", n)
	}
}

// Freshen, Touch and Rotate racing on one session: each changes its own
// fields only. No rotated-away hash comes back, every Touch's use and the
// last Freshen's FreshUntil (when no rotation came after it) are kept.
func TestFreshenRacingTouchAndRotate(t *testing.T) {
	s, x := storeWithSession(t)
	ctx := context.Background()
	cur := x.RefreshHash
	for round := range 8 {
		now := x.CreatedAt.Add(time.Duration(round+1) * time.Minute)
		next := hash()
		until := now.Add(10 * time.Minute)
		var wg sync.WaitGroup
		var rerr, ferr, terr error
		wg.Go(func() {
			rerr = s.Rotate(ctx, x.ID, store.Rotation{Old: cur, RefreshHash: next, IdleUntil: now.Add(time.Hour), KeepSpent: 2}, now)
		})
		wg.Go(func() { ferr = s.Freshen(ctx, x.ID, until, now) })
		wg.Go(func() { terr = s.Touch(ctx, x.ID, now.Add(time.Millisecond), time.Hour, 0) })
		wg.Wait()
		if rerr != nil || ferr != nil || terr != nil {
			t.Fatalf("round %d: Rotate %v, Freshen %v, Touch %v", round, rerr, ferr, terr)
		}
		got, err := s.Get(ctx, x.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.RefreshHash, next) {
			t.Fatalf("round %d: the rotated hash is not current", round)
		}
		if !got.LastUsedAt.Equal(now.Add(time.Millisecond)) {
			t.Fatalf("round %d: LastUsedAt %s, want the touch's %s", round, got.LastUsedAt, now.Add(time.Millisecond))
		}
		// Either order is a serial one: fresh (Freshen last) or not
		// (Rotate last).
		if !got.FreshUntil.IsZero() && !got.FreshUntil.Equal(until) {
			t.Fatalf("round %d: FreshUntil %s, neither zero nor %s", round, got.FreshUntil, until)
		}
		if err := s.Freshen(ctx, x.ID, until, now); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, x.ID, now); err != nil || !got.FreshUntil.Equal(until) {
			t.Fatalf("round %d: a Freshen after the race: FreshUntil %v, %v", round, got.FreshUntil, err)
		}
		cur = next
	}
}
