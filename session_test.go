package latch_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/internal/storetest"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/token"
)

func TestLoginVerifyEveryMode(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			tk := e.Login(t, users["1"], "laptop")
			if tk.RefreshToken == "" || tk.AccessToken == "" || tk.TokenType != "Bearer" || tk.ExpiresIn != 900 {
				t.Fatalf("tokens = %+v", tk)
			}
			p, err := e.Auth.Authenticate(bg, tk.AccessToken, access)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if p.Subject != "1" || p.SessionID != tk.SessionID || p.Type != latch.Access || !p.Fresh || p.User != users["1"] {
				t.Errorf("principal = %+v", p)
			}
			// The same claims, with the same JSON types, in every mode.
			if p.Claims["foo"] != "bar" || p.Claims["upcase_name"] != "TEST" || p.Claims["is_administrator"] != false {
				t.Errorf("claims = %v", p.Claims)
			}
			if _, err := e.Auth.Authenticate(bg, tk.RefreshToken, access); !errors.Is(err, latch.ErrWrongTokenType) {
				t.Errorf("refresh token as access: %v, want ErrWrongTokenType", err)
			}
			if _, err := e.Auth.Authenticate(bg, tk.AccessToken, refresh); !errors.Is(err, latch.ErrWrongTokenType) {
				t.Errorf("access token as refresh: %v, want ErrWrongTokenType", err)
			}
			rp, err := e.Auth.Authenticate(bg, tk.RefreshToken, refresh)
			if err != nil || rp.Type != latch.Refresh || rp.Subject != "1" || rp.Device.Label != "laptop" || rp.User != users["1"] {
				t.Errorf("Authenticate(refresh) = %+v, %v", rp, err)
			}
			if _, err := e.Auth.Refresh(bg, tk.AccessToken); !errors.Is(err, latch.ErrWrongTokenType) {
				t.Errorf("Refresh with an access token: %v, want ErrWrongTokenType", err)
			}
		})
	}
}

func TestModeTokenShapes(t *testing.T) {
	for _, c := range []struct {
		mode           latch.Mode
		access, refres string
	}{
		{latch.ModeOpaque, "lta_", "ltr_"},
		{latch.ModeJWT, "eyJ", "eyJ"},
		{latch.ModeHybrid, "eyJ", "ltr_"},
	} {
		e := newEnv(t, c.mode, nil)
		tk := e.Login(t, users["1"], "x")
		if !strings.HasPrefix(tk.AccessToken, c.access) || !strings.HasPrefix(tk.RefreshToken, c.refres) {
			t.Errorf("%s: access %.6s…, refresh %.6s…; want %s, %s", c.mode, tk.AccessToken, tk.RefreshToken, c.access, c.refres)
		}
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) { c.SessionCheck = true })
			tk := e.Login(t, users["1"], "laptop")
			other := e.Login(t, users["1"], "phone")
			e.Clock.Add(time.Minute)
			next, err := e.Auth.Refresh(bg, tk.RefreshToken)
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if next.RefreshToken == tk.RefreshToken || next.AccessToken == tk.AccessToken || next.SessionID != tk.SessionID {
				t.Fatalf("refresh did not rotate: %+v", next)
			}
			if mode == latch.ModeOpaque {
				// The old opaque access secret was replaced.
				if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); !errors.Is(err, latch.ErrInvalidToken) {
					t.Errorf("old access token after refresh: %v", err)
				}
			}
			// Inside the grace window a spent token is a lost race: 401,
			// and the session lives on.
			if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrRefreshRace) {
				t.Errorf("spent token inside grace: %v, want ErrRefreshRace", err)
			}
			if _, err := e.Auth.Authenticate(bg, next.AccessToken, access); err != nil {
				t.Fatalf("session died inside the grace window: %v", err)
			}
			// Later, the spent token is a replay: the session is revoked.
			e.Clock.Add(10 * time.Second)
			if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrRefreshReused) {
				t.Fatalf("replayed token: %v, want ErrRefreshReused", err)
			}
			if _, err := e.Auth.Authenticate(bg, next.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("access after reuse detection: %v, want ErrTokenRevoked", err)
			}
			if _, err := e.Auth.Refresh(bg, next.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("current refresh after reuse detection: %v, want ErrTokenRevoked", err)
			}
			// The user's other device is untouched.
			if _, err := e.Auth.Authenticate(bg, other.AccessToken, access); err != nil {
				t.Errorf("other device after reuse detection: %v", err)
			}
			if !e.HasEvent(latch.EventReuse) {
				t.Error("no refresh_reuse event")
			}
		})
	}
}

func TestForgedRefreshChangesNothing(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			tk := e.Login(t, users["1"], "laptop")
			var forged string
			if mode == latch.ModeJWT {
				// A correctly signed refresh token naming the session but
				// carrying a secret that was never issued (a key holder's
				// forgery): still only invalid.
				forged = e.SignRefresh(t, tk.SessionID, "1")
			} else {
				secret, _ := opaque.NewSecret()
				forged = opaque.Format(opaque.PrefixRefresh, tk.SessionID, secret)
			}
			before := e.Store.Calls().Writes()
			// The answer is the one an unknown session gets (no liveness
			// oracle), and it is not reuse detection.
			_, err := e.Auth.Refresh(bg, forged)
			if !errors.Is(err, latch.ErrTokenRevoked) || errors.Is(err, latch.ErrRefreshReused) {
				t.Fatalf("forged refresh: %v, want ErrTokenRevoked without reuse", err)
			}
			var unknownTok string
			if mode == latch.ModeJWT {
				unknownTok = e.SignRefresh(t, store.NewID(), "1")
			} else {
				secret, _ := opaque.NewSecret()
				unknownTok = opaque.Format(opaque.PrefixRefresh, store.NewID(), secret)
			}
			_, unknown := e.Auth.Refresh(bg, unknownTok)
			if latch.PublicMessage(err) != latch.PublicMessage(unknown) {
				t.Errorf("wrong secret answers %q, unknown session %q: an oracle", latch.PublicMessage(err), latch.PublicMessage(unknown))
			}
			if e.Store.Calls().Writes() != before {
				t.Error("a forged refresh token wrote to the store")
			}
			if _, err := e.Auth.Refresh(bg, tk.RefreshToken); err != nil {
				t.Errorf("real refresh after forgery: %v", err)
			}
		})
	}
}

func TestConcurrentRefreshExactlyOneWins(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			tk := e.Login(t, users["1"], "laptop")
			const n = 32
			var wg sync.WaitGroup
			results := make([]*latch.Tokens, n)
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() { results[i], errs[i] = e.Auth.Refresh(bg, tk.RefreshToken) })
			}
			wg.Wait()
			wins := 0
			var winner *latch.Tokens
			for i, err := range errs {
				switch {
				case err == nil:
					wins++
					winner = results[i]
				case !errors.Is(err, latch.ErrRefreshRace):
					t.Errorf("loser got %v, want ErrRefreshRace", err)
				}
			}
			if wins != 1 {
				t.Fatalf("%d refreshes won, want exactly 1", wins)
			}
			if _, err := e.Auth.Refresh(bg, winner.RefreshToken); err != nil {
				t.Errorf("the session did not survive the race: %v", err)
			}
		})
	}
}

// TestNoPlaintextSecretInStore proves the store only ever receives hashes:
// every byte written to it is searched for every token and secret issued,
// raw, base64 and hex.
func TestNoPlaintextSecretInStore(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			var secrets []string
			add := func(tk *latch.Tokens) {
				for _, s := range []string{tk.AccessToken, tk.RefreshToken} {
					secrets = append(secrets, s)
					if opaque.Is(s) {
						secrets = append(secrets, s[26:69]) // the secret part
					}
				}
			}
			tk := e.Login(t, users["1"], "laptop")
			add(tk)
			e.Clock.Add(time.Minute)
			next, err := e.Auth.Refresh(bg, tk.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			add(next)
			e.Clock.Add(2 * time.Minute)
			if _, err := e.Auth.Authenticate(bg, next.AccessToken, access); err != nil {
				t.Fatal(err)
			}
			if mode == latch.ModeJWT {
				// the refresh JWT's jti is its secret
				p, _ := e.Auth.Keyring().Verify(next.RefreshToken, token.VerifyOptions{Now: e.Clock.Now()})
				if p != nil {
					secrets = append(secrets, p.ID)
				}
			}
			all := e.Writes.All()
			// The check sees what was written: the device of Create's
			// session, and the hash Rotate set, as JSON encodes it.
			refreshSecret := next.RefreshToken[min(26, len(next.RefreshToken)):min(69, len(next.RefreshToken))]
			if mode == latch.ModeJWT {
				refreshSecret = secrets[len(secrets)-1]
			}
			rotated := base64.StdEncoding.EncodeToString(opaque.HashSecret(refreshSecret))
			if !bytes.Contains(all, []byte(`"laptop"`)) || !bytes.Contains(all, []byte(rotated)) {
				t.Fatalf("the recorded writes lack Create's device or Rotate's hash:\n%s", all)
			}
			for _, s := range secrets {
				for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(s)), hex.EncodeToString([]byte(s))} {
					if bytes.Contains(all, []byte(form)) {
						t.Errorf("the store received a plaintext secret (%.8s…)", s)
					}
				}
			}
			for _, s := range secrets {
				if strings.Contains(e.Logs.String(), s) {
					t.Errorf("a token or secret reached the log (%.8s…)", s)
				}
			}
		})
	}
}

func TestDevicesAreIndependent(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) { c.SessionCheck = true })
			laptop := e.Login(t, users["1"], "laptop")
			e.Clock.Add(time.Second)
			phone := e.Login(t, users["1"], "phone")
			e.Clock.Add(time.Second)
			tablet := e.Login(t, users["1"], "tablet")
			bat := e.Login(t, users["2"], "cave")

			pp, err := e.Auth.Authenticate(bg, phone.AccessToken, access)
			if err != nil {
				t.Fatal(err)
			}
			list, err := e.Auth.Sessions(bg, pp)
			if err != nil || len(list) != 3 {
				t.Fatalf("Sessions = %v, %v", list, err)
			}
			if list[0].Device.Label != "tablet" || list[2].Device.Label != "laptop" || !list[1].Current || list[0].Current {
				t.Errorf("Sessions order/current = %+v", list)
			}
			// Logging out the laptop leaves the phone and tablet.
			p, _ := e.Auth.Authenticate(bg, laptop.AccessToken, access)
			if err := e.Auth.Logout(bg, p); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Auth.Authenticate(bg, laptop.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("laptop after logout: %v", err)
			}
			if _, err := e.Auth.Refresh(bg, laptop.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("laptop refresh after logout: %v", err)
			}
			if _, err := e.Auth.Authenticate(bg, phone.AccessToken, access); err != nil {
				t.Errorf("phone after laptop logout: %v", err)
			}
			// Another user's session id: not found, nothing changes.
			if err := e.Auth.RevokeSession(bg, "1", bat.SessionID); !errors.Is(err, latch.ErrSessionNotFound) {
				t.Errorf("revoking another user's session: %v, want ErrSessionNotFound", err)
			}
			if _, err := e.Auth.Authenticate(bg, bat.AccessToken, access); err != nil {
				t.Errorf("batman after user 1 tried to revoke him: %v", err)
			}
			// Log out the others from the phone: the tablet ends, the phone
			// stays.
			if n, err := e.Auth.LogoutOthers(bg, pp); err != nil || n != 1 {
				t.Errorf("LogoutOthers = %d, %v; want 1", n, err)
			}
			if _, err := e.Auth.Authenticate(bg, tablet.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("tablet after LogoutOthers: %v", err)
			}
			if _, err := e.Auth.Authenticate(bg, phone.AccessToken, access); err != nil {
				t.Errorf("phone after LogoutOthers: %v", err)
			}
			bp, err := e.Auth.Authenticate(bg, bat.AccessToken, access)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := e.Auth.RevokeAll(bg, "1"); err != nil || n != 1 {
				t.Errorf("RevokeAll = %d, %v; want 1", n, err)
			}
			if list, err := e.Auth.Sessions(bg, pp); len(list) != 0 || !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("sessions after RevokeAll: %v, %v; want none and ErrTokenRevoked", list, err)
			}
			if list, _ := e.Auth.Sessions(bg, bp); len(list) != 1 || !list[0].Current {
				t.Errorf("batman's sessions after user 1's RevokeAll: %v", list)
			}
		})
	}
}

func TestJWTWithoutSessionCheckIsStateless(t *testing.T) {
	e := newEnv(t, latch.ModeJWT, nil)
	tk := e.Login(t, users["1"], "laptop")
	p, _ := e.Auth.Authenticate(bg, tk.AccessToken, access)
	before := e.Store.Calls().Writes()
	if err := e.Auth.Logout(bg, p); err != nil {
		t.Fatal(err)
	}
	if e.Store.Calls().Writes() == before {
		t.Error("logout wrote nothing")
	}
	// Documented trade-off: the access JWT lives until exp; refresh is dead.
	if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); err != nil {
		t.Errorf("stateless access token after logout: %v (should verify until exp)", err)
	}
	if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Errorf("refresh after logout: %v, want ErrTokenRevoked", err)
	}
}

func TestIdleAndAbsoluteExpiry(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, func(c *latch.Config) {
		c.AccessTTL = latch.Duration(time.Hour)
		c.RefreshTTL = latch.Duration(30 * time.Minute) // idle timeout
		c.SessionTTL = latch.Duration(2 * time.Hour)
	})
	tk := e.Login(t, users["1"], "laptop")
	// Used every 20 minutes, the session slides past the idle timeout...
	for range 2 {
		e.Clock.Add(20 * time.Minute)
		if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); err != nil {
			t.Fatalf("in use: %v", err)
		}
	}
	// ...but 31 idle minutes end it.
	e.Clock.Add(31 * time.Minute)
	if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Errorf("after idle timeout: %v, want ErrTokenRevoked", err)
	}

	// Absolute lifetime: refreshing every 25 minutes cannot pass 2 hours.
	tk = e.Login(t, users["1"], "laptop")
	start := e.Clock.Now()
	var err error
	for e.Clock.Now().Sub(start) < 2*time.Hour-25*time.Minute {
		e.Clock.Add(25 * time.Minute)
		if tk, err = e.Auth.Refresh(bg, tk.RefreshToken); err != nil {
			t.Fatalf("refresh at %s: %v", e.Clock.Now().Sub(start), err)
		}
		if tk.AccessExpiresAt.After(start.Add(2 * time.Hour)) {
			t.Errorf("access token outlives the session: %s", tk.AccessExpiresAt.Sub(start))
		}
	}
	e.Clock.Add(2*time.Hour - e.Clock.Now().Sub(start))
	if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Errorf("refresh at the absolute expiry: %v, want ErrTokenRevoked", err)
	}
}

func TestTouchIsThrottled(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	tk := e.Login(t, users["1"], "laptop")
	before := e.Store.Calls().Writes()
	for range 50 {
		e.Clock.Add(time.Second)
		if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); err != nil {
			t.Fatal(err)
		}
	}
	// 50 requests over 50 seconds: inside one touch interval, no write.
	if n := e.Store.Calls().Writes() - before; n != 0 {
		t.Errorf("%d store writes for 50 requests inside the touch interval, want 0", n)
	}
	e.Clock.Add(time.Minute)
	e.Auth.Authenticate(bg, tk.AccessToken, access)
	if n := e.Store.Calls().Writes() - before; n != 1 {
		t.Errorf("%d writes after the interval, want 1", n)
	}
}

func TestMaxSessionsEvictsOldest(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, func(c *latch.Config) { c.MaxSessions = 2 })
	first := e.Login(t, users["1"], "a")
	e.Clock.Add(time.Second)
	e.Login(t, users["1"], "b")
	e.Clock.Add(time.Second)
	third := e.Login(t, users["1"], "c")
	if _, err := e.Auth.Authenticate(bg, first.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Errorf("oldest session over the cap: %v, want ErrTokenRevoked", err)
	}
	p, err := e.Auth.Authenticate(bg, third.AccessToken, access)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := e.Auth.Sessions(bg, p)
	if len(list) != 2 || list[0].Device.Label != "c" || list[1].Device.Label != "b" || !list[0].Current {
		t.Errorf("sessions = %+v", list)
	}
}

// TestLoginValidation: a subject or claims latch cannot keep are refused
// with their kind; a user value the identity function cannot take is a
// programming error, a plain error of no kind (see
// TestLoginUserOfAnotherType).
func TestLoginValidation(t *testing.T) {
	e := newEnv(t, latch.ModeJWT, nil)
	plain, err := latch.New(bg, latch.Config{}, latch.WithStore(e.Store))
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

// Browsers restoring many tabs refresh with one token several times within
// moments; none of that is a replay.
func TestRefreshStormInsideGraceIsNotReuse(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			a := e.Login(t, users["1"], "browser")
			e.Clock.Add(time.Minute)
			b, err := e.Auth.Refresh(bg, a.RefreshToken) // tab 1
			if err != nil {
				t.Fatal(err)
			}
			e.Clock.Add(300 * time.Millisecond)
			c, err := e.Auth.Refresh(bg, b.RefreshToken) // tab 3, already holding B
			if err != nil {
				t.Fatal(err)
			}
			e.Clock.Add(300 * time.Millisecond)
			if _, err := e.Auth.Refresh(bg, a.RefreshToken); !errors.Is(err, latch.ErrRefreshRace) { // tab 2, late with A
				t.Fatalf("late tab: %v, want ErrRefreshRace", err)
			}
			if _, err := e.Auth.Refresh(bg, c.RefreshToken); err != nil {
				t.Fatalf("session did not survive the tab storm: %v", err)
			}
		})
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
				plain, err := latch.New(bg, e.Auth.Config(), latch.WithStore(e.Store), latch.WithKeyring(e.Auth.Keyring()))
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

func TestRevokedJWTCannotManageSessions(t *testing.T) {
	e := newEnv(t, latch.ModeHybrid, nil) // stateless access tokens
	stolen := e.Login(t, users["1"], "stolen")
	mine := e.Login(t, users["1"], "mine")
	if err := e.Auth.RevokeSession(bg, "1", stolen.SessionID); err != nil {
		t.Fatal(err)
	}
	p, err := e.Auth.Authenticate(bg, stolen.AccessToken, access)
	if err != nil {
		t.Fatalf("stateless token should still verify: %v", err)
	}
	if _, err := e.Auth.LogoutOthers(bg, p); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Errorf("LogoutOthers from a revoked session: %v, want ErrTokenRevoked", err)
	}
	if list, err := e.Auth.Sessions(bg, p); !errors.Is(err, latch.ErrTokenRevoked) || list != nil {
		t.Errorf("Sessions from a revoked session: %v, %v; want ErrTokenRevoked and no list", list, err)
	}
	// Session management asks for a session check, which looks the
	// session up in every mode.
	check := latch.Requirement{SessionCheck: true}
	if _, err := e.Auth.Authenticate(bg, stolen.AccessToken, check); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Errorf("a session check of a revoked session's JWT: %v, want ErrTokenRevoked", err)
	}
	if p, err := e.Auth.Authenticate(bg, mine.AccessToken, check); err != nil || p.SessionID != mine.SessionID {
		t.Errorf("a session check of a live session's JWT: %+v, %v", p, err)
	}
	if _, err := e.Auth.Refresh(bg, mine.RefreshToken); err != nil {
		t.Errorf("victim's session ended: %v", err)
	}
}

func TestJWTRefreshFollowsSlidingIdle(t *testing.T) {
	e := newEnv(t, latch.ModeJWT, func(c *latch.Config) {
		c.SessionCheck = true
		c.AccessTTL = latch.Duration(24 * time.Hour)
		c.RefreshTTL = latch.Duration(30 * 24 * time.Hour)
	})
	tk := e.Login(t, users["1"], "laptop")
	// Access tokens in use every 20 days slide the idle timeout...
	for range 2 {
		e.Clock.Add(20 * 24 * time.Hour)
		next := e.SignAccess(t, tk.SessionID)
		if _, err := e.Auth.Authenticate(bg, next, access); err != nil {
			t.Fatal(err)
		}
	}
	// ...so at day 40 the session is live and its refresh token works.
	if _, err := e.Auth.Refresh(bg, tk.RefreshToken); err != nil {
		t.Errorf("refresh at day 40 of a session in use: %v", err)
	}
}

// A store that answers Get with neither a session nor an error breaks its
// contract; latch fails closed instead of panicking.
func TestNilSessionFromStoreFailsClosed(t *testing.T) {
	e := newEnv(t, latch.ModeJWT, func(c *latch.Config) { c.SessionCheck = true })
	tk := e.Login(t, users["1"], "x")
	a, _ := latch.New(bg, e.Auth.Config(), latch.WithStore(nilStore{e.Store}), latch.WithKeyring(e.Auth.Keyring()),
		latch.WithClock(e.Clock.Now))
	if _, err := a.Authenticate(bg, tk.AccessToken, access); !errors.Is(err, latch.ErrUnavailable) {
		t.Errorf("Verify = %v, want ErrUnavailable", err)
	}
}

type nilStore struct{ *storetest.Probe }

func (nilStore) Get(context.Context, string, time.Time) (*store.Session, error) { return nil, nil }

func TestFreshnessDeadline(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) { c.FreshTTL = latch.Duration(5 * time.Minute) })
			tk := e.Login(t, users["1"], "laptop")
			fresh := latch.Requirement{Fresh: true}
			if p, err := e.Auth.Authenticate(bg, tk.AccessToken, fresh); err != nil || !p.Fresh {
				t.Fatalf("fresh requirement right after login: %+v, %v", p, err)
			}
			e.Clock.Add(6 * time.Minute) // the access token is still valid, no longer fresh
			p, err := e.Auth.Authenticate(bg, tk.AccessToken, access)
			if err != nil || p.Fresh {
				t.Fatalf("after the fresh deadline: fresh=%v err=%v", p != nil && p.Fresh, err)
			}
			e.ClearEvents()
			_, err = e.Auth.Authenticate(bg, tk.AccessToken, fresh)
			if !errors.Is(err, latch.ErrFreshRequired) || latch.PublicMessage(err) != "Fresh token required" {
				t.Errorf("fresh requirement after the deadline: %v (%q), want ErrFreshRequired", err, latch.PublicMessage(err))
			}
			if evs := e.Events(); len(evs) != 1 || evs[0].Kind != latch.EventFailure ||
				!errors.Is(evs[0].Err, latch.ErrFreshRequired) || evs[0].SessionID != tk.SessionID {
				t.Errorf("events of the refusal: %+v, want one failure naming the session", evs)
			}
			// A new credential login is fresh again.
			again := e.Login(t, users["1"], "laptop")
			if p, _ := e.Auth.Authenticate(bg, again.AccessToken, access); !p.Fresh {
				t.Error("a new login is not fresh")
			}
		})
	}
}

// Switching the mode keeps the store's sessions. Refresh tokens carry over
// between opaque and hybrid (both opaque); tokens of a format the new mode
// does not use are refused, and a new login works at once.
func TestModeSwitchKeepsSessions(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	tk := e.Login(t, users["1"], "laptop")
	reopen := func(mode latch.Mode) *latch.Auth {
		cfg := e.Auth.Config()
		cfg.Mode = mode
		a, err := latch.New(bg, cfg, latch.WithStore(e.Store), latch.WithClock(e.Clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	hybrid := reopen(latch.ModeHybrid)
	if _, err := hybrid.Authenticate(bg, tk.AccessToken, access); !errors.Is(err, latch.ErrInvalidToken) {
		t.Errorf("opaque access token in hybrid mode: %v, want refused", err)
	}
	next, err := hybrid.Refresh(bg, tk.RefreshToken)
	if err != nil {
		t.Fatalf("opaque refresh token in hybrid mode: %v", err)
	}
	if !strings.HasPrefix(next.AccessToken, "eyJ") || next.SessionID != tk.SessionID {
		t.Errorf("hybrid refresh gave %.6s… for session %s", next.AccessToken, next.SessionID)
	}
	back := reopen(latch.ModeOpaque)
	again, err := back.Refresh(bg, next.RefreshToken)
	if err != nil {
		t.Fatalf("hybrid refresh token back in opaque mode: %v", err)
	}
	if _, err := back.Authenticate(bg, again.AccessToken, access); err != nil {
		t.Errorf("opaque access token after switching back: %v", err)
	}
	jwt := reopen(latch.ModeJWT)
	if _, err := jwt.Refresh(bg, again.RefreshToken); !errors.Is(err, latch.ErrWrongTokenType) {
		t.Errorf("opaque refresh token in jwt mode: %v, want ErrWrongTokenType", err)
	}
	// A new login works at once, and lists the session kept from opaque
	// mode beside its own.
	tk, err = jwt.Login(bg, "1", latch.LoginOptions{})
	if err != nil {
		t.Fatalf("Login in jwt mode: %v", err)
	}
	p, err := jwt.Authenticate(bg, tk.AccessToken, access)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := jwt.Sessions(bg, p); len(list) != 2 {
		t.Errorf("sessions after switching to jwt and logging in: %d, want 2", len(list))
	}
}

func TestIssuerAndAudience(t *testing.T) {
	mk := func(iss, aud string) *latch.Auth {
		cfg := latch.Config{Mode: latch.ModeJWT}
		cfg.JWT.Secret, cfg.JWT.Issuer, cfg.JWT.Audience = latch.Secret(testSecret), iss, aud
		a, err := latch.New(bg, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	issuer := mk("https://id.example", "api")
	tk, err := issuer.Login(bg, "alice", latch.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		a    *latch.Auth
		ok   bool
	}{
		{"same issuer and audience", mk("https://id.example", "api"), true},
		{"other issuer", mk("https://evil.example", "api"), false},
		{"other audience", mk("https://id.example", "billing"), false},
		{"no checks configured", mk("", ""), true},
	}
	for _, c := range cases {
		// Each Auth has its own store, so check the signature layer with
		// Verify, which needs no session in jwt mode.
		_, err := c.a.Authenticate(bg, tk.AccessToken, access)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && !errors.Is(err, latch.ErrInvalidToken) {
			t.Errorf("%s: %v is not an ErrInvalidToken", c.name, err)
		}
	}
	// A token without iss/aud is refused where they are required.
	bare, _ := mk("", "").Login(bg, "alice", latch.LoginOptions{})
	if _, err := issuer.Authenticate(bg, bare.AccessToken, access); err == nil {
		t.Error("a token without iss and aud passed an Auth that requires them")
	}
}

// A refused token's event names the session (and, where the store knows
// it, the subject) it claimed, for audit logs.
func TestFailureEventsNameTheSession(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) { c.SessionCheck = true })
			tk := e.Login(t, users["1"], "laptop")
			p, _ := e.Auth.Authenticate(bg, tk.AccessToken, access)
			e.Auth.Logout(bg, p)
			e.ClearEvents()
			if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Fatalf("Authenticate: %v, want ErrTokenRevoked", err)
			}
			if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Fatalf("Refresh: %v, want ErrTokenRevoked", err)
			}
			var n int
			for _, ev := range e.Events() {
				if ev.Kind == latch.EventFailure {
					n++
					if ev.SessionID != tk.SessionID || !errors.Is(ev.Err, latch.ErrTokenRevoked) {
						t.Errorf("failure event = %+v, want session %s", ev, tk.SessionID)
					}
				}
			}
			if n != 2 {
				t.Errorf("%d failure events, want 2", n)
			}
			if !strings.Contains(e.Logs.String(), "session="+tk.SessionID) {
				t.Errorf("log does not name the session: %s", e.Logs)
			}
		})
	}
}

// TestRefreshRunsTheUserLoader: Refresh asks the user loader, with the
// refresh token's principal (Type Refresh, never Fresh). A user it no
// longer finds (a nil user, or ErrUserNotFound) gets ErrUserNotFound, whose
// public message is "Error loading the user <sub>", and the session is
// left as it was: nothing is rotated, however often it is tried. Any other
// loader error is ErrUnavailable, wrapping the loader's.
func TestRefreshRunsTheUserLoader(t *testing.T) {
	errDB := errors.New("test: user database down")
	for _, c := range []struct {
		name string
		user *user
		err  error
		want error
		msg  string // latch.PublicMessage
	}{
		{"nil user", nil, nil, latch.ErrUserNotFound, "Error loading the user 1"},
		{"ErrUserNotFound", nil, fmt.Errorf("test: no such user: %w", latch.ErrUserNotFound), latch.ErrUserNotFound, "Error loading the user 1"},
		{"other error", nil, errDB, latch.ErrUnavailable, "Service temporarily unavailable"},
	} {
		for _, mode := range modes {
			t.Run(c.name+"/"+string(mode), func(t *testing.T) {
				var found bool // the loader's answer: users["1"] when true, else c's
				var seen []latch.Principal
				e := newEnv(t, mode, nil, latch.WithUserLoader(func(_ context.Context, p *latch.Principal) (*user, error) {
					seen = append(seen, *p)
					if found {
						return users["1"], nil
					}
					return c.user, c.err
				}))
				found = true
				tk := e.Login(t, users["1"], "laptop")
				found = false
				writes := e.Store.Calls().Writes()

				for range 2 {
					_, err := e.Auth.Refresh(bg, tk.RefreshToken)
					if !errors.Is(err, c.want) || latch.PublicMessage(err) != c.msg {
						t.Errorf("Refresh: %v (%q), want %v (%q)", err, latch.PublicMessage(err), c.want, c.msg)
					}
					if c.want == latch.ErrUnavailable && !errors.Is(err, errDB) {
						t.Errorf("Refresh: %v, want it to wrap the loader's error", err)
					}
				}
				var failures int
				for _, ev := range e.Events() {
					if ev.Kind == latch.EventFailure {
						failures++
						if !errors.Is(ev.Err, c.want) || ev.SessionID != tk.SessionID || ev.Subject != "1" {
							t.Errorf("failure event %+v, want %v for session %s of 1", ev, c.want, tk.SessionID)
						}
					}
				}
				if failures != 2 || e.HasEvent(latch.EventRefresh) {
					t.Errorf("%d failure events and a refresh event %v for two refused refreshes, want 2 and none", failures, e.HasEvent(latch.EventRefresh))
				}
				if n := e.Store.Calls().Writes(); n != writes {
					t.Errorf("the store was written %d times; a refused user's session must not rotate", n-writes)
				}
				if len(seen) != 2 {
					t.Fatalf("the loader ran %d times for two refreshes, want 2", len(seen))
				}
				for _, p := range seen {
					if p.Type != latch.Refresh || p.Fresh || p.Subject != "1" || p.SessionID != tk.SessionID {
						t.Errorf("the loader got %+v, want a non-fresh refresh principal of session %s", p, tk.SessionID)
					}
				}
				// The session was left as it was: its refresh token still works.
				found = true
				if _, err := e.Auth.Refresh(bg, tk.RefreshToken); err != nil {
					t.Errorf("Refresh once the loader finds the user again: %v", err)
				}
			})
		}
	}
}
