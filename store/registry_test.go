package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// TestOpenErrorHidesCredentials: a store URL that does not parse, or has
// no scheme, is named in the error by its scheme at most, never by what
// could be a user name or a password.
func TestOpenErrorHidesCredentials(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"f.db?_auth_pass=ab:cd", `store: "…" is not a store URL (such as memory:)`},
		{"//user:pw@host/db", `store: "…" is not a store URL (such as memory:)`},
		{"user:pw@host", `store: no store registered for scheme "user"`},
		{"postgres://u:p%zz@host/db", `store: "postgres:…" is not a store URL (such as memory:)`},
		{"1abc:secret", `store: "…" is not a store URL (such as memory:)`},
		{":secret", `store: "…" is not a store URL (such as memory:)`},
		{"", `store: "…" is not a store URL (such as memory:)`},
	} {
		_, err := store.Open(context.Background(), tt.url)
		if err == nil {
			t.Errorf("Open(%q): no error", tt.url)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, tt.want) {
			t.Errorf("Open(%q) = %q, want it to start with %q", tt.url, msg, tt.want)
		}
		for _, secret := range []string{"pw", "ab:cd", "secret", "p%zz"} {
			if strings.Contains(tt.url, secret) && strings.Contains(msg, secret) {
				t.Errorf("Open(%q) = %q: shows %q", tt.url, msg, secret)
			}
		}
		if errors.Unwrap(err) != nil {
			t.Errorf("Open(%q) wraps %v, which may quote the URL", tt.url, errors.Unwrap(err))
		}
	}
}

func TestJitter(t *testing.T) {
	for _, n := range []time.Duration{-1, 0} {
		if d := store.Jitter(n); d != 0 {
			t.Errorf("Jitter(%v) = %v, want 0", n, d)
		}
	}
	if d := store.Jitter(1); d != 0 {
		t.Errorf("Jitter(1) = %v, want 0", d)
	}
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := store.Jitter(8 * time.Millisecond)
		if d < 0 || d >= 8*time.Millisecond {
			t.Fatalf("Jitter(8ms) = %v, outside [0, 8ms)", d)
		}
		seen[d] = true
	}
	if len(seen) < 900 { // 1000 draws from 8e6 values: repeats are rare
		t.Errorf("Jitter(8ms) gave %d distinct values in 1000 draws", len(seen))
	}
}
