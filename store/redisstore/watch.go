package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

var _ store.Watcher = (*Store)(nil)

// Changes are reported on the Pub/Sub channel <prefix>changes, in the text
// form of storekit.ChangeText: the scripts that delete, rotate or freshen
// a session PUBLISH its id in the same atomic step (see scripts.go), so a
// report is never lost to a crash between the change and the report, nor
// sent before the change can be read. Pub/Sub carries no key, and Redis
// Cluster forwards every PUBLISH to every node: a watcher on any node
// hears every shard.

// idleRead is how long Watch waits for a message before it pings the
// server; a second wait as long without even the pong ends the watch.
const idleRead = 15 * time.Second

// Watches reports true (see store.Watcher).
func (*Store) Watches() bool { return true }

// Watch implements store.Watcher with one Pub/Sub connection that
// SUBSCRIBEs to the store's change channel. It returns with an error when
// the connection fails, when the server stops answering (no message nor
// pong for twice idleRead), or when a message on the channel is not a
// report: go-redis would resubscribe on its own, and the reports in
// between would be lost unnoticed.
func (s *Store) Watch(ctx context.Context, fn func(store.Change)) error {
	const op = "watch"
	if err := s.gate.Enter(ctx, op); err != nil {
		return err
	}
	ps := s.c.Subscribe(ctx, s.channel)
	defer ps.Close()
	// A done ctx ends a read that waits on the network.
	defer context.AfterFunc(ctx, func() { ps.Close() })()
	if err := s.confirm(ctx, ps); err != nil {
		return s.wrap(ctx, op, err)
	}
	fn(store.Change{Kind: store.ChangeReady})
	_, cluster := s.c.(*redis.ClusterClient)
	var beats beatCopies
	quiet := false // the last read timed out
	for {
		msg, err := ps.ReceiveTimeout(ctx, idleRead)
		if ctx.Err() != nil {
			return s.wrap(ctx, op, ctx.Err())
		}
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout() && !quiet:
			quiet = true
			if err := ps.Ping(ctx); err != nil {
				return s.wrap(ctx, op, err)
			}
			continue
		case err != nil:
			return s.wrap(ctx, op, err)
		}
		quiet = false
		if _, again := msg.(*redis.Subscription); again {
			// go-redis subscribed again on its own: reports in between
			// may be lost.
			return s.wrap(ctx, op, errors.New("the subscription was renewed"))
		}
		m, ok := msg.(*redis.Message)
		if !ok {
			continue // a pong
		}
		c, ok := storekit.ParseChange(m.Payload)
		if !ok {
			return s.wrap(ctx, op, errors.New("a message on the change channel is not a report"))
		}
		if c.Kind == store.ChangeBeat && cluster {
			if c.ID, ok = beats.add(c.ID); !ok {
				continue
			}
		}
		fn(c)
	}
}

// confirm waits for the reply to SUBSCRIBE: from then on every PUBLISH
// on the channel reaches ps.
func (s *Store) confirm(ctx context.Context, ps *redis.PubSub) error {
	msg, err := ps.ReceiveTimeout(ctx, idleRead)
	if err != nil {
		return err
	}
	if sub, ok := msg.(*redis.Subscription); !ok || sub.Kind != "subscribe" || sub.Channel != s.channel {
		return fmt.Errorf("unexpected reply %T to SUBSCRIBE", msg)
	}
	return nil
}

// Beat implements store.Watcher with a PUBLISH on the change channel. On
// Redis Cluster it PUBLISHes on every primary: a report forwarded from one
// node reaches a watcher on another after every earlier message from the
// same node, so a beat from each primary proves that each one's earlier
// reports arrived. Each copy carries the number of primaries and the one
// it went through, and Watch reports the beat once every copy is in.
func (s *Store) Beat(ctx context.Context, id string) error {
	const op = "beat"
	if err := s.gate.EnterBeat(ctx, op, id); err != nil {
		return err
	}
	cc, ok := s.c.(*redis.ClusterClient)
	if !ok {
		return s.wrap(ctx, op, s.c.Publish(ctx, s.channel, storekit.BeatChangePrefix+id).Err())
	}
	var mu sync.Mutex
	var addrs []string
	if err := cc.ForEachMaster(ctx, func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		addrs = append(addrs, c.Options().Addr)
		mu.Unlock()
		return nil
	}); err != nil {
		return s.wrap(ctx, op, err)
	}
	n := strconv.Itoa(len(addrs))
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		return c.Publish(ctx, s.channel, storekit.BeatChangePrefix+id+"~"+n+"~"+c.Options().Addr).Err()
	})
	return s.wrap(ctx, op, err)
}

// beatCopies gathers the copies of Redis Cluster beats (see Beat).
type beatCopies map[string]map[string]struct{}

// maxPendingBeats bounds the beats gathered at once: a beat whose copies
// never all arrive (a primary failed over in between) is forgotten.
const maxPendingBeats = 64

// add records one copy of a Cluster beat, text being id~n~addr, and
// returns the beat's id and whether it is complete. The id may hold "~"
// itself: the suffix is read from the right.
func (b *beatCopies) add(text string) (string, bool) {
	head, from, ok := cutLast(text, "~")
	if !ok {
		return "", false
	}
	id, count, ok := cutLast(head, "~")
	n, err := strconv.Atoi(count)
	if !ok || err != nil || n < 1 || id == "" {
		return "", false
	}
	if *b == nil {
		*b = beatCopies{}
	}
	got := (*b)[id]
	if got == nil {
		if len(*b) >= maxPendingBeats {
			clear(*b)
		}
		got = map[string]struct{}{}
		(*b)[id] = got
	}
	got[from] = struct{}{}
	if len(got) < n {
		return "", false
	}
	delete(*b, id)
	return id, true
}

// cutLast is strings.Cut at the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}
