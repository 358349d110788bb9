package latchhttp_test

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// TestInvalidGuardPanicsAtSetup: a Guard that cannot work, or would
// mislead, panics when its authenticator is made, at setup, not on the
// first request: through Authenticator (what every framework adapter
// calls) and through Middleware.
func TestInvalidGuardPanicsAtSetup(t *testing.T) {
	web := newEnv(t, latch.ModeOpaque, nil).web
	for name, g := range map[string]latchhttp.Guard{
		"type":      {Type: "id_token"},
		"location":  {Locations: []latchhttp.Location{"url"}},
		"nil check": latchhttp.Required().With(adminOnly, nil),
		// Read as "optional, admins only", it would let anonymous callers
		// through with no check at all.
		"checks on an optional guard": latchhttp.Optional().With(adminOnly),
		"fresh refresh token":         {Type: latch.Refresh, Fresh: true},
	} {
		for _, via := range []struct {
			name string
			make func(latchhttp.Guard)
		}{
			{"Authenticator", func(g latchhttp.Guard) { web.Authenticator(g) }},
			{"Middleware", func(g latchhttp.Guard) { web.Middleware(g) }},
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s accepted a Guard with a bad %s", via.name, name)
					}
				}()
				via.make(g)
			}()
		}
	}
}

// TestGuardPresets pins the presets' values: each is a plain Guard that
// differs from Required in one field, and none carries checks or
// locations of its own.
func TestGuardPresets(t *testing.T) {
	for name, c := range map[string]struct{ got, want latchhttp.Guard }{
		"Required":     {latchhttp.Required(), latchhttp.Guard{}},
		"Optional":     {latchhttp.Optional(), latchhttp.Guard{Optional: true}},
		"Fresh":        {latchhttp.Fresh(), latchhttp.Guard{Fresh: true}},
		"RefreshToken": {latchhttp.RefreshToken(), latchhttp.Guard{Type: latch.Refresh}},
		"SessionCheck": {latchhttp.SessionCheck(), latchhttp.Guard{SessionCheck: true}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %+v, want %+v", name, c.got, c.want)
		}
	}
	// A preset is a new value on every call: changing one changes no
	// other route's guard.
	g := latchhttp.Required()
	g.Optional = true
	if latchhttp.Required().Optional {
		t.Error("changing a Required() value changed the next Required()")
	}
}

// TestGuardWithDoesNotAlias: With returns a copy: guards made from one
// base never share the checks they add, the base and the presets keep
// theirs, and a gate keeps the checks and locations it was made with
// whatever happens to the Guard's slices afterwards.
func TestGuardWithDoesNotAlias(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, locations(latchhttp.InHeader, latchhttp.InQuery))
	tk := e.Login(t, users["1"], "laptop")
	var ran []string
	check := func(name string, err error) latchhttp.Check {
		return func(*http.Request, *latch.Principal) error { ran = append(ran, name); return err }
	}
	base := latchhttp.Required().With(check("base", nil))
	// Room to grow in place: an append that did not copy would share it.
	base.Checks = slices.Grow(base.Checks, 4)
	a := base.With(check("a", nil))
	b := base.With(check("b", latch.Forbidden("b says no")))
	if len(base.Checks) != 1 || len(a.Checks) != 2 || len(b.Checks) != 2 || len(latchhttp.Required().Checks) != 0 {
		t.Fatalf("checks: base %d, a %d, b %d, Required %d; want 1, 2, 2, 0",
			len(base.Checks), len(a.Checks), len(b.Checks), len(latchhttp.Required().Checks))
	}
	serve := func(g latchhttp.Guard, target string) (int, []string) {
		ran = nil
		w := do(e.web.Middleware(g)(okHandler), "GET", target, bearer(tk.AccessToken), "")
		return w.Code, ran
	}
	if code, got := serve(a, "/"); code != 200 || !slices.Equal(got, []string{"base", "a"}) {
		t.Errorf("guard a: %d, ran %v; want 200, [base a]", code, got)
	}
	if code, got := serve(b, "/"); code != 403 || !slices.Equal(got, []string{"base", "b"}) {
		t.Errorf("guard b: %d, ran %v; want 403, [base b]", code, got)
	}

	// A gate copies what it was given.
	g := latchhttp.Guard{Locations: []latchhttp.Location{latchhttp.InHeader}, Checks: []latchhttp.Check{check("kept", nil)}}
	h := e.web.Middleware(g)(okHandler)
	g.Locations[0] = latchhttp.InQuery
	g.Checks[0] = check("swapped", latch.Forbidden("swapped"))
	ran = nil
	if w := do(h, "GET", "/", bearer(tk.AccessToken), ""); w.Code != 200 || !slices.Equal(ran, []string{"kept"}) {
		t.Errorf("after the Guard's slices changed: %d, ran %v; want 200, [kept]", w.Code, ran)
	}
	if w := do(h, "GET", "/?access_token="+tk.AccessToken, nil, ""); w.Code != 401 {
		t.Errorf("a query token where the gate reads the header only: %d, want 401", w.Code)
	}
}

// TestOptionalGuard pins what an optional guard does: a request without
// a token goes through anonymously; a valid token is authenticated, its
// principal in the context; an invalid one is refused. (Checks on an
// optional guard are refused at setup: TestInvalidGuardPanicsAtSetup.)
func TestOptionalGuard(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	h := e.web.Middleware(latchhttp.Optional())(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, ok := latch.FromContext(r.Context())
			latchhttp.WriteJSON(w, http.StatusOK, map[string]bool{"anonymous": !ok})
		}))
	cases := []struct {
		name   string
		hdr    map[string]string
		status int
		body   string
	}{
		{"no token: anonymous", nil, 200, `{"anonymous":true}`},
		{"a valid token", bearer(e.Login(t, users["1"], "laptop").AccessToken), 200, `{"anonymous":false}`},
		{"an invalid token: refused", bearer("abc.def"), 401, `{"msg":"Malformed token"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := do(h, "GET", "/", c.hdr, "")
			if w.Code != c.status || strings.TrimSpace(w.Body.String()) != c.body {
				t.Errorf("%d %s; want %d %s", w.Code, w.Body, c.status, c.body)
			}
		})
	}
}
