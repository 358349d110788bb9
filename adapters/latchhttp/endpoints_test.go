package latchhttp_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchauth/latch"
)

func TestRevocationEndpoint(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, sessionCheck(true))
			h := e.web.RevocationHandler()
			post := func(form string) *httptest.ResponseRecorder {
				r := httptest.NewRequest("POST", "/revoke", strings.NewReader(form))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w
			}
			byAccess, byRefresh, other := e.Login(t, users["1"], "a"), e.Login(t, users["1"], "b"), e.Login(t, users["1"], "c")
			for _, c := range []struct {
				name, form string
				status     int
			}{
				{"access token", "token=" + byAccess.AccessToken + "&token_type_hint=access_token", 200},
				{"refresh token", "token=" + byRefresh.RefreshToken, 200},
				{"garbage is still 200", "token=nonsense", 200},
				{"already revoked is still 200", "token=" + byAccess.AccessToken, 200},
				{"no token", "token_type_hint=refresh_token", 400},
				{"two tokens", "token=" + other.AccessToken + "&token=" + other.RefreshToken, 400},
				{"body too large", "token=" + other.AccessToken + "&pad=" + strings.Repeat("x", 64<<10), 413},
			} {
				if w := post(c.form); w.Code != c.status {
					t.Errorf("%s: %d, want %d (%s)", c.name, w.Code, c.status, w.Body)
				}
			}
			for _, tk := range []*latch.Tokens{byAccess, byRefresh} {
				if _, err := e.Auth.Authenticate(bg, tk.AccessToken, latch.Requirement{}); !errors.Is(err, latch.ErrTokenRevoked) {
					t.Errorf("session %s after revocation: %v", tk.SessionID, err)
				}
			}
			if _, err := e.Auth.Authenticate(bg, other.AccessToken, latch.Requirement{}); err != nil {
				t.Errorf("an unrelated session ended: %v", err)
			}
			if w := do(h, "GET", "/revoke", nil, ""); w.Code != 405 {
				t.Errorf("GET: %d, want 405", w.Code)
			}
			e.Store.SetDown(true)
			if w := post("token=" + other.AccessToken); w.Code != 503 {
				t.Errorf("store down: %d, want 503", w.Code)
			}
		})
	}
}

// TestRefreshHandlerRunsTheUserLoader: RefreshHandler answers a user the
// loader no longer finds 401 "Error loading the user <sub>", and a loader
// that fails 503, and rotates nothing either way. (The core's
// TestRefreshRunsTheUserLoader checks the rest.)
func TestRefreshHandlerRunsTheUserLoader(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want want
	}{
		{"no such user", nil, want{401, invalidTok + `Error loading the user 1"`, "Error loading the user 1"}},
		{"loader down", errors.New("test: user database down"), want{503, "", "Service temporarily unavailable"}},
	} {
		for _, mode := range modes {
			t.Run(c.name+"/"+string(mode), func(t *testing.T) {
				found := true
				e := newEnv(t, mode, nil, latch.WithUserLoader(func(_ context.Context, p *latch.Principal) (*user, error) {
					if found {
						return users["1"], nil
					}
					return nil, c.err
				}))
				tk := e.Login(t, users["1"], "laptop")
				found = false
				writes := e.Store.Calls().Writes()
				check(t, call(t, e, "POST", "/refresh", bearer(tk.RefreshToken), ""), c.want)
				if n := e.Store.Calls().Writes() - writes; n != 0 {
					t.Errorf("the store was written %d times; a refused user's session must not rotate", n)
				}
				found = true
				if got := call(t, e, "POST", "/refresh", bearer(tk.RefreshToken), ""); got.status != 200 || got.json["refresh_token"] == nil {
					t.Errorf("once the loader finds the user again: %d %s", got.status, got.body)
				}
			})
		}
	}
}
