package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/internal/testenv"
	"github.com/latchauth/latch/store"
)

// TestWatchEndsWhenConnectionKilled: a Pub/Sub connection the server
// closes ends Watch with an error at once, rather than go-redis
// subscribing again behind its back and losing the reports in between.
// The test kills only its own connection, found by a client name no other
// test uses.
func TestWatchEndsWhenConnectionKilled(t *testing.T) {
	var b [6]byte
	rand.Read(b[:])
	name := "latch-watch-" + hex.EncodeToString(b[:])
	c := closing(t, redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t), ClientName: name, ContextTimeoutEnabled: true}))
	s := newStore(t, c)
	admin := closing(t, redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)}))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := startWatch(ctx, t, s, nil)
	list, err := admin.Do(ctx, "CLIENT", "LIST", "TYPE", "pubsub").Text()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name="+name+" ") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if id, ok := strings.CutPrefix(f, "id="); ok {
				if err := admin.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
					t.Fatal(err)
				}
				killed++
			}
		}
	}
	if killed != 1 {
		t.Fatalf("killed %d connections named %s, want the one subscriber", killed, name)
	}
	select {
	case err := <-done:
		if err == nil || errors.Is(err, context.Canceled) {
			t.Fatalf("Watch after its connection was killed: %v, want a failure", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch still runs 5s after its connection was killed")
	}
}

// TestWatchRefusesForeignMessages: a message on the change channel that
// is not a report ends Watch: it cannot say what changed.
func TestWatchRefusesForeignMessages(t *testing.T) {
	c := closing(t, redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t), ContextTimeoutEnabled: true}))
	s := newStore(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := startWatch(ctx, t, s, nil)
	if err := c.Publish(ctx, s.channel, "hello").Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a report") {
			t.Fatalf("Watch: %v, want it to end on a message that is not a report", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch still runs 5s after a foreign message")
	}
}

// TestBeatIDsWithTilde: a beat id may hold "~" (printable ASCII): on one
// server it comes back whole, and a Cluster beat's copies, whose suffix
// Watch reads from the right, come back as the id sent.
func TestBeatIDsWithTilde(t *testing.T) {
	eachTopology(t, func(t *testing.T, tp topology) {
		s := newStore(t, tp.client(t))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		got := make(chan string, 4)
		startWatch(ctx, t, s, func(ch store.Change) {
			if ch.Kind == store.ChangeBeat {
				got <- ch.ID
			}
		})
		const id = "a~3~b"
		if err := s.Beat(ctx, id); err != nil {
			t.Fatal(err)
		}
		select {
		case g := <-got:
			if g != id {
				t.Fatalf("beat came back as %q, want %q", g, id)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the beat never came back")
		}
	})
}

// startWatch runs s.Watch with fn (nil: none) until ctx ends, and returns
// once the subscription stands; the channel gets Watch's return.
func startWatch(ctx context.Context, t *testing.T, s *Store, fn func(store.Change)) <-chan error {
	t.Helper()
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Watch(ctx, func(ch store.Change) {
			if ch.Kind == store.ChangeReady {
				close(ready)
			} else if fn != nil {
				fn(ch)
			}
		})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Watch returned before the subscription stood: %v", err)
	}
	return done
}
