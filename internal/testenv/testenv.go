package testenv

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// The backends' names as LATCH_TEST_REQUIRE spells them.
const (
	postgres     = "postgres"
	mysql        = "mysql"
	redis        = "redis"
	redisCluster = "redis-cluster"
	mongo        = "mongo"
)

// backend is one server the tests may need.
type backend struct {
	name   string // as named in LATCH_TEST_REQUIRE
	envVar string
	image  string                                                // "repository:tag"; "" means no Docker fallback
	hint   string                                                // how to provide it when there is no Docker fallback
	start  func(p *pool, image string) (value string, err error) // starts the container and waits until it answers

	once   sync.Once
	value  string
	reason string // why the backend is unavailable; "" when value is set
}

var (
	pgBackend = &backend{name: postgres, envVar: "LATCH_TEST_POSTGRES_DSN", image: "postgres:16-alpine", start: startPostgres}
	myBackend = &backend{name: mysql, envVar: "LATCH_TEST_MYSQL_DSN", image: "mariadb:11", start: startMySQL}
	rdBackend = &backend{name: redis, envVar: "LATCH_TEST_REDIS_ADDR", image: "redis:7-alpine", start: startRedis}
	rcBackend = &backend{name: redisCluster, envVar: "LATCH_TEST_REDIS_CLUSTER_ADDRS",
		hint: "set it to the comma-separated host:port list of a running Redis Cluster"}
	moBackend = &backend{name: mongo, envVar: "LATCH_TEST_MONGO_URI", image: "mongo:7", start: startMongo}
)

// PostgresDSN returns a lib/pq URL of a PostgreSQL server, or skips t.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	return get(t, pgBackend)
}

// MySQLDSN returns a go-sql-driver DSN of a MySQL or MariaDB server, or skips t.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	return get(t, myBackend)
}

// RedisAddr returns the host:port of a Redis server, or skips t.
func RedisAddr(t testing.TB) string {
	t.Helper()
	return get(t, rdBackend)
}

// RedisClusterAddrs returns the host:port seeds of a Redis Cluster, or
// skips t. There is no Docker fallback.
func RedisClusterAddrs(t testing.TB) []string {
	t.Helper()
	return splitList(get(t, rcBackend))
}

// MongoURI returns a mongodb:// URI of a MongoDB server, or skips t.
func MongoURI(t testing.TB) string {
	t.Helper()
	return get(t, moBackend)
}

// Required reports whether LATCH_TEST_REQUIRE names backend; "all" names
// every backend. Names are comma-separated, trimmed and case-insensitive.
func Required(backend string) bool {
	return requiredIn(os.Getenv("LATCH_TEST_REQUIRE"), backend)
}

func requiredIn(list, backend string) bool {
	backend = strings.TrimSpace(backend)
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if strings.EqualFold(name, "all") || (name != "" && strings.EqualFold(name, backend)) {
			return true
		}
	}
	return false
}

// get resolves b once per process, then hands t the value or skips or
// fails it.
func get(t testing.TB, b *backend) string {
	t.Helper()
	b.once.Do(func() {
		b.value, b.reason = decide(b, os.Getenv, dockerPool)
	})
	return provide(t, b.name, b.value, b.reason, Required(b.name), os.Getenv("LATCH_TEST_REQUIRE"))
}

// decide finds b's value: from the environment, else from a container
// started through the pool docker returns, else it reports why not.
func decide(b *backend, getenv func(string) string, docker func() (*pool, error)) (value, reason string) {
	if v := strings.TrimSpace(getenv(b.envVar)); v != "" {
		return v, ""
	}
	if b.start == nil {
		return "", fmt.Sprintf("%s unset (%s)", b.envVar, b.hint)
	}
	p, err := docker()
	if err != nil {
		return "", fmt.Sprintf("%s unset and no Docker engine (set it, or start Docker)", b.envVar)
	}
	v, err := b.start(p, b.image)
	if err != nil {
		return "", redact(fmt.Sprintf("%s unset and starting %s in Docker failed: %v", b.envVar, b.image, err))
	}
	return v, ""
}

// provide returns value, or skips t (fails it when required) with one
// line explaining reason.
func provide(t testing.TB, name, value, reason string, required bool, requireEnv string) string {
	t.Helper()
	if reason == "" {
		return value
	}
	if required {
		t.Fatalf("testenv: %s unavailable: %s; required by LATCH_TEST_REQUIRE=%s", name, reason, requireEnv)
	} else {
		t.Skipf("testenv: %s unavailable: %s; LATCH_TEST_REQUIRE=%s turns this skip into a failure", name, reason, name)
	}
	return ""
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// redact replaces the password in every URL or go-sql-driver DSN
// userinfo found in s ("user:secret@host") with "xxxxx". A token is a run
// of characters between blanks or quotes; its password runs from the first
// ':' (after any "scheme://") to its last '@', so a password holding '@'
// does not leak.
func redact(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexAny(s, " \t\r\n\"'`")
		if i < 0 {
			b.WriteString(redactToken(s))
			return b.String()
		}
		b.WriteString(redactToken(s[:i]))
		b.WriteByte(s[i])
		s = s[i+1:]
	}
}

func redactToken(tok string) string {
	at := strings.LastIndexByte(tok, '@')
	if at < 0 {
		return tok
	}
	start := 0
	if i := strings.Index(tok[:at], "://"); i >= 0 {
		start = i + len("://")
	}
	colon := strings.IndexByte(tok[start:at], ':')
	if colon < 0 {
		return tok
	}
	return tok[:start+colon+1] + "xxxxx" + tok[at:]
}
