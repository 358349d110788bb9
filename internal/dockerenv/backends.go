package main

import (
	"strings"

	"github.com/latchauth/latch/internal/testenv"
)

// backend is a server the tests may need that a container can provide.
type backend struct {
	name   string   // as LATCH_TEST_REQUIRE names it
	envVar string   // the variable internal/testenv reads
	image  string   // "repository:tag"
	env    []string // the container's environment
	port   string   // the server's port in the container, "5432/tcp"
	// stopSignal ends the server cleanly when sent to the container's
	// PID 1; it is how a container expires.
	stopSignal string
	value      func(addr string) string // envVar's value for the published host:port
	probe      func(addr string) error  // succeeds once the server answers
}

// backends are the servers dockerenv can start, in the order it prints
// them. Redis Cluster is not one: .ci/redis-cluster starts it.
var backends = []backend{
	{
		name: "postgres", envVar: testenv.PostgresVar, image: "postgres:16-alpine",
		env:  []string{"POSTGRES_HOST_AUTH_METHOD=trust", "POSTGRES_DB=test"},
		port: "5432/tcp", stopSignal: "INT", // fast shutdown, the image's STOPSIGNAL
		value: func(addr string) string { return "postgres://postgres@" + addr + "/test?sslmode=disable" },
		probe: probePostgres,
	},
	{
		name: "mysql", envVar: testenv.MySQLVar, image: "mariadb:11",
		env:  []string{"MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1", "MARIADB_DATABASE=test"},
		port: "3306/tcp", stopSignal: "TERM",
		value: func(addr string) string { return "root@tcp(" + addr + ")/test" },
		probe: probeMySQL,
	},
	{
		name: "redis", envVar: testenv.RedisVar, image: "redis:7-alpine",
		port: "6379/tcp", stopSignal: "TERM",
		value: func(addr string) string { return addr },
		probe: probeRedis,
	},
	{
		name: "mongo", envVar: testenv.MongoVar, image: "mongo:7",
		port: "27017/tcp", stopSignal: "TERM",
		value: func(addr string) string { return "mongodb://" + addr },
		probe: probeMongo,
	},
}

// toStart returns the backends whose variable getenv reports unset or
// blank, in the order of backends.
func toStart(getenv func(string) string) []backend {
	var out []backend
	for _, b := range backends {
		if strings.TrimSpace(getenv(b.envVar)) == "" {
			out = append(out, b)
		}
	}
	return out
}

// exportLine is a POSIX shell command setting name to value, quoted so
// the shell takes value as it is.
func exportLine(name, value string) string {
	return "export " + name + "='" + strings.ReplaceAll(value, "'", `'\''`) + "'\n"
}
