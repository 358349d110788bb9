package latch_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/latchauth/latch"
)

// TestLoginUserOfAnotherType: a user value that the identity function
// cannot take (one of another type than WithIdentity's, or one the
// default identity does not know) is the program's bug, not the client's:
// Login returns a plain error of none of latch's kinds (an HTTP adapter
// answers it 500), logs it at error level, and writes nothing. With no
// logger at all (WithLogger(nil), which no event is logged to either) it
// still returns the error.
func TestLoginUserOfAnotherType(t *testing.T) {
	for _, c := range []struct {
		name string
		auth func(t *testing.T) *env
		user any
		want string // in the error and the log line
	}{
		{"WithIdentity of another type", func(t *testing.T) *env { return newEnv(t, latch.ModeOpaque, nil) },
			"1", "Login got a string, the identity function takes a *authtest.User"},
		{"an interface the user lacks", func(t *testing.T) *env {
			return newEnv(t, latch.ModeJWT, nil, latch.WithIdentity(func(u interface{ String() string }) string { return u.String() }))
		}, struct{}{}, "Login got a struct {}, the identity function takes a interface { String() string }"},
		{"default identity", func(t *testing.T) *env {
			e := newEnv(t, latch.ModeHybrid, nil)
			var err error
			e.Auth, err = latch.New(bg, e.Auth.Config(), latch.WithStore(e.Store), latch.WithLogger(slog.New(slog.NewTextHandler(e.Logs, nil))))
			if err != nil {
				t.Fatal(err)
			}
			return e
		}, 1.5, "Login got a float64; pass a string, an integer or a fmt.Stringer, or set WithIdentity"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := c.auth(t)
			writes := e.Store.Calls().Writes()
			_, err := e.Auth.Login(bg, c.user, latch.LoginOptions{})
			if err == nil || latch.Kind(err) != nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Login = %v (kind %v), want an error of no kind saying %q", err, latch.Kind(err), c.want)
			}
			if latch.PublicMessage(err) != "Internal error" {
				t.Errorf("public message %q, want the generic one", latch.PublicMessage(err))
			}
			line := ""
			for _, l := range strings.Split(e.Logs.String(), "\n") {
				if strings.Contains(l, "latch: Login") {
					line = l
				}
			}
			if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, c.want) {
				t.Errorf("log line %q, want an error saying %q; log:\n%s", line, c.want, e.Logs)
			}
			if e.Store.Calls().Writes() != writes || e.HasEvent(latch.EventLogin) {
				t.Error("a refused login wrote to the store or reported a login")
			}
		})
	}
	a, err := latch.New(bg, latch.Config{}, latch.WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Login(bg, 1.5, latch.LoginOptions{}); err == nil || latch.Kind(err) != nil ||
		!strings.Contains(err.Error(), "Login got a float64") {
		t.Errorf("Login(1.5) without a logger = %v, want an error of no kind naming the type", err)
	}
}
