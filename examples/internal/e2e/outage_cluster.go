package e2e

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/testenv"
	"github.com/latchauth/latch/store/redisstore"
)

// proxiedCluster puts the Redis Cluster of testenv behind one proxy per
// node. One proxy in front of a seed would not do: the cluster answers
// CLUSTER SLOTS and MOVED redirects with its nodes' own addresses, and
// go-redis connects to those. So the app gets a cluster client built
// here, whose Dialer sends each node's address to that node's proxy and
// refuses every other address (clusterDialer), and the store on it
// through latch.WithStore; a URL cannot carry a Dialer. The client is the
// one redisstore.Open makes from a redis+cluster:// URL of the same seeds
// (go-redis's defaults, ContextTimeoutEnabled so that a call ends with its
// context) but for the Dialer, and the store is the one Open makes from
// the latch_key_prefix that redisClusterURL sets.
//
// Before the app starts, the client reaches every node through its
// proxy, and each must answer with the node ID the cluster reports for
// that address; when the test ends, it fails if the client ever asked for
// an address without a proxy.
func proxiedCluster(t *testing.T, tag string) proxiedStore {
	t.Helper()
	seeds := testenv.RedisClusterAddrs(t)
	direct := redis.NewClusterClient(&redis.ClusterOptions{Addrs: seeds})
	deleteKeys(t, direct, tag+":") // closes direct when t ends
	nodes := clusterNodes(t, direct)

	d := &clusterDialer{proxies: map[string]*testenv.Proxy{}, refused: map[string]int{}}
	// Registered before the client's Close, so it runs after it: no dial
	// comes later.
	t.Cleanup(func() { d.check(t) })
	for _, addr := range append(slices.Sorted(maps.Keys(nodes)), seeds...) {
		if d.proxies[addr] == nil {
			d.proxies[addr] = testenv.NewProxy(t, addr)
		}
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 seeds,
		Dialer:                d.dial,
		ContextTimeoutEnabled: true,
	})
	s, err := redisstore.New(c, redisstore.WithKeyPrefix(tag+":"))
	if err != nil {
		c.Close()
		t.Fatalf("redisstore.New: %v", err)
	}
	// Neither latch nor the store closes what WithStore and New were
	// given; this runs after the app has closed.
	t.Cleanup(func() {
		s.Close()
		c.Close()
	})
	d.checkRoutes(t, c, nodes)
	return proxiedStore{
		opts:    []latch.Option{latch.WithStore(s)},
		proxies: slices.Collect(maps.Values(d.proxies)),
	}
}

// clusterNodes returns the ID of every node (master or replica) of the
// cluster c reaches, by the address go-redis dials it at.
func clusterNodes(t *testing.T, c *redis.ClusterClient) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	nodes := map[string]string{}
	err := c.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error {
		id, err := n.ClusterMyID(ctx).Result()
		if err != nil {
			return fmt.Errorf("CLUSTER MYID on %s: %w", n.Options().Addr, err)
		}
		mu.Lock()
		defer mu.Unlock()
		nodes[n.Options().Addr] = id
		return nil
	})
	if err != nil {
		t.Fatalf("listing the cluster's nodes: %v", err)
	}
	if len(nodes) == 0 {
		t.Fatal("listing the cluster's nodes: none")
	}
	return nodes
}

// clusterDialer is the Dialer of a cluster client that must reach the
// cluster only through proxies: it connects to the proxy of the node
// address go-redis asks for, and fails the dial of any address it has no
// proxy for (a node the cluster did not report when the proxies were
// made), so no connection can go past the proxies; check then fails the
// test.
type clusterDialer struct {
	proxies map[string]*testenv.Proxy // by node address; fixed before the client exists

	mu      sync.Mutex
	refused map[string]int // dials refused, by network and address
}

func (d *clusterDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	p := d.proxies[addr]
	if p == nil || network != "tcp" {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.refused[network+" "+addr]++
		return nil, fmt.Errorf("outage test: no proxy for %s %s: refusing to connect past the proxies", network, addr)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, p.Addr())
}

// checkRoutes asks every node of the cluster for its ID through c: each
// must answer with the ID nodes gives for its address, and its proxy must
// have seen the connection (a dialer that went straight to the node
// would fail here, before the outage, rather than as a fail-open answer
// during it).
func (d *clusterDialer) checkRoutes(t *testing.T, c *redis.ClusterClient, nodes map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	reached := map[string]bool{}
	err := c.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error {
		addr := n.Options().Addr
		id, err := n.ClusterMyID(ctx).Result()
		if err != nil {
			return fmt.Errorf("CLUSTER MYID on %s: %w", addr, err)
		}
		if id != nodes[addr] {
			return fmt.Errorf("%s answers through its proxy as node %q, want %q", addr, id, nodes[addr])
		}
		mu.Lock()
		defer mu.Unlock()
		reached[addr] = true
		return nil
	})
	if err != nil {
		t.Fatalf("reaching the cluster's nodes through the proxies: %v", err)
	}
	var bad []string
	for _, addr := range slices.Sorted(maps.Keys(nodes)) {
		switch {
		case !reached[addr]:
			bad = append(bad, addr+" was not reached")
		case d.proxies[addr].Accepted() == 0:
			bad = append(bad, addr+" answered, but its proxy saw no connection: the client went past it")
		}
	}
	if len(bad) > 0 {
		t.Fatalf("reaching the cluster's nodes through the proxies: %s", strings.Join(bad, "; "))
	}
}

// check fails t if the client asked for an address without a proxy: the
// dial failed, so nothing went past the proxies, but the outage did not
// cover that node and the test would prove less than it claims.
func (d *clusterDialer) check(t *testing.T) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.refused) > 0 {
		t.Errorf("the cluster client asked for addresses without a proxy (dials refused): %v; proxied: %v",
			d.refused, slices.Sorted(maps.Keys(d.proxies)))
	}
}
