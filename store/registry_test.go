package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/latchauth/latch/store"
)

// TestOpenErrorHidesCredentials: a store URL that does not parse, or has
// no scheme, is named in the error by its scheme at most, never by what
// could be a user name or a password.
func TestOpenErrorHidesCredentials(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"f.db?_auth_pass=ab:cd", `store: "…" is not a store URL (such as memory:)`},
		{"//user:pw@host/db", `store: "…" is not a store URL (such as memory:)`},
		{"user:pw@host", `store: no store registered for scheme "user"`}, // and matches ErrUnknownScheme
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
		if u := errors.Unwrap(err); u != nil && u != store.ErrUnknownScheme {
			t.Errorf("Open(%q) wraps %v, which may quote the URL", tt.url, u)
		}
	}
}

// TestUnknownScheme: a scheme no linked store registered matches
// ErrUnknownScheme, so a program can say which package to link.
func TestUnknownScheme(t *testing.T) {
	_, err := store.Open(context.Background(), "nosuchstore://host/db")
	if !errors.Is(err, store.ErrUnknownScheme) || !strings.Contains(err.Error(), `"nosuchstore"`) {
		t.Errorf("Open(nosuchstore://) = %v, want ErrUnknownScheme naming the scheme", err)
	}
}
