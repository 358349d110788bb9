package testenv

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// The variables that name each backend. internal/dockerenv sets the ones
// it can start a container for.
const (
	PostgresVar     = "LATCH_TEST_POSTGRES_DSN"
	MySQLVar        = "LATCH_TEST_MYSQL_DSN"
	RedisVar        = "LATCH_TEST_REDIS_ADDR"
	RedisClusterVar = "LATCH_TEST_REDIS_CLUSTER_ADDRS"
	MongoVar        = "LATCH_TEST_MONGO_URI"
)

// How to provide a backend that is missing: make test starts the first
// kind in Docker when an engine is there; Redis Cluster has its script.
const (
	dockerHint  = "set it, or run make test with a Docker engine"
	clusterHint = `set it to the comma-separated host:port list of a running Redis Cluster, e.g. eval "$(.ci/redis-cluster start)"`
)

// backend is one server the tests may need.
type backend struct {
	name   string // as named in LATCH_TEST_REQUIRE
	envVar string
	hint   string // how to provide it
}

var (
	pgBackend = backend{name: "postgres", envVar: PostgresVar, hint: dockerHint}
	myBackend = backend{name: "mysql", envVar: MySQLVar, hint: dockerHint}
	rdBackend = backend{name: "redis", envVar: RedisVar, hint: dockerHint}
	rcBackend = backend{name: "redis-cluster", envVar: RedisClusterVar, hint: clusterHint}
	moBackend = backend{name: "mongo", envVar: MongoVar, hint: dockerHint}
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
// skips t.
func RedisClusterAddrs(t testing.TB) []string {
	t.Helper()
	return splitList(get(t, rcBackend))
}

// MongoURI returns a mongodb:// URI of a MongoDB server, or skips t.
func MongoURI(t testing.TB) string {
	t.Helper()
	return get(t, moBackend)
}

// Main runs m and exits with its status. The tests no longer start
// containers themselves (make test does, through internal/dockerenv), so
// there is nothing to clean up; it stays so that the packages calling it
// from TestMain need no change.
func Main(m *testing.M) {
	os.Exit(m.Run())
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

// get hands t b's value from the environment, or skips or fails it.
func get(t testing.TB, b backend) string {
	t.Helper()
	value, reason := decide(b, os.Getenv)
	return provide(t, b.name, value, reason, Required(b.name), os.Getenv("LATCH_TEST_REQUIRE"))
}

// decide finds b's value in the environment, or reports why there is none.
func decide(b backend, getenv func(string) string) (value, reason string) {
	if v := strings.TrimSpace(getenv(b.envVar)); v != "" {
		return v, ""
	}
	return "", fmt.Sprintf("%s unset (%s)", b.envVar, b.hint)
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
