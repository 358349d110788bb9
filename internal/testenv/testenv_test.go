package testenv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
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

func noDocker() (*pool, error) {
	return nil, errors.New("dial unix /var/run/docker.sock: no such file")
}
func withDocker() (*pool, error) { return &pool{}, nil }

func TestDecide(t *testing.T) {
	started := func(*pool, string) (string, error) { return "postgres://postgres@localhost:32768/test", nil }
	broken := func(*pool, string) (string, error) {
		return "", errors.New(`pull access denied for "postgres://u:hunter2@x"`)
	}
	tests := []struct {
		name       string
		start      func(*pool, string) (string, error)
		env        map[string]string
		docker     func() (*pool, error)
		wantValue  string
		wantReason string // substring; "" means available
	}{
		{"env wins over docker", started, map[string]string{"V": "postgres://h/db"}, withDocker, "postgres://h/db", ""},
		{"env trimmed", started, map[string]string{"V": " h:1 "}, noDocker, "h:1", ""},
		{"empty env is unset", started, map[string]string{"V": ""}, noDocker, "", "V unset and no Docker engine (set it, or start Docker)"},
		{"unset, no docker", started, nil, noDocker, "", "V unset and no Docker engine (set it, or start Docker)"},
		{"unset, docker starts it", started, nil, withDocker, "postgres://postgres@localhost:32768/test", ""},
		{"unset, docker fails", broken, nil, withDocker, "", "V unset and starting img:1 in Docker failed: pull access denied"},
		{"unset, no docker fallback", nil, nil, withDocker, "", "V unset (start it)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &backend{name: "pg", envVar: "V", image: "img:1", hint: "start it", start: tt.start}
			value, reason := decide(b, env(tt.env), tt.docker)
			if value != tt.wantValue {
				t.Errorf("value = %q, want %q", value, tt.wantValue)
			}
			if (tt.wantReason == "") != (reason == "") || !strings.Contains(reason, tt.wantReason) {
				t.Errorf("reason = %q, want it to contain %q", reason, tt.wantReason)
			}
			if strings.Contains(reason, "hunter2") {
				t.Errorf("reason leaks a password: %q", reason)
			}
		})
	}
}

func TestProvide(t *testing.T) {
	const reason = "LATCH_TEST_POSTGRES_DSN unset and no Docker engine (set it, or start Docker)"
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

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"},
		{"postgres://u:s3cret@h:5432/db", "postgres://u:xxxxx@h:5432/db"},
		{"root:pw@tcp(127.0.0.1:3306)/test", "root:xxxxx@tcp(127.0.0.1:3306)/test"},
		{"root:p@ss:w@tcp(h:3306)/test", "root:xxxxx@tcp(h:3306)/test"},
		{"root@tcp(127.0.0.1:3306)/test", "root@tcp(127.0.0.1:3306)/test"},
		{"mongodb://admin:pw@h1:27017,h2:27017/?authSource=admin", "mongodb://admin:xxxxx@h1:27017,h2:27017/?authSource=admin"},
		{`dial "postgres://a:b@h/db": refused; DSN=u:v@tcp(h)/d`, `dial "postgres://a:xxxxx@h/db": refused; DSN=u:xxxxx@tcp(h)/d`},
		{"127.0.0.1:6379", "127.0.0.1:6379"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
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

func TestMongoPing(t *testing.T) {
	msg := mongoPing()
	if n := int(msg[0]) | int(msg[1])<<8; n != len(msg) {
		t.Errorf("message length field %d, want %d", n, len(msg))
	}
	if !strings.Contains(string(msg), "ping\x00\x01\x00\x00\x00\x02$db\x00\x06\x00\x00\x00admin\x00\x00") {
		t.Errorf("unexpected body %q", msg)
	}
}

// serve answers one connection with reply, after reading want bytes.
func serve(t *testing.T, want int, reply []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := io.ReadFull(c, make([]byte, want)); err == nil {
			c.Write(reply)
		}
	}()
	return ln.Addr().String()
}

func TestProbes(t *testing.T) {
	mongoReply := make([]byte, 16)
	binary.LittleEndian.PutUint32(mongoReply[12:], opMsg)
	tests := []struct {
		name    string
		probe   func(string) error
		read    int
		reply   []byte
		wantErr bool
	}{
		{"postgres", probePostgres, 8, []byte("N"), false},
		{"postgres wrong", probePostgres, 8, []byte("E"), true},
		{"postgres closed", probePostgres, 8, nil, true},
		{"mysql", probeMySQL, 0, []byte{0x5b, 0, 0, 0, 10}, false},
		{"mysql wrong", probeMySQL, 0, []byte{0x5b, 0, 0, 0, 0xff}, true},
		{"redis", probeRedis, 6, []byte("+PONG\r\n"), false},
		{"redis loading", probeRedis, 6, []byte("-LOADING\r\n"), true},
		{"mongo", probeMongo, len(mongoPing()), mongoReply, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.probe(serve(t, tt.read, tt.reply))
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}
