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
// When a variable is unset (or empty) the test is skipped with one line
// beginning "testenv: ", or fails when LATCH_TEST_REQUIRE names the
// backend (postgres, mysql, redis, redis-cluster, mongo, or all).
//
// The package uses the standard library only, so it is part of the core
// module and a user's go mod tidy, which loads the tests of the packages
// it imports, finds nothing more. Servers in Docker are started before
// the tests, not by them: make test runs internal/dockerenv (a module of
// its own, never published) when a Docker engine may be there, and it
// sets the variables of the backends it started.
//
// NewProxy puts a TCP proxy between the code under test and a backend, to
// drop, stall and restore its connections without touching the backend,
// which other test packages may be using at the same time.
package testenv
