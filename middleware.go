package latch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// Guard describes what a route requires. The zero value requires a valid
// access token from any configured location.
type Guard struct {
	// Optional forgives a missing token: the handler runs anonymously.
	// A token that is present but invalid is still refused.
	Optional bool
	// Fresh requires a token from a credential login (not a refresh).
	Fresh bool
	// Type is the token type accepted: Access (default) or Refresh.
	Type TokenType
	// Locations overrides Config.HTTP.Locations for this route.
	Locations []Location
	// CheckSession looks the token's session up in the store even when
	// Config.SessionCheck is off (it always is in opaque mode). Use it on
	// routes that manage sessions (list, revoke, log out everywhere), so a
	// JWT from a session that was already revoked cannot act there.
	CheckSession bool
	// Checks run on the verified principal, in order; the first error
	// refuses the request (use Forbidden for a 403 with a message). With
	// Optional, a request without a token has no principal and skips
	// them: it goes through anonymously.
	Checks []Check
}

// Check is a custom guard on a verified request, like the walkthrough's
// admin_required.
type Check func(r *http.Request, p *Principal) error

// Middleware returns net/http middleware enforcing g. Refusals go through
// the responders (see WithResponder); a store failure is a 503, never a
// pass.
//
// It panics on a Guard that cannot work (an unknown type or location), at
// setup rather than on the first request.
func (a *Auth) Middleware(g Guard) func(http.Handler) http.Handler {
	if g.Type != "" && g.Type != Access && g.Type != Refresh {
		panic(fmt.Sprintf("latch: Guard.Type %q: use latch.Access or latch.Refresh", g.Type))
	}
	for _, l := range g.Locations {
		switch l {
		case InHeader, InCookie, InQuery, InJSON:
		default:
			panic(fmt.Sprintf("latch: Guard.Locations: unknown location %q", l))
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r2, err := a.Authenticate(r, g)
			if err != nil {
				a.WriteError(w, r, err)
				return
			}
			next.ServeHTTP(w, r2)
		})
	}
}

// Required lets a request through only with a valid access token.
func (a *Auth) Required(next http.Handler) http.Handler { return a.Middleware(Guard{})(next) }

// Optional lets a request through without a token, anonymously, but
// refuses one with an invalid token.
func (a *Auth) Optional(next http.Handler) http.Handler {
	return a.Middleware(Guard{Optional: true})(next)
}

// FreshRequired lets a request through only with a fresh access token.
func (a *Auth) FreshRequired(next http.Handler) http.Handler {
	return a.Middleware(Guard{Fresh: true})(next)
}

// RefreshRequired lets a request through only with a valid refresh token;
// it does not spend it (see RefreshHandler).
func (a *Auth) RefreshRequired(next http.Handler) http.Handler {
	return a.Middleware(Guard{Type: Refresh})(next)
}

// SessionRequired lets a request through only with a valid access token
// whose session the store confirms is live, whatever the mode: for routes
// that list or revoke sessions.
func (a *Auth) SessionRequired(next http.Handler) http.Handler {
	return a.Middleware(Guard{CheckSession: true})(next)
}

// Require lets a request through with a valid access token that passes
// every check.
func (a *Auth) Require(checks ...Check) func(http.Handler) http.Handler {
	return a.Middleware(Guard{Checks: checks})
}

// Authenticate runs g against r and returns r carrying the principal and
// the loaded user (see FromContext, UserFrom). It is the one code path
// behind the middleware and every framework adapter.
func (a *Auth) Authenticate(r *http.Request, g Guard) (*http.Request, error) {
	ctx := r.Context()
	typ := g.Type
	if typ == "" {
		typ = Access
	}
	locs := g.Locations
	if len(locs) == 0 {
		locs = a.cfg.HTTP.Locations
	}
	f, err := a.extract(r, typ, locs)
	if errors.Is(err, ErrNoToken) && g.Optional {
		return r, nil
	}
	if err == nil && f.loc == InCookie {
		err = a.checkCSRF(r, f.tok, typ)
	}
	var p *Principal
	var u use
	if err == nil {
		p, u, err = a.verifyUnused(ctx, f.tok, typ, a.cfg.SessionCheck || g.CheckSession)
	}
	if err == nil && g.Fresh && !p.Fresh {
		err = ErrFreshRequired
	}
	var user any
	if err == nil {
		user, err = a.lookupUser(ctx, p)
	}
	if err == nil {
		// Only now is the request the user's: a token refused above, for
		// freshness or by the loader, does not slide the idle timeout.
		err = a.record(ctx, u)
	}
	if err == nil {
		r = r.WithContext(NewContext(ctx, p, user))
		for _, check := range g.Checks {
			if err = check(r, p); err != nil {
				if kindOf(err) == nil {
					err = errors.Join(ErrForbidden, err)
				}
				break
			}
		}
	}
	if err != nil {
		a.emit(ctx, failure(err, p))
		return nil, err
	}
	return r, nil
}

// lookupUser runs the user loader, if there is one, for p. A user the
// loader cannot find is ErrUserNotFound with the public message "Error
// loading the user <sub>"; a loader failure that is none of latch's
// kinds is ErrUnavailable.
func (a *Auth) lookupUser(ctx context.Context, p *Principal) (any, error) {
	if a.loadUser == nil {
		return nil, nil
	}
	user, err := a.loadUser(ctx, p)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return nil, &publicError{kind: ErrUserNotFound.(*kind), msg: "Error loading the user " + p.Subject}
	case err != nil && kindOf(err) == nil:
		return nil, errors.Join(ErrUnavailable, err)
	}
	return user, err
}

// RefreshHandler serves a refresh endpoint (POST only): it takes the
// refresh token from the configured locations, spends it, and answers 200
// with the new tokens as JSON. When the token came in a cookie, the new
// ones are set as cookies and the body carries only token_type and
// expires_in, so a script can never read a refresh token that was kept
// out of its reach.
func (a *Auth) RefreshHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.postOnly(w, r) {
			return
		}
		t, inCookie, err := a.refreshRequest(w, r)
		switch {
		case err != nil:
			a.WriteError(w, r, err)
		case inCookie:
			WriteJSON(w, http.StatusOK, map[string]any{"token_type": t.TokenType, "expires_in": t.ExpiresIn})
		default:
			WriteJSON(w, http.StatusOK, t)
		}
	})
}

// RefreshRequest spends the refresh token r carries and returns the new
// tokens, setting them as cookies when the old one came in a cookie. It is
// RefreshHandler without the response, for handlers that answer their own
// way; do not echo the tokens of a cookie-borne refresh into the body.
func (a *Auth) RefreshRequest(w http.ResponseWriter, r *http.Request) (*Tokens, error) {
	t, _, err := a.refreshRequest(w, r)
	return t, err
}

func (a *Auth) refreshRequest(w http.ResponseWriter, r *http.Request) (t *Tokens, inCookie bool, err error) {
	f, err := a.extract(r, Refresh, a.cfg.HTTP.Locations)
	if err == nil && f.loc == InCookie {
		err = a.checkCSRF(r, f.tok, Refresh)
	}
	if err == nil {
		t, err = a.Refresh(r.Context(), f.tok)
	}
	if err != nil {
		a.emit(r.Context(), failure(err, nil))
		return nil, false, err
	}
	if f.loc == InCookie {
		a.SetCookies(w, t)
	}
	return t, f.loc == InCookie, nil
}

// DeviceFromRequest describes the device r comes from: label as given,
// the User-Agent header, and the peer's IP address. It does not trust
// X-Forwarded-For; behind a proxy, set IP yourself from what it vouches.
func DeviceFromRequest(r *http.Request, label string) Device {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return clipDevice(Device{Label: label, UserAgent: r.UserAgent(), IP: ip})
}

// RevocationHandler serves an RFC 7009 token revocation endpoint: POST a
// form with token=<access or refresh token> (token_type_hint is accepted
// and not needed) and, if the token is currently valid, its session ends;
// an expired or invalid token ends nothing. As RFC 7009 §2.2 asks,
// the answer is 200 whether or not the token was valid, so the endpoint
// reveals nothing about tokens; a missing or repeated token parameter is
// 400 invalid_request, a body over Config.HTTP.MaxBodyBytes 413, and a
// store failure 503 (the client should retry).
//
// Presenting the token is the proof: no other credential is needed, and
// a token can only end its own session.
func (a *Auth) RevocationHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.postOnly(w, r) {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, a.cfg.HTTP.MaxBodyBytes)
		tok, ok := a.formToken(w, r)
		if !ok {
			return
		}
		if err := a.Revoke(r.Context(), tok); errors.Is(err, ErrUnavailable) {
			a.WriteError(w, r, err)
			return
		}
		WriteJSON(w, http.StatusOK, struct{}{}) // the body is ignored (§2.2); {} keeps every answer JSON
	})
}

// formToken reads the token parameter of an RFC 7009 or RFC 7662 request,
// from a form in a body the caller has bounded: exactly one, from the body
// (RFC 6749 §3.1: no repeated parameters; a token never rides in a URL).
// It answers 413 for a body over the bound and 400 otherwise.
func (a *Auth) formToken(w http.ResponseWriter, r *http.Request) (string, bool) {
	if err := r.ParseForm(); err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			a.WriteError(w, r, ErrBodyTooLarge)
		} else {
			a.WriteError(w, r, fmt.Errorf("%w: unreadable form", ErrBadRequest))
		}
		return "", false
	}
	toks := r.PostForm["token"]
	if len(toks) != 1 || toks[0] == "" {
		a.WriteError(w, r, fmt.Errorf("%w: not exactly one token parameter", ErrBadRequest))
		return "", false
	}
	return toks[0], true
}

// postOnly answers 405 with Allow: POST to any other method.
func (a *Auth) postOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost {
		return true
	}
	w.Header().Set("Allow", http.MethodPost)
	WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{a.cfg.HTTP.ErrorKey: "Method not allowed"})
	return false
}
