package testenv

import (
	"fmt"
	"slices"
	"testing"
)

// fakeTB records Skipf and Fatalf instead of stopping the test.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Skipf(format string, args ...any)  { f.skipped = fmt.Sprintf(format, args...) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.failed = fmt.Sprintf(format, args...) }

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name       string
		b          backend
		env        map[string]string
		wantValue  string
		wantReason string // "" means available
	}{
		{"set", pgBackend, map[string]string{PostgresVar: "postgres://h/db"}, "postgres://h/db", ""},
		{"trimmed", rdBackend, map[string]string{RedisVar: " h:1 "}, "h:1", ""},
		{"empty is unset", pgBackend, map[string]string{PostgresVar: " "}, "",
			"LATCH_TEST_POSTGRES_DSN unset (set it, or run make test with a Docker engine)"},
		{"unset", moBackend, nil, "",
			"LATCH_TEST_MONGO_URI unset (set it, or run make test with a Docker engine)"},
		{"unset, no Docker fallback", rcBackend, nil, "",
			`LATCH_TEST_REDIS_CLUSTER_ADDRS unset (set it to the comma-separated host:port list of a running Redis Cluster, e.g. eval "$(.ci/redis-cluster start)")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			value, reason := decide(tt.b, env(tt.env))
			if value != tt.wantValue || reason != tt.wantReason {
				t.Errorf("decide = %q, %q; want %q, %q", value, reason, tt.wantValue, tt.wantReason)
			}
		})
	}
}

func TestProvide(t *testing.T) {
	const reason = "LATCH_TEST_POSTGRES_DSN unset (set it, or run make test with a Docker engine)"
	t.Run("available", func(t *testing.T) {
		f := &fakeTB{}
		if got := provide(f, "postgres", "dsn", "", true, "postgres"); got != "dsn" || f.skipped != "" || f.failed != "" {
			t.Errorf("got %q, skipped %q, failed %q", got, f.skipped, f.failed)
		}
	})
	t.Run("not required skips", func(t *testing.T) {
		f := &fakeTB{}
		provide(f, "postgres", "", reason, false, "mysql")
		want := "testenv: postgres unavailable: " + reason + "; LATCH_TEST_REQUIRE=postgres turns this skip into a failure"
		if f.skipped != want || f.failed != "" {
			t.Errorf("skipped %q, failed %q; want skip %q", f.skipped, f.failed, want)
		}
	})
	t.Run("required fails", func(t *testing.T) {
		f := &fakeTB{}
		provide(f, "postgres", "", reason, true, "postgres,mysql")
		want := "testenv: postgres unavailable: " + reason + "; required by LATCH_TEST_REQUIRE=postgres,mysql"
		if f.failed != want || f.skipped != "" {
			t.Errorf("failed %q, skipped %q; want failure %q", f.failed, f.skipped, want)
		}
	})
}

func TestRequiredIn(t *testing.T) {
	tests := []struct {
		list, backend string
		want          bool
	}{
		{"", "postgres", false},
		{"postgres", "postgres", true},
		{" Postgres , MYSQL ", "mysql", true},
		{"postgres,mysql", "redis", false},
		{"redis", "redis-cluster", false},
		{"redis-cluster", "redis", false},
		{"all", "mongo", true},
		{"ALL", "redis-cluster", true},
		{",,", "", false},
	}
	for _, tt := range tests {
		if got := requiredIn(tt.list, tt.backend); got != tt.want {
			t.Errorf("requiredIn(%q, %q) = %v, want %v", tt.list, tt.backend, got, tt.want)
		}
	}
}

func TestRequired(t *testing.T) {
	t.Setenv("LATCH_TEST_REQUIRE", "mysql, mongo")
	if !Required("mongo") || Required("postgres") {
		t.Errorf("Required disagrees with LATCH_TEST_REQUIRE=%q", "mysql, mongo")
	}
}

func TestSplitList(t *testing.T) {
	got := splitList(" a:1, ,b:2,")
	if want := []string{"a:1", "b:2"}; !slices.Equal(got, want) {
		t.Errorf("splitList = %q, want %q", got, want)
	}
}

// TestFromEnv goes through the exported API: a set variable is returned
// as is, without Docker.
func TestFromEnv(t *testing.T) {
	t.Setenv("LATCH_TEST_REDIS_CLUSTER_ADDRS", "127.0.0.1:7000, 127.0.0.1:7001")
	if got, want := RedisClusterAddrs(t), []string{"127.0.0.1:7000", "127.0.0.1:7001"}; !slices.Equal(got, want) {
		t.Errorf("RedisClusterAddrs = %q, want %q", got, want)
	}
}
