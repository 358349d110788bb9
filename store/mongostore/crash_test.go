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

// The tests below leave in the collection what a process that crashed
// between two steps of an operation leaves, written directly, and show
// that the store stays correct around it (see "Crash between steps" in
// the package doc).

// storeWithSession returns a new Store holding one session of alice,
// created now.
func storeWithSession(t *testing.T) (*Store, *store.Session) {
	t.Helper()
	s := newStore(t)
	x := session("alice", time.Now().Truncate(time.Millisecond))
	if err := s.Create(context.Background(), x, 0); err != nil {
		t.Fatal(err)
	}
	return s, x
}

func insertRaw(t *testing.T, s *Store, d any) {
	t.Helper()
	if _, err := s.c.InsertOne(context.Background(), d); err != nil {
		t.Fatalf("insert: %v", err)
	}
}

// A rotation that won its claim but never updated the session: the
// generation is spent, so its refresh hash can never rotate again (no
// fork, ever), yet it is not in Spent, so presenting it is a lost race
// (store.ErrConflict), never a reuse that revokes. The session otherwise
// works, and revoking it removes the claim.
func TestCrashRotateAfterClaim(t *testing.T) {
	s, x := storeWithSession(t)
	ctx, now := context.Background(), x.CreatedAt
	insertRaw(t, s, doc{ID: claimID(x.ID, 0), Kind: kindClaim, SID: x.ID, Subject: "alice", ExpireAt: date(x.ExpiresAt)})

	r := store.Rotation{Old: x.RefreshHash, RefreshHash: bytes.Repeat([]byte{1}, 32), IdleUntil: now.Add(time.Hour), KeepSpent: 5}
	if err := s.Rotate(ctx, x.ID, r, now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Rotate from a claimed generation = %v, want store.ErrConflict", err)
	}
	got, err := s.Get(ctx, x.ID, now)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !bytes.Equal(got.RefreshHash, x.RefreshHash) || len(got.Spent) != 0 {
		t.Errorf("the session changed: refresh hash replaced or %d spent", len(got.Spent))
	}
	if err := s.Touch(ctx, x.ID, now.Add(time.Minute), time.Hour, 0); err != nil {
		t.Errorf("Touch: %v", err)
	}
	if l, err := s.List(ctx, "alice", now); err != nil || len(l) != 1 {
		t.Errorf("List = %d sessions, %v; want 1", len(l), err)
	}
	if err := s.Revoke(ctx, "alice", x.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s.c, bson.D{{Key: "sid", Value: x.ID}}); n != 0 {
		t.Errorf("%d documents of the revoked session left", n)
	}
}

// A rotation that updated the session but crashed before deleting older
// claims: the claims only pile up until the next rotation or revocation.
func TestCrashRotateBeforeCleanup(t *testing.T) {
	s, x := storeWithSession(t)
	ctx, now := context.Background(), x.CreatedAt
	old := x.RefreshHash
	for i := range 4 {
		r := store.Rotation{Old: old, RefreshHash: bytes.Repeat([]byte{byte(i + 1)}, 32), IdleUntil: now.Add(time.Hour), KeepSpent: 2}
		if err := s.Rotate(ctx, x.ID, r, now); err != nil {
			t.Fatalf("Rotate %d: %v", i, err)
		}
		old = r.RefreshHash
		if i == 1 {
			// A claim of generation 0 that a crashed cleanup left.
			insertRaw(t, s, doc{ID: claimID(x.ID, 0), Kind: kindClaim, SID: x.ID, Subject: "alice", ExpireAt: date(x.ExpiresAt)})
		}
	}
	claims := bson.D{{Key: "sid", Value: x.ID}, {Key: "k", Value: kindClaim}}
	if n := count(t, s.c, claims); n != 1 {
		t.Errorf("%d claims after 4 rotations, want 1: the last one", n)
	}
}

// A rotation that read generation g long ago wins a new claim of g once
// the first claim of g is gone: deleted by the clean-up of later
// rotations, or by the TTL index or Sweep while the session is one
// rotation past g. Its update must still write nothing (the nonce of the
// claim, not just the generation, decides), so the rotation that won
// first is never overwritten: no fork. Both cases use the real Rotate,
// paused after its read.
func TestRotateStaleClaim(t *testing.T) {
	for _, c := range []struct {
		name  string
		later int // rotations done while the stale one is paused
	}{
		{"claim deleted by clean-up", 4},
		{"claim deleted by TTL one rotation later", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, x := storeWithSession(t)
			ctx, now := context.Background(), x.CreatedAt
			paused, resume := make(chan struct{}), make(chan struct{})
			var once sync.Once
			s.afterRead = func() {
				first := false
				once.Do(func() { first = true })
				if first { // only the first Rotate pauses
					close(paused)
					<-resume
				}
			}
			stale := make(chan error, 1)
			go func() {
				r := store.Rotation{Old: x.RefreshHash, RefreshHash: []byte("forked"), IdleUntil: now.Add(time.Hour), KeepSpent: 2}
				stale <- s.Rotate(ctx, x.ID, r, now)
			}()
			<-paused
			old := x.RefreshHash
			for i := range c.later {
				r := store.Rotation{Old: old, RefreshHash: bytes.Repeat([]byte{byte(i + 1)}, 32), IdleUntil: now.Add(time.Hour), KeepSpent: 2}
				if err := s.Rotate(ctx, x.ID, r, now); err != nil {
					t.Fatalf("Rotate %d: %v", i, err)
				}
				old = r.RefreshHash
			}
			// What the TTL index or Sweep would do to the claim of
			// generation 0 (clean-up already did it in the first case).
			if _, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: claimID(x.ID, 0)}}); err != nil {
				t.Fatal(err)
			}
			close(resume)
			if err := <-stale; !errors.Is(err, store.ErrConflict) {
				t.Errorf("the stale rotation = %v, want store.ErrConflict", err)
			}
			got, err := s.Get(ctx, x.ID, now)
			if err != nil || !bytes.Equal(got.RefreshHash, old) {
				t.Fatalf("Get after the stale rotation: %v; the winner's refresh hash replaced: %v", err, err == nil && !bytes.Equal(got.RefreshHash, old))
			}
		})
	}
}

// A capped login that took its subject's turn and crashed, before or
// after its evictions: the turn never ends. The next capped login of the
// subject waits for it while its context allows, and takes the next turn
// once the lease has passed since the turn was taken; other subjects
// never wait.
func TestCrashCappedCreateTurn(t *testing.T) {
	s := newStore(t)
	s.lease = 300 * time.Millisecond
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	for i := range 2 {
		if err := s.Create(ctx, session("alice", now.Add(time.Duration(i)*time.Second)), 2); err != nil {
			t.Fatal(err)
		}
	}
	prefix := lockPrefix("alice")
	top, err := s.newestTurn(ctx, "test", prefix)
	if err != nil || top.n != 1 || !top.ended {
		t.Fatalf("after two capped logins the newest turn is %d (ended %v), %v; want 1, ended", top.n, top.ended, err)
	}
	// The crashed login's turn.
	crashed := time.Now()
	insertRaw(t, s, turnDoc{ID: lockID(prefix, 2), Kind: kindLock, Owner: store.NewID(), Gen: 2, Taken: date(crashed), ExpireAt: date(now.Add(lockKeep))})

	// Another subject is not held up.
	if err := s.Create(ctx, session("bob", now), 1); err != nil {
		t.Fatal(err)
	}
	// A login whose context ends first gives up, having written nothing.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := s.Create(short, session("alice", now.Add(2*time.Second)), 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("capped login behind an open turn with a 100ms context = %v, want context.DeadlineExceeded", err)
	}
	if l, _ := s.List(ctx, "alice", now.Add(2*time.Second)); len(l) != 2 {
		t.Errorf("%d sessions after the login that gave up, want 2", len(l))
	}
	x := session("alice", now.Add(3*time.Second))
	if err := s.Create(ctx, x, 2); err != nil {
		t.Fatalf("capped login after a crashed one: %v", err)
	}
	if d := time.Since(crashed); d < s.lease {
		t.Errorf("the login took the next turn %s after the crashed one took its turn, before the lease of %s", d, s.lease)
	}
	l, _ := s.List(ctx, "alice", x.CreatedAt)
	if len(l) != 2 || l[0].ID != x.ID {
		t.Errorf("after the login, List = %v, want the new login first of 2", len(l))
	}
	if top, _ := s.newestTurn(ctx, "test", prefix); top.n != 3 || !top.ended {
		t.Errorf("the newest turn is %d (ended %v), want 3, ended", top.n, top.ended)
	}
	if n := count(t, s.c, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: prefix}, {Key: "$lt", Value: prefix + "~"}}}}); n != 2 {
		t.Errorf("%d turn documents left, want 2: the last turn and its end", n)
	}
}

// Leftovers of a RevokeSubject that crashed after deleting the sessions,
// and of a Touch that raced a revocation: activity and claims without
// their session are never read as a session, and Sweep removes them.
func TestCrashOrphans(t *testing.T) {
	s, x := storeWithSession(t)
	ctx, now := context.Background(), x.CreatedAt
	if err := s.Touch(ctx, x.ID, now.Add(time.Second), time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Rotate(ctx, x.ID, store.Rotation{Old: x.RefreshHash, RefreshHash: make([]byte, 32), IdleUntil: now.Add(time.Hour), KeepSpent: 1}, now); err != nil {
		t.Fatal(err)
	}
	// The first step of RevokeSubject alone.
	if _, err := s.c.DeleteMany(ctx, bson.D{{Key: "sub", Value: "alice"}, {Key: "k", Value: kindSession}}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s.c, bson.D{{Key: "sid", Value: x.ID}}); n != 2 {
		t.Fatalf("%d documents left, want the activity and the claim", n)
	}
	if _, err := s.Get(ctx, x.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get with only the activity left = %v, want store.ErrNotFound", err)
	}
	if err := s.Touch(ctx, x.ID, now.Add(2*time.Second), time.Hour, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Touch with only the activity left = %v, want store.ErrNotFound", err)
	}
	if l, err := s.List(ctx, "alice", now); err != nil || len(l) != 0 {
		t.Errorf("List = %d, %v; want none", len(l), err)
	}
	if n, err := s.RevokeSubject(ctx, "alice", ""); err != nil || n != 0 {
		t.Errorf("RevokeSubject = %d, %v; want 0 sessions", n, err)
	}
	// RevokeSubject deletes only what belongs to sessions it found; the
	// leftovers go with x, and the rotation's report long before.
	if n, err := s.Sweep(ctx, x.ExpiresAt.Add(s.kit.SweepGrace+time.Second)); err != nil || n != 3 {
		t.Errorf("Sweep = %d, %v; want the 2 leftovers and the rotation's report", n, err)
	}
	if n := count(t, s.c, bson.D{}); n != 0 {
		t.Errorf("%d documents after Sweep", n)
	}
}
