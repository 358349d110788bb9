package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/redisstore"
)

// An application that owns its client hands it to New. The Store never
// closes it. A secret routing key keeps session ids from revealing whose
// they are; every process sharing the key prefix needs the same one.
func ExampleNew() {
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // a done context interrupts a waiting call
	})
	defer c.Close()

	s, err := redisstore.New(c,
		redisstore.WithKeyPrefix("myapp:"),
		redisstore.WithRoutingKey([]byte(os.Getenv("LATCH_ROUTING_KEY"))), // 32 random bytes
	)
	if err != nil {
		panic(err)
	}
	now := time.Now()
	sess := &store.Session{
		Subject:     "user-42",
		Device:      store.Device{Label: "Firefox on Linux"},
		RefreshHash: []byte("sha-256 of the refresh secret"),
		CreatedAt:   now,
		LastUsedAt:  now,
		IdleUntil:   now.Add(30 * 24 * time.Hour),
		ExpiresAt:   now.Add(90 * 24 * time.Hour),
	}
	if err := s.Create(ctx, sess, 5); err != nil { // at most 5 devices
		panic(err)
	}
	list, err := s.List(ctx, "user-42", now)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(list), list[0].Device.Label)
}

// A Redis Cluster takes the same Store: all of a subject's keys share one
// hash slot, so every atomic step runs on one node.
func ExampleNew_cluster() {
	c := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"},
		ContextTimeoutEnabled: true,
	})
	defer c.Close()
	s, err := redisstore.New(c, redisstore.WithRoutingKey([]byte(os.Getenv("LATCH_ROUTING_KEY"))))
	if err != nil {
		panic(err)
	}
	_ = s // latch.New(ctx, cfg, latch.WithStore(s))
}

// Sentinel: a failover client follows the master through failovers.
func ExampleNew_sentinel() {
	c := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:            "mymaster",
		SentinelAddrs:         []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"},
		ContextTimeoutEnabled: true,
	})
	defer c.Close()
	s, err := redisstore.New(c, redisstore.WithRoutingKey([]byte(os.Getenv("LATCH_ROUTING_KEY"))))
	if err != nil {
		panic(err)
	}
	_ = s
}

// A configuration string names the store; the Store opened by URL owns its
// client, and Close closes it. A routing key of random bytes must be
// escaped in the URL: a raw '&', ';', '%' or '+' would cut or change it,
// and a query that does not parse is refused. store.Open runs
// redisstore.Open, which also takes options.
func ExampleOpen() {
	ctx := context.Background()
	s, err := redisstore.Open(ctx, "redis+cluster://10.0.0.1:7000?addr=10.0.0.2:7000&addr=10.0.0.3:7000"+
		"&latch_key_prefix=myapp:&latch_routing_key="+url.QueryEscape(os.Getenv("LATCH_ROUTING_KEY")),
		redisstore.WithErrorHook(func(err error) { slog.Warn("session store", "err", err) }))
	if err != nil {
		panic(err)
	}
	defer s.Close()
}

// Moving from the default routing key to a secret one, in steps that keep
// every session in reach of RevokeSubject and List.
func ExampleWithRoutingKey() {
	secret := []byte(os.Getenv("LATCH_ROUTING_KEY"))
	old := []byte(redisstore.DefaultRoutingKey)
	// Step 1, deployed everywhere: create under the old key, search both.
	step1 := redisstore.WithRoutingKey(old, secret)
	// Step 2, deployed everywhere: create under the new key, search both.
	step2 := redisstore.WithRoutingKey(secret, old)
	// Step 3, once every session created under the old key has expired.
	step3 := redisstore.WithRoutingKey(secret)
	_, _, _ = step1, step2, step3
}

// An outage is never store.ErrNotFound: a closed Store (like an
// unreachable server) fails with an error of its own.
func ExampleStore_Close() {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer c.Close()
	s, err := redisstore.New(c)
	if err != nil {
		panic(err)
	}
	s.Close()
	_, err = s.Get(context.Background(), store.NewID(), time.Now())
	fmt.Println(errors.Is(err, redisstore.ErrClosed), errors.Is(err, store.ErrNotFound))
	// Output: true false
}
