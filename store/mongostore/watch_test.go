package mongostore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/latchauth/latch/internal/testenv"
	"github.com/latchauth/latch/store"
)

// watched is a Watch running on a store, with what it delivered.
type watched struct {
	mu      sync.Mutex
	changes []store.Change
	done    chan error
	cancel  context.CancelFunc
}

// watch starts Watch on w and waits for its ChangeReady; the Watch is
// stopped when t ends.
func watch(t *testing.T, w *Store) *watched {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	x := &watched{done: make(chan error, 1), cancel: cancel}
	ready := make(chan struct{})
	go func() {
		x.done <- w.Watch(ctx, func(c store.Change) {
			if c.Kind == store.ChangeReady {
				close(ready)
				return
			}
			x.mu.Lock()
			x.changes = append(x.changes, c)
			x.mu.Unlock()
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-x.done
	})
	select {
	case <-ready:
	case err := <-x.done:
		t.Fatalf("Watch returned before ChangeReady: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no ChangeReady within 10s")
	}
	return x
}

// times returns how many times c was delivered.
func (x *watched) times(c store.Change) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for _, d := range x.changes {
		if d == c {
			n++
		}
	}
	return n
}

// await waits up to 5 seconds for c to be delivered.
func (x *watched) await(t *testing.T, c store.Change) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for x.times(c) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%+v not delivered within 5s", c)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// revoked creates a session of subject in s, revokes it and returns its
// report.
func revoked(t *testing.T, s *Store, subject string) store.Change {
	t.Helper()
	ctx := context.Background()
	x := session(subject, time.Now())
	if err := s.Create(ctx, x, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, subject, x.ID); err != nil {
		t.Fatal(err)
	}
	return store.Change{Kind: store.ChangeSession, ID: x.ID}
}

// TestWatchDeliversOnce: every poll reads back the reports of the last
// margin, and none is delivered twice, beats included.
func TestWatchDeliversOnce(t *testing.T) {
	s := newStore(t)
	x := watch(t, twin(t, s))
	var want []store.Change
	for range 5 {
		want = append(want, revoked(t, s, "alice"))
	}
	beat := store.Change{Kind: store.ChangeBeat, ID: "once"}
	if err := s.Beat(context.Background(), beat.ID); err != nil {
		t.Fatal(err)
	}
	want = append(want, beat)
	x.await(t, beat)
	// Every report stays in the polls' window for the margin: let them
	// all pass out of it.
	time.Sleep(s.margin + 10*s.interval)
	for _, c := range want {
		if n := x.times(c); n != 1 {
			t.Errorf("%+v delivered %d times, want once", c, n)
		}
	}
}

// TestWatchSkipsEarlierReports: the reports made before Watch began are
// not delivered, though they lie in its first windows.
func TestWatchSkipsEarlierReports(t *testing.T) {
	s := newStore(t)
	before := revoked(t, s, "alice")
	if err := s.Beat(context.Background(), "before"); err != nil {
		t.Fatal(err)
	}
	x := watch(t, twin(t, s))
	after := revoked(t, s, "alice")
	x.await(t, after)
	time.Sleep(10 * s.interval)
	for _, c := range []store.Change{before, {Kind: store.ChangeBeat, ID: "before"}} {
		if n := x.times(c); n != 0 {
			t.Errorf("%+v, reported before Watch began, delivered %d times", c, n)
		}
	}
}

// TestWatchEndsWhenPollFails: a poll that fails (here, the watcher's
// client is disconnected) ends Watch with an error.
func TestWatchEndsWhenPollFails(t *testing.T) {
	s := newStore(t)
	c, err := mongo.Connect(options.Client().ApplyURI(testenv.MongoURI(t)))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	w, err := New(c.Database(s.db.Name()), WithCollectionPrefix(s.prefix))
	if err != nil {
		t.Fatal(err)
	}
	x := watch(t, w)
	if err := c.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-x.done:
		x.done <- err // for the cleanup
		if err == nil || errors.Is(err, context.Canceled) {
			t.Fatalf("Watch after its client was disconnected: %v, want a failure", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch still runs 5s after its client was disconnected")
	}
}

// TestWatchRefusesForeignDocuments: a document in the change log that is
// not a report ends Watch: it cannot say what changed.
func TestWatchRefusesForeignDocuments(t *testing.T) {
	s := newStore(t)
	x := watch(t, s)
	now := time.Now()
	if _, err := s.changes.InsertOne(context.Background(), changeDoc{ID: store.NewID(), Time: date(now), Changes: []string{"hello"}, ExpireAt: date(now.Add(time.Minute))}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-x.done:
		x.done <- err
		if err == nil || !strings.Contains(err.Error(), "not a report") {
			t.Fatalf("Watch: %v, want it to end on a document that is not a report", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch still runs 5s after a foreign document")
	}
}

// TestWatchReportsCleaned: reports past their time to go are deleted by
// Watch every so often (FerretDB has no TTL index, and the sweeper is
// off by default), and by Sweep.
func TestWatchReportsCleaned(t *testing.T) {
	t.Run("watch", func(t *testing.T) {
		s := newStore(t)
		s.keep, s.pruneEvery = time.Second, 50*time.Millisecond
		revoked(t, s, "alice")
		if n := count(t, s.changes, bson.D{}); n != 1 {
			t.Fatalf("%d reports after one Revoke, want 1", n)
		}
		watch(t, s)
		deadline := time.Now().Add(10 * time.Second)
		for count(t, s.changes, bson.D{}) != 0 {
			if time.Now().After(deadline) {
				t.Fatal("the report is still there 10s after it expired")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Run("sweep", func(t *testing.T) {
		s := newStore(t)
		revoked(t, s, "alice")
		ctx := context.Background()
		if n, err := s.Sweep(ctx, time.Now()); err != nil || n != 0 {
			t.Fatalf("Sweep of a fresh report = %d, %v; want 0, nil", n, err)
		}
		if n, err := s.Sweep(ctx, time.Now().Add(reportKeep+DefaultSweepGrace+time.Second)); err != nil || n != 1 {
			t.Fatalf("Sweep past the report's time = %d, %v; want 1, nil", n, err)
		}
	})
}
