package sqlstore

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// recorder is a Watch running on a Store, with what it delivered.
type recorder struct {
	mu      sync.Mutex
	changes []store.Change
	ended   chan struct{} // closed when Watch returned
	err     error         // Watch's return, once ended
}

// startWatch runs Watch on s until t ends, and waits for its ChangeReady.
func startWatch(t *testing.T, s *Store) *recorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &recorder{ended: make(chan struct{})}
	go func() {
		defer close(r.ended)
		r.err = s.Watch(ctx, func(c store.Change) {
			r.mu.Lock()
			r.changes = append(r.changes, c)
			r.mu.Unlock()
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-r.ended
	})
	r.await(t, "ChangeReady", func(c store.Change) bool { return c.Kind == store.ChangeReady })
	return r
}

// await waits up to 10 seconds for a change that ok accepts, and returns
// the changes delivered before it.
func (r *recorder) await(t *testing.T, what string, ok func(store.Change) bool) []store.Change {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		for i, c := range r.changes {
			if ok(c) {
				before := r.changes[:i:i]
				r.mu.Unlock()
				return before
			}
		}
		r.mu.Unlock()
		select {
		case <-r.ended:
			t.Fatalf("Watch returned before %s: %v", what, r.err)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not delivered within 10s", what)
		}
	}
}

// sync sends a beat through s, whose Watch r is, and returns what r
// delivered before it: every change committed before the call.
func (r *recorder) sync(t *testing.T, s *Store) []store.Change {
	t.Helper()
	id := rand.Text()
	if err := s.Beat(context.Background(), id); err != nil {
		t.Fatalf("Beat: %v", err)
	}
	return r.await(t, "the beat", func(c store.Change) bool { return c.Kind == store.ChangeBeat && c.ID == id })
}

// reports counts the ChangeSession reports of each session in changes.
func reports(changes []store.Change) map[string]int {
	n := map[string]int{}
	for _, c := range changes {
		if c.Kind == store.ChangeSession {
			n[c.ID]++
		}
	}
	return n
}

// newSessions creates n live sessions of subject on s and returns their
// ids.
func newSessions(t *testing.T, s *Store, subject string, n int) []string {
	t.Helper()
	now := time.Now()
	var ids []string
	for range n {
		x := &store.Session{Subject: subject, RefreshHash: []byte("r"), CreatedAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}
		if err := s.Create(context.Background(), x, 0); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, x.ID)
	}
	return ids
}

// TestWatchPolls: a Store that cannot listen (every dialect here, with
// PostgreSQL pools passed to New) reports through its change log.
func TestWatchPolls(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDB(t, b)
		db.polled = true
		ctx := context.Background()

		// A new Watch reports what changes after ChangeReady, and nothing
		// the log held before.
		t.Run("no-replay", func(t *testing.T) {
			s := newStore(t, db)
			if _, err := s.RevokeSubject(ctx, "old", ""); err != nil {
				t.Fatal(err)
			}
			newSessions(t, s, "old", 3)
			if _, err := s.RevokeSubject(ctx, "old", ""); err != nil {
				t.Fatal(err)
			}
			w := db.twin(t, s)
			r := startWatch(t, w)
			x := newSessions(t, s, "new", 1)[0]
			if err := s.Revoke(ctx, "new", x); err != nil {
				t.Fatal(err)
			}
			got := reports(r.sync(t, w))
			if len(got) != 1 || got[x] != 1 {
				t.Errorf("reports before the beat: %v, want the one session revoked after ChangeReady, once", got)
			}
		})

		// A transaction that wrote its row before another one committed,
		// and commits after it (seqs out of commit order), is reported,
		// whether it was running when the Watch started or began later,
		// and nothing twice.
		t.Run("gaps", func(t *testing.T) {
			if b.d == SQLite {
				t.Skip("SQLite has one writer at a time: seqs commit in order")
			}
			s := newStore(t, db)
			w := db.twin(t, s)
			ids := newSessions(t, s, "alice", 4)
			held := func(id string) func() {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM "+s.prefix+"sessions WHERE id = ?"), id); err != nil {
					tx.Rollback()
					t.Fatal(err)
				}
				return func() {
					if err := tx.Commit(); err != nil {
						t.Fatal(err)
					}
				}
			}
			commit := held(ids[0])
			if err := s.Revoke(ctx, "alice", ids[1]); err != nil {
				t.Fatal(err)
			}
			r := startWatch(t, w) // ids[0]'s seq is below the newest row
			commit()
			r.await(t, "the report of the session deleted before the Watch began and committed after", func(c store.Change) bool { return c.ID == ids[0] })

			commit = held(ids[2])
			if err := s.Revoke(ctx, "alice", ids[3]); err != nil {
				t.Fatal(err)
			}
			r.await(t, "the report of the later change", func(c store.Change) bool { return c.ID == ids[3] })
			if reports(r.sync(t, w))[ids[2]] != 0 {
				t.Fatal("a change reported before it committed")
			}
			commit()
			r.await(t, "the report of the change that committed out of order", func(c store.Change) bool { return c.ID == ids[2] })
			got := reports(r.sync(t, w))
			// ids[1] was revoked before the Watch began.
			for i, want := range []int{1, 0, 1, 1} {
				if got[ids[i]] != want {
					t.Errorf("session %d reported %d times, want %d", i, got[ids[i]], want)
				}
			}
		})

		// A poll that fails ends Watch with an error (the cache then
		// empties itself and watches again); so does Close.
		t.Run("failure-ends-watch", func(t *testing.T) {
			s := newStore(t, db)
			for _, end := range []string{"pool closed", "store closed"} {
				db2 := openDSN(t, b, db.dsn)
				db2.polled = true
				s2, err := db2.New(WithTablePrefix(s.prefix), WithSweepInterval(0))
				if err != nil {
					t.Fatal(err)
				}
				r := startWatch(t, s2)
				if end == "pool closed" {
					db2.Close()
				} else {
					s2.Close()
				}
				select {
				case <-r.ended:
				case <-time.After(10 * time.Second):
					t.Fatalf("%s: Watch still running after 10s", end)
				}
				if r.err == nil || errors.Is(r.err, context.Canceled) || end == "store closed" && !errors.Is(r.err, ErrClosed) {
					t.Errorf("%s: Watch returned %v", end, r.err)
				}
			}
		})

		// Sweep deletes the change log's old rows, in batches, but the
		// newest of them; a Watch started after reports as before.
		t.Run("sweep", func(t *testing.T) {
			s := newStore(t, db)
			s.batch = 3
			newSessions(t, s, "bob", 10)
			if _, err := s.RevokeSubject(ctx, "bob", ""); err != nil {
				t.Fatal(err)
			}
			changes := "SELECT COUNT(*) FROM " + s.prefix + "changes"
			if n := count(t, db, changes); n != 10 {
				t.Fatalf("%d rows in the change log after 10 revocations", n)
			}
			if _, err := s.Sweep(ctx, time.Now()); err != nil {
				t.Fatal(err)
			}
			if n := count(t, db, changes); n != 10 {
				t.Fatalf("Sweep at now left %d rows of the change log, want all 10", n)
			}
			if _, err := s.Sweep(ctx, time.Now().Add(DefaultSweepGrace+changeLogKeep+2*time.Second)); err != nil {
				t.Fatal(err)
			}
			if n := count(t, db, changes+" WHERE seq = (SELECT MAX(seq) FROM "+s.prefix+"changes)"); n != 1 || count(t, db, changes) != 1 {
				t.Fatalf("Sweep of old rows left %d rows, want the newest alone", count(t, db, changes))
			}
			r := startWatch(t, s)
			x := newSessions(t, s, "bob", 1)[0]
			if err := s.Revoke(ctx, "bob", x); err != nil {
				t.Fatal(err)
			}
			if got := reports(r.sync(t, s)); len(got) != 1 || got[x] != 1 {
				t.Errorf("reports after the sweep: %v, want the new revocation once", got)
			}
		})

		// Touch logs nothing; Freshen and Rotate do.
		t.Run("touch-not-logged", func(t *testing.T) {
			s := newStore(t, db)
			id := newSessions(t, s, "carol", 1)[0]
			now := time.Now().Add(time.Minute)
			if err := s.Touch(ctx, id, now, time.Hour, 0); err != nil {
				t.Fatal(err)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"changes"); n != 0 {
				t.Errorf("Touch logged %d changes", n)
			}
			if err := s.Freshen(ctx, id, now.Add(time.Hour), now); err != nil {
				t.Fatal(err)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"changes WHERE session_id = ?", id); n != 1 {
				t.Errorf("Freshen logged %d changes, want 1", n)
			}
		})
	})
}

// TestChangeLogGaps: a poll that finds more seqs missing than maxGaps
// fails (the Watch ends and starts again); a new Watch opens the highest
// that fit instead.
func TestChangeLogGaps(t *testing.T) {
	now := time.Now()
	l := &changeLog{last: 10, gaps: map[int64]time.Time{}}
	if err := l.missed(14, now, false); err != nil || len(l.gaps) != 3 {
		t.Fatalf("missed(14) after 10: %v, %d gaps; want 11, 12, 13", err, len(l.gaps))
	}
	l.last = 14
	if err := l.missed(15+maxGaps, now, false); err == nil {
		t.Fatalf("missed opened %d gaps", len(l.gaps))
	}
	if err := l.missed(15+maxGaps, now, true); err != nil || len(l.gaps) != maxGaps {
		t.Fatalf("opening: %v, %d gaps; want %d", err, len(l.gaps), maxGaps)
	}
	if _, ok := l.gaps[14+maxGaps]; !ok {
		t.Error("opening did not keep the highest missing seq")
	}
}
