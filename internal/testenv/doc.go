// Package testenv gives latch's tests the database servers they need.
//
// Each backend comes from an environment variable:
//
//	LATCH_TEST_POSTGRES_DSN         lib/pq URL, postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//	LATCH_TEST_MYSQL_DSN            go-sql-driver DSN, root@tcp(127.0.0.1:3306)/test
//	LATCH_TEST_REDIS_ADDR           host:port
//	LATCH_TEST_REDIS_CLUSTER_ADDRS  comma-separated host:port list
//	LATCH_TEST_MONGO_URI            mongodb://127.0.0.1:27017
//
// When a variable is unset (or empty) and a Docker engine answers, the
// backend is started in a container with github.com/ory/dockertest/v3,
// once per test process; Redis Cluster has no Docker fallback. Otherwise
// the test is skipped with one line beginning "testenv: ", or fails when
// LATCH_TEST_REQUIRE names the backend (postgres, mysql, redis,
// redis-cluster, mongo, or all).
//
// A package whose tests may start containers removes them on exit with
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Without it, containers stop on their own after 15 minutes.
//
// NewProxy puts a TCP proxy between the code under test and a backend, to
// drop, stall and restore its connections without touching the backend,
// which other test packages may be using at the same time.
package testenv
