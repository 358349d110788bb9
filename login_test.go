package latch_test

import (
	"errors"
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
		}, 1.5, "Login got a float64; pass a string or an integer, or set WithIdentity"},
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
	a, err := latch.New(bg, latch.Config{SessionKey: sessionKey}, latch.WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Login(bg, 1.5, latch.LoginOptions{}); err == nil || latch.Kind(err) != nil ||
		!strings.Contains(err.Error(), "Login got a float64") {
		t.Errorf("Login(1.5) without a logger = %v, want an error of no kind naming the type", err)
	}
}

// TestLoginValidation: a subject or claims latch cannot keep are refused
// with their kind; a user value the identity function cannot take is a
// programming error, a plain error of no kind (see
// TestLoginUserOfAnotherType).
func TestLoginValidation(t *testing.T) {
	e := newEnv(t, latch.ModeJWT, nil)
	plain, err := latch.New(bg, latch.Config{SessionKey: sessionKey}, latch.WithStore(e.Store))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		a    *latch.Auth
		user any
		opts latch.LoginOptions
		want error // nil: an error of none of latch's kinds
	}{
		{"empty subject", plain, "", latch.LoginOptions{}, latch.ErrInvalidSubject},
		{"long subject", plain, strings.Repeat("x", 1025), latch.LoginOptions{}, latch.ErrInvalidSubject},
		{"NUL", plain, "a\x00b", latch.LoginOptions{}, latch.ErrInvalidSubject},
		{"bad UTF-8", plain, "a\xffb", latch.LoginOptions{}, latch.ErrInvalidSubject},
		{"unsupported user type", plain, struct{}{}, latch.LoginOptions{}, nil},
		{"identity of another type", e.Auth, "1", latch.LoginOptions{}, nil},
		{"reserved claim", plain, "u", latch.LoginOptions{Claims: map[string]any{"sub": "admin"}}, latch.ErrInvalidClaims},
		{"reserved claim exp", plain, "u", latch.LoginOptions{Claims: map[string]any{"exp": 1}}, latch.ErrInvalidClaims},
		{"reserved claim in capitals", plain, "u", latch.LoginOptions{Claims: map[string]any{"SID": "x"}}, latch.ErrInvalidClaims},
		{"unencodable claim", plain, "u", latch.LoginOptions{Claims: map[string]any{"f": func() {}}}, latch.ErrInvalidClaims},
		{"huge claims", plain, "u", latch.LoginOptions{Claims: map[string]any{"big": strings.Repeat("x", 5000)}}, latch.ErrInvalidClaims},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.a.Login(bg, c.user, c.opts)
			switch {
			case c.want == nil && (err == nil || latch.Kind(err) != nil):
				t.Errorf("Login = %v (kind %v), want an error of no kind", err, latch.Kind(err))
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("Login = %v, want %v", err, c.want)
			}
		})
	}
	// 1 KiB of unicode is a fine subject; the call's claims win ties.
	sub := strings.Repeat("é", 512)
	tk, err := plain.Login(bg, sub, latch.LoginOptions{Claims: map[string]any{"n": 1}, Device: latch.Device{UserAgent: strings.Repeat("ü", 2000)}})
	if err != nil {
		t.Fatalf("Login with a 1 KiB subject: %v", err)
	}
	p, err := plain.Authenticate(bg, tk.AccessToken, access)
	if err != nil || p.Subject != sub || p.Claims["n"] != float64(1) || len(p.Device.UserAgent) > 1024 {
		t.Errorf("Authenticate = %+v, %v", p, err)
	}
}

func TestCallClaimsWinTies(t *testing.T) {
	for _, mode := range modes {
		e := newEnv(t, mode, nil)
		tk, err := e.Auth.Login(bg, users["1"], latch.LoginOptions{Claims: map[string]any{"foo": "baz"}})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := e.Auth.Authenticate(bg, tk.AccessToken, access)
		if p.Claims["foo"] != "baz" || p.Claims["upcase_name"] != "TEST" {
			t.Errorf("%s: claims = %v", mode, p.Claims)
		}
	}
}

func TestOversizedLoginLeavesNoSession(t *testing.T) {
	for _, mode := range []latch.Mode{latch.ModeJWT, latch.ModeHybrid} {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) { c.MaxSessions = 1 })
			first := e.Login(t, users["1"], "first")
			big := strings.Repeat("<", 1024) // 6 KiB once JSON escapes it
			for _, c := range []struct {
				user   any
				claims map[string]any
			}{
				{users["1"], map[string]any{"bio": strings.Repeat("x", 4000), "more": strings.Repeat("y", 1000)}},
				{big, nil},
			} {
				cfg := e.Auth.Config()
				cfg.JWT.Secret = "" // the keyring holds the key
				plain, err := latch.New(bg, cfg, latch.WithStore(e.Store), latch.WithKeyring(e.Auth.Keyring()))
				if err != nil {
					t.Fatal(err)
				}
				a := e.Auth
				if _, ok := c.user.(string); ok {
					a = plain
				}
				before := e.Store.Calls().Writes()
				if _, err := a.Login(bg, c.user, latch.LoginOptions{Claims: c.claims}); !errors.Is(err, latch.ErrInvalidClaims) {
					t.Errorf("oversized login: %v, want ErrInvalidClaims", err)
				}
				if e.Store.Calls().Writes() != before {
					t.Error("a refused login wrote to the store")
				}
			}
			if _, err := e.Auth.Refresh(bg, first.RefreshToken); err != nil {
				t.Errorf("the first device lost its session: %v", err)
			}
		})
	}
}
