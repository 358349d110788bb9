package redisstore

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/internal/testenv"
	"github.com/latchauth/latch/store"
)

func TestSchemesRegistered(t *testing.T) {
	for _, s := range []string{"redis", "rediss", "redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel"} {
		if !slices.Contains(store.Schemes(), s) {
			t.Errorf("scheme %s is not registered", s)
		}
	}
}

// TestOpen opens each topology by URL, with every latch_ parameter, and
// checks that the Store owns its client.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	cluster := func(t *testing.T) string {
		addrs := testenv.RedisClusterAddrs(t)
		u := "redis+cluster://" + addrs[0] + "?"
		for _, a := range addrs[1:] {
			u += "addr=" + a + "&"
		}
		return u
	}
	for _, v := range []struct {
		name string
		url  func(t *testing.T) string
		tp   topology
	}{
		{"redis", func(t *testing.T) string { return "redis://" + testenv.RedisAddr(t) + "/0?dial_timeout=2s&" }, topologies[0]},
		{"redis-cluster", cluster, topologies[1]},
	} {
		t.Run(v.name, func(t *testing.T) {
			prefix := randomPrefix()
			c := v.tp.client(t)
			t.Cleanup(func() { deleteKeys(t, c, prefix) })
			key := "a routing key given in the URL, 32+ bytes"
			raw := v.url(t) + "latch_key_prefix=" + url.QueryEscape(prefix) +
				"&latch_routing_key=" + url.QueryEscape(key) + "&latch_previous_routing_key=" + url.QueryEscape(DefaultRoutingKey)
			st, err := store.Open(ctx, raw)
			if err != nil {
				t.Fatalf("store.Open: %v", err)
			}
			s := st.(*Store)
			if s.prefix != prefix || len(s.keys) != 2 || string(s.keys[0]) != key || string(s.keys[1]) != DefaultRoutingKey {
				t.Errorf("options from the URL not applied: prefix %q, %d keys", s.prefix, len(s.keys))
			}
			now := time.Now().Truncate(time.Millisecond)
			x := session("alice", now)
			if err := s.Create(ctx, x, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, x.ID, now); err != nil {
				t.Fatal(err)
			}
			if n := len(keysOf(t, c, prefix)); n != 2 {
				t.Errorf("%d keys under the URL's prefix, want 2", n)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := s.c.Ping(ctx).Err(); err == nil {
				t.Errorf("the client of a Store from Open is still open after Close")
			}
		})
	}
}

// TestOpenErrors: bad URLs are ErrInvalid before anything connects, an
// unreachable server is an error that is not, and no error holds the
// password or a routing key.
func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	const pass, key = "s3cr%40t%3Apw", "routing-s3cret-0123456789"
	secrets := []string{"s3cr@t:pw", "s3cr%40t%3Apw", key}
	base := "redis://:" + pass + "@127.0.0.1:1/0"
	for _, c := range []struct {
		name, url string
		invalid   bool
	}{
		{"unknown latch parameter", base + "?latch_unknown=1", true},
		{"empty key prefix", base + "?latch_key_prefix=", true},
		{"brace in key prefix", base + "?latch_key_prefix=a%7Bb%7D", true},
		{"space in key prefix", base + "?latch_key_prefix=a+b", true},
		{"key prefix twice", base + "?latch_key_prefix=a&latch_key_prefix=b", true},
		{"short routing key", base + "?latch_routing_key=" + key[:15], true},
		{"routing key twice", base + "?latch_routing_key=" + key + "&latch_routing_key=" + key, true},
		{"short previous routing key", base + "?latch_routing_key=" + key + "&latch_previous_routing_key=" + key[:10], true},
		{"previous routing key alone", base + "?latch_previous_routing_key=" + key, true},
		{"bad database", "redis://:" + pass + "@127.0.0.1:1/x?latch_routing_key=" + key, true},
		{"unknown go-redis parameter", base + "?bogus=1&latch_routing_key=" + key, true},
		{"cluster unknown parameter", "redis+cluster://:" + pass + "@127.0.0.1:1?bogus=1", true},
		{"sentinel without master_name", "redis+sentinel://:" + pass + "@127.0.0.1:1", true},
		{"semicolon after the routing key", base + "?latch_routing_key=" + key + ";xyz", true},
		{"bad escape in the routing key", base + "?latch_routing_key=" + key + "%zz", true},
		{"semicolon in the key prefix", base + "?latch_key_prefix=rv;probe", true},
		{"semicolon in another parameter", base + "?dial_timeout=1s;x=1&latch_routing_key=" + key, true},
		{"unreachable server", base + "?dial_timeout=1s&max_retries=-1&latch_routing_key=" + key, false},
		{"unreachable cluster", "redis+cluster://:" + pass + "@127.0.0.1:1?dial_timeout=1s&max_retries=-1&latch_routing_key=" + key, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := store.Open(ctx, c.url)
			if err == nil {
				s.(*Store).Close()
				t.Fatalf("store.Open succeeded")
			}
			if got := errors.Is(err, ErrInvalid); got != c.invalid {
				t.Errorf("errors.Is(%v, ErrInvalid) = %v, want %v", err, got, c.invalid)
			}
			for _, x := range secrets {
				if strings.Contains(err.Error(), x) {
					t.Errorf("error %q holds a secret", err)
				}
			}
		})
	}
	// A short password must neither leak nor garble the message.
	for _, pw := range []string{"1", "pw", "a"} {
		_, err := store.Open(ctx, "redis://:"+pw+"@127.0.0.1:1/0?dial_timeout=1s&max_retries=-1")
		if err == nil || strings.Contains(err.Error(), ":"+pw+"@") || strings.Contains(err.Error(), "xxxxx") ||
			!strings.Contains(err.Error(), "redis://127.0.0.1:1") || !strings.Contains(err.Error(), "refused") {
			t.Errorf("Open with password %q = %v", pw, err)
		}
	}
	for _, raw := range []string{"redis+ring://127.0.0.1:1", "", "127.0.0.1:6379"} {
		if s, err := Open(ctx, raw); !errors.Is(err, ErrInvalid) || s != nil {
			t.Errorf("Open(%q) = %v, %v; want ErrInvalid", raw, s, err)
		}
	}
	// Options given to Open win over the URL's.
	raw := "redis://" + testenv.RedisAddr(t) + "/0?latch_key_prefix=url:"
	s, err := Open(ctx, raw, WithKeyPrefix("opt:"), WithErrorHook(func(error) {}))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if s.prefix != "opt:" || s.kit.ErrorHook == nil {
		t.Errorf("Open's options not applied: prefix %q", s.prefix)
	}
}

func TestOptions(t *testing.T) {
	c := topologies[0].dead(t)
	for name, o := range map[string]Option{
		"empty prefix":       WithKeyPrefix(""),
		"long prefix":        WithKeyPrefix(strings.Repeat("a", maxPrefixLen+1)),
		"prefix with {":      WithKeyPrefix("a{"),
		"prefix with }":      WithKeyPrefix("a}"),
		"prefix with NUL":    WithKeyPrefix("a\x00"),
		"prefix not ASCII":   WithKeyPrefix("é"),
		"short key":          WithRoutingKey(make([]byte, MinRoutingKeyLen-1)),
		"short previous key": WithRoutingKey(make([]byte, 32), nil),
	} {
		if _, err := New(c, o); !errors.Is(err, ErrInvalid) {
			t.Errorf("New with %s = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := New(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("New(nil) = %v, want ErrInvalid", err)
	}
	key := []byte("a routing key of 32 bytes, 12345")
	s, err := New(c, WithKeyPrefix("app1:"), WithRoutingKey(key))
	if err != nil {
		t.Fatal(err)
	}
	key[0] = 'X' // the Store keeps its own copy
	if s.prefix != "app1:" || string(s.keys[0]) != "a routing key of 32 bytes, 12345" {
		t.Errorf("options not applied: %q %q", s.prefix, s.keys[0])
	}
}
