package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchauth/latch/internal/testenv"
)

func TestMain(m *testing.M) {
	// go-redis logs failed dials of the dead-address clients; the tests
	// assert on errors instead.
	redis.SetLogger(quiet{})
	testenv.Main(m)
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// topology is one way of running Redis that the tests cover.
type topology struct {
	name string // the subtest name: redis, redis-cluster
	// client returns a client of a server from testenv, closed when t ends.
	client func(t testing.TB) redis.UniversalClient
	// dead returns a client whose every call fails fast.
	dead func(t testing.TB) redis.UniversalClient
}

var topologies = []topology{
	{
		name: "redis",
		client: func(t testing.TB) redis.UniversalClient {
			return closing(t, redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t), ContextTimeoutEnabled: true}))
		},
		dead: func(t testing.TB) redis.UniversalClient {
			return closing(t, redis.NewClient(&redis.Options{Addr: deadAddr, DialTimeout: time.Second, MaxRetries: -1}))
		},
	},
	{
		name: "redis-cluster",
		client: func(t testing.TB) redis.UniversalClient {
			return closing(t, redis.NewClusterClient(&redis.ClusterOptions{Addrs: testenv.RedisClusterAddrs(t), ContextTimeoutEnabled: true}))
		},
		dead: func(t testing.TB) redis.UniversalClient {
			return closing(t, redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{deadAddr}, DialTimeout: time.Second, MaxRetries: -1}))
		},
	},
}

// deadAddr refuses connections: nothing listens on port 1 of loopback.
const deadAddr = "127.0.0.1:1"

// eachTopology runs f as one subtest per topology, named after it.
func eachTopology(t *testing.T, f func(t *testing.T, tp topology)) {
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) { f(t, tp) })
	}
}

func closing[C redis.UniversalClient](t testing.TB, c C) C {
	t.Cleanup(func() { c.Close() })
	return c
}

// randomPrefix returns a key prefix no other test uses.
func randomPrefix() string {
	var b [6]byte
	rand.Read(b[:])
	return "t" + hex.EncodeToString(b[:]) + ":"
}

// newStore returns a Store on c with a fresh key prefix; when t ends its
// keys are deleted.
func newStore(t testing.TB, c redis.UniversalClient, opts ...Option) *Store {
	t.Helper()
	prefix := randomPrefix()
	s, err := New(c, append([]Option{WithKeyPrefix(prefix)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { deleteKeys(t, c, prefix) })
	return s
}

// keysOf returns every key under prefix, found with SCAN on each master
// (the tests may; the store never does).
func keysOf(t testing.TB, c redis.UniversalClient, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	var keys []string
	scan := func(ctx context.Context, n *redis.Client) error {
		it := n.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	switch c := c.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	default:
		t.Fatalf("keysOf: unexpected client %T", c)
	}
	if err != nil {
		t.Fatalf("SCAN %s*: %v", prefix, err)
	}
	return keys
}

// deleteKeys deletes every key under prefix, and nothing else.
func deleteKeys(t testing.TB, c redis.UniversalClient, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, k := range keysOf(t, c, prefix) {
		if err := c.Del(ctx, k).Err(); err != nil {
			t.Errorf("DEL %q: %v", k, err)
			return
		}
	}
}

// privateServer starts a redis-server of its own on a free loopback port,
// with nothing persisted, and stops it when t ends. Tests that flush
// scripts or measure memory use one, so nothing else disturbs them.
func privateServer(t testing.TB, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if testenv.Required("redis") {
			t.Fatalf("redis-server not found, required by LATCH_TEST_REQUIRE: %v", err)
		}
		t.Skipf("redis-server not found: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", t.TempDir()}, args...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c.Ping(context.Background()).Err() == nil {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("private redis-server on %s did not answer: %s", addr, out.String())
		}
	}
}

// writeCounter is a go-redis hook that counts the writes of a client's
// commands as the server answers them: a script counts when its reply,
// or the first element of its reply, is a positive number (every script
// of this package answers 1 when it wrote, or how many things it
// changed: see scripts.go), and any other command when it is one of
// Redis' write commands that succeeded.
type writeCounter struct{ n atomic.Int64 }

// countWrites adds a writeCounter to c and returns it.
func countWrites(c redis.UniversalClient) *writeCounter {
	w := &writeCounter{}
	c.AddHook(w)
	return w
}

// writeCommands are the write commands a Store sends outside scripts.
var writeCommands = map[string]bool{"zrem": true, "del": true, "set": true, "zadd": true}

func (w *writeCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (w *writeCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil && wrote(cmd) {
			w.n.Add(1)
		}
		return err
	}
}

func (w *writeCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			if cmd.Err() == nil && wrote(cmd) {
				w.n.Add(1)
			}
		}
		return err
	}
}

// wrote reports whether a command that succeeded wrote.
func wrote(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "evalsha", "eval", "evalsha_ro", "eval_ro":
		c, ok := cmd.(*redis.Cmd)
		if !ok {
			return false
		}
		v := c.Val()
		if a, ok := v.([]any); ok && len(a) > 0 {
			v = a[0]
		}
		n, _ := v.(int64)
		return n > 0
	}
	if writeCommands[cmd.Name()] {
		n, ok := cmd.(*redis.IntCmd)
		return !ok || n.Val() > 0
	}
	return false
}
