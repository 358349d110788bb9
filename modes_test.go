package latch_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/latchauth/latch"
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
		cfg := latch.Config{SessionKey: sessionKey, Mode: latch.ModeJWT}
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
