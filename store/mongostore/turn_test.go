package mongostore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/latchauth/latch/store"
)

func turnRange(prefix string) bson.D {
	return bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: prefix}, {Key: "$lt", Value: prefix + "~"}}}}
}

// A turn left open (a crash, a lost reply, a failed end) blocks its
// subject for the lease, counted from when the turn was taken, not from
// when each login first saw it: capped logins with 2 s contexts (the
// core's default StoreTimeout), each shorter than the real lease, fail
// until the lease has passed and then succeed.
func TestAbandonedTurnShortContexts(t *testing.T) {
	s := newStore(t)
	if s.lease != lockLease {
		t.Fatalf("lease %s, want the default %s", s.lease, lockLease)
	}
	ctx := context.Background()
	prefix := lockPrefix("alice")
	taken := time.Now()
	insertRaw(t, s, turnDoc{ID: lockID(prefix, 0), Kind: kindLock, Owner: store.NewID(), Gen: 0, Taken: date(taken), ExpireAt: date(taken.Add(lockKeep))})
	var failed int
	for {
		if time.Since(taken) > 3*lockLease {
			t.Fatalf("no capped login got through %s after the turn was left open (%d failed)", time.Since(taken), failed)
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := s.Create(cctx, session("alice", time.Now().Truncate(time.Millisecond)), 2)
		cancel()
		if err == nil {
			break
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("capped login behind an open turn = %v, want context.DeadlineExceeded", err)
		}
		failed++
	}
	if d := time.Since(taken); d < lockLease {
		t.Errorf("a login got through %s after the turn was taken, before the lease of %s", d, lockLease)
	}
	if failed < 2 {
		t.Errorf("%d logins failed before the lease passed, want at least 2", failed)
	}
	for i := range 3 {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := s.Create(cctx, session("alice", time.Now().Truncate(time.Millisecond)), 2)
		cancel()
		if err != nil {
			t.Fatalf("capped login %d after the takeover: %v", i, err)
		}
	}
	if l, err := s.List(ctx, "alice", time.Now()); err != nil || len(l) != 2 {
		t.Errorf("List = %d, %v; want 2", len(l), err)
	}
}

// A login whose insert of the turn landed but whose reply was lost (a
// retry then gets a duplicate key) holds the turn: the owner nonce in the
// document says so.
func TestClaimTurnLostReply(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	tn := turn{prefix: lockPrefix("alice"), n: 0, owner: store.NewID(), keep: date(time.Now().Add(lockKeep))}
	insertRaw(t, s, turnDoc{ID: lockID(tn.prefix, 0), Kind: kindLock, Owner: tn.owner, Taken: date(time.Now()), ExpireAt: tn.keep})
	ok, err := s.claimTurn(ctx, "test", &tn)
	if err != nil || !ok {
		t.Fatalf("claimTurn of a turn already holding our nonce = %v, %v; want it held", ok, err)
	}
	other := turn{prefix: tn.prefix, n: 0, owner: store.NewID(), keep: tn.keep}
	if ok, err := s.claimTurn(ctx, "test", &other); err != nil || ok {
		t.Fatalf("claimTurn of another login's turn = %v, %v; want not held", ok, err)
	}
	// Ending a turn that is not ours ends nothing.
	s.endTurn(ctx, other, false)
	if top, err := s.newestTurn(ctx, "test", tn.prefix); err != nil || top.ended {
		t.Fatalf("after another login's end, turn 0 ended = %v, %v; want open", top.ended, err)
	}
	s.endTurn(ctx, tn, true)
	if top, err := s.newestTurn(ctx, "test", tn.prefix); err != nil || !top.ended {
		t.Fatalf("after its owner's end, turn 0 ended = %v, %v; want ended", top.ended, err)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := s.Create(cctx, session("alice", time.Now()), 1); err != nil {
		t.Fatalf("capped login after the turn ended: %v", err)
	}
}

// The empty subject is a subject like any other (as in memstore and
// sqlstore): its sessions are revoked, listed and capped alone, and no
// call on it touches another subject's sessions or turn documents.
func TestEmptySubject(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	var alice []string
	for i := range 2 {
		x := session("alice", now.Add(time.Duration(i)*time.Millisecond))
		if err := s.Create(ctx, x, 2); err != nil {
			t.Fatal(err)
		}
		alice = append(alice, x.ID)
	}
	for i := range 3 {
		if err := s.Create(ctx, session("", now.Add(time.Duration(i)*time.Millisecond)), 3); err != nil {
			t.Fatal(err)
		}
	}
	if l, err := s.List(ctx, "", now); err != nil || len(l) != 3 {
		t.Fatalf("List(\"\") = %d, %v; want 3", len(l), err)
	}
	if n := count(t, s.c, bson.D{{Key: "k", Value: bson.D{{Key: "$in", Value: bson.A{kindLock, kindDone}}}}, {Key: "sub", Value: bson.D{{Key: "$exists", Value: true}}}}); n != 0 {
		t.Errorf("%d turn documents carry sub", n)
	}
	turns := count(t, s.c, turnRange(lockPrefix("alice")))
	if err := s.Revoke(ctx, "", alice[0]); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RevokeSubject(ctx, "", ""); err != nil || n != 3 {
		t.Fatalf("RevokeSubject(\"\") = %d, %v; want 3", n, err)
	}
	if n := count(t, s.c, turnRange(lockPrefix("alice"))); n != turns {
		t.Errorf("RevokeSubject(\"\") left %d of alice's %d turn documents", n, turns)
	}
	if l, err := s.List(ctx, "alice", now); err != nil || len(l) != 2 {
		t.Fatalf("List(alice) = %d, %v; want 2", len(l), err)
	}
	// Alice's turn is intact and ended: a capped login does not wait.
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := s.Create(cctx, session("alice", now.Add(time.Second)), 2); err != nil {
		t.Fatalf("capped login of alice after RevokeSubject(\"\"): %v", err)
	}
	if l, _ := s.List(ctx, "alice", now.Add(time.Second)); len(l) != 2 {
		t.Errorf("List(alice) = %d, want 2", len(l))
	}
}

// RevokeSubject racing Creates of the same subject: what the revocations
// report is exactly what went; a session created meanwhile is either
// still there or counted.
func TestRevokeSubjectRacingCreate(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	var mu sync.Mutex
	var made []string
	var revoked int
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 15 {
				x := session("alice", now)
				if err := s.Create(ctx, x, 0); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				made = append(made, x.ID)
				mu.Unlock()
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 10 {
				n, err := s.RevokeSubject(ctx, "alice", "")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				revoked += n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	l, err := s.List(ctx, "alice", now)
	if err != nil {
		t.Fatal(err)
	}
	if revoked+len(l) != len(made) {
		t.Errorf("made %d sessions; revocations counted %d and %d are left: %d unaccounted for", len(made), revoked, len(l), len(made)-revoked-len(l))
	}
}
