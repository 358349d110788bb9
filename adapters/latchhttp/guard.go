package latchhttp

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/latchauth/latch"
)

// Guard describes what a route requires. The zero value, Required(),
// requires a valid access token from any configured location.
type Guard struct {
	// Optional forgives a missing token: the handler runs anonymously.
	// A token that is present but invalid is still refused.
	Optional bool
	// Fresh requires a token from a credential login (not a refresh).
	Fresh bool
	// Type is the token type accepted: latch.Access (default) or
	// latch.Refresh. A guarded refresh token is not spent (see
	// RefreshHandler).
	Type latch.TokenType
	// SessionCheck reads the token's session from the store even when
	// latch.Config.SessionCheck is off (it always is read in opaque mode).
	// Use it on routes that manage sessions (list, revoke, log out
	// everywhere), so a JWT from a session that was already revoked cannot
	// act there.
	SessionCheck bool
	// Locations overrides Config.Locations for this route.
	Locations []Location
	// Checks run on the authenticated principal, in order; the first error
	// refuses the request (use latch.Forbidden for a 403 with a message).
	// A guard cannot be both Optional and checked: a request without a
	// token would go through without them.
	Checks []Check
}

// Check is a custom guard on an authenticated request, like the
// walkthrough's admin_required. r carries the principal (latch.FromContext).
type Check func(r *http.Request, p *latch.Principal) error

// The guards most routes need, for Auth.Guard and the framework adapters.
// Each call returns a new value, so no code, in the application or in a
// dependency, can change what another route requires; With, or a copy
// with a field changed, makes another.

// Required lets a request through only with a valid access token. It is
// the zero Guard.
func Required() Guard { return Guard{} }

// Optional lets a request through without a token, anonymously, but
// refuses one with an invalid token.
func Optional() Guard { return Guard{Optional: true} }

// Fresh lets a request through only with a fresh access token.
func Fresh() Guard { return Guard{Fresh: true} }

// RefreshToken lets a request through only with a valid refresh token,
// without spending it.
func RefreshToken() Guard { return Guard{Type: latch.Refresh} }

// SessionCheck lets a request through only with a valid access token
// whose session the store confirms is live, whatever the mode: for routes
// that list or end sessions.
func SessionCheck() Guard { return Guard{SessionCheck: true} }

// With returns a copy of g that also runs checks, after its own.
func (g Guard) With(checks ...Check) Guard {
	g.Checks = append(slices.Clip(g.Checks), checks...)
	return g
}

// validate reports why g cannot work.
func (g Guard) validate() error {
	if g.Type != "" && g.Type != latch.Access && g.Type != latch.Refresh {
		return fmt.Errorf("latchhttp: Guard.Type %q: use latch.Access or latch.Refresh", g.Type)
	}
	for _, l := range g.Locations {
		if !validLocation(l) {
			return fmt.Errorf("latchhttp: Guard.Locations: unknown location %q", l)
		}
	}
	for _, c := range g.Checks {
		if c == nil {
			return errors.New("latchhttp: Guard.Checks holds a nil Check")
		}
	}
	if g.Optional && len(g.Checks) > 0 {
		// Read as "optional, admins only", it would let anonymous callers
		// through unchecked.
		return errors.New("latchhttp: an Optional guard with Checks: a request without a token would skip them; " +
			"drop Optional, or check the principal (latch.FromContext) in the handler")
	}
	if g.Type == latch.Refresh && g.Fresh {
		return errors.New("latchhttp: a guard for refresh tokens cannot require Fresh: no refresh token is fresh")
	}
	return nil
}

// Authenticator returns the function that authenticates one request for g: it
// finds the token, checks CSRF for a cookie, authenticates it with
// latch.Auth.Authenticate, runs g's checks, and returns r carrying the
// principal (latch.FromContext, latch.UserFrom). It is the one code path
// behind Middleware and every framework adapter. A refusal is an error matching
// one of latch's kinds, reported as a failure event, for WriteError.
//
// Authenticator checks g once, here, and panics on a guard that cannot
// work or would mislead (an unknown type or location, a nil check, checks
// on an Optional guard, Fresh on refresh tokens): at setup, not on the
// first request.
func (a *Auth) Authenticator(g Guard) func(r *http.Request) (*http.Request, error) {
	if err := g.validate(); err != nil {
		panic(err.Error())
	}
	typ := g.Type
	if typ == "" {
		typ = latch.Access
	}
	locs := slices.Clone(g.Locations)
	if len(locs) == 0 {
		locs = a.cfg.Locations
	}
	checks := slices.Clone(g.Checks)
	req := latch.Requirement{Type: typ, Fresh: g.Fresh, SessionCheck: g.SessionCheck}
	return func(r *http.Request) (*http.Request, error) {
		ctx := r.Context()
		f, err := a.extract(r, typ, locs)
		if errors.Is(err, latch.ErrNoToken) && g.Optional {
			return r, nil
		}
		if err == nil && f.loc == InCookie {
			err = a.checkCSRF(r, f.tok, typ)
		}
		if err != nil {
			a.core.ReportFailure(ctx, err, nil)
			return nil, err
		}
		p, err := a.core.Authenticate(ctx, f.tok, req) // reports its own refusals
		if err != nil {
			return nil, err
		}
		r = r.WithContext(latch.NewContext(ctx, p))
		for _, check := range checks {
			if err := check(r, p); err != nil {
				if latch.Kind(err) == nil {
					err = errors.Join(latch.ErrForbidden, err)
				}
				a.core.ReportFailure(ctx, err, p)
				return nil, err
			}
		}
		return r, nil
	}
}

// Middleware returns net/http middleware enforcing g: a request the
// Authenticator lets through goes on to next carrying the principal; a
// refused one is answered by WriteError. A store failure is a 503, never a pass.
//
//	mux.Handle("GET /protected", web.Middleware(latchhttp.Required())(protected))
//	mux.Handle("GET /admin", web.Middleware(latchhttp.Required().With(adminOnly))(admin))
//
// Like Authenticator, it panics on a guard that cannot work.
func (a *Auth) Middleware(g Guard) func(http.Handler) http.Handler {
	gate := a.Authenticator(g)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r2, err := gate(r)
			if err != nil {
				a.WriteError(w, r, err)
				return
			}
			next.ServeHTTP(w, r2)
		})
	}
}
