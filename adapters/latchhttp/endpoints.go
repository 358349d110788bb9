package latchhttp

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/latchauth/latch"
)

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
		t, inCookie, err := a.refresh(w, r)
		switch {
		case err != nil:
			a.WriteError(w, r, err)
		case inCookie:
			WriteJSON(w, http.StatusOK, cookieTokens(t))
		default:
			WriteJSON(w, http.StatusOK, t)
		}
	})
}

// Refresh spends the refresh token r carries and returns the new tokens,
// setting them as cookies when the old one came in a cookie. It is
// RefreshHandler without the answer, for handlers that answer their own
// way; do not echo the tokens of a cookie-borne refresh into the body.
func (a *Auth) Refresh(w http.ResponseWriter, r *http.Request) (*latch.Tokens, error) {
	t, _, err := a.refresh(w, r)
	return t, err
}

func (a *Auth) refresh(w http.ResponseWriter, r *http.Request) (t *latch.Tokens, inCookie bool, err error) {
	f, err := a.extract(r, latch.Refresh, a.cfg.Locations)
	if err == nil && f.loc == InCookie {
		err = a.checkCSRF(r, f.tok, latch.Refresh)
	}
	if err != nil {
		a.core.ReportFailure(r.Context(), err, nil)
		return nil, false, err
	}
	if t, err = a.core.Refresh(r.Context(), f.tok); err != nil {
		return nil, false, err // reported by the core
	}
	if f.loc == InCookie {
		a.SetCookies(w, t)
	}
	return t, f.loc == InCookie, nil
}

// RevocationHandler serves an RFC 7009 token revocation endpoint: POST a
// form with token=<access or refresh token> (token_type_hint is accepted
// and not needed) and, if the token is currently valid, its session ends
// (latch.Auth.RevokeToken); an expired or invalid token ends nothing. As
// RFC 7009 §2.2 asks, the answer is 200 whether or not the token was
// valid, so the endpoint reveals nothing about tokens; a missing or
// repeated token parameter is 400 invalid_request, a body over
// Config.MaxBodyBytes 413, and a store failure 503 (the client should
// retry).
//
// Presenting the token is the proof: no other credential is needed, and
// a token can only end its own session.
func (a *Auth) RevocationHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.postOnly(w, r) {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes)
		tok, ok := a.formToken(w, r)
		if !ok {
			return
		}
		if err := a.core.RevokeToken(r.Context(), tok); errors.Is(err, latch.ErrUnavailable) {
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
			a.WriteError(w, r, latch.ErrBodyTooLarge)
		} else {
			a.WriteError(w, r, fmt.Errorf("%w: unreadable form", latch.ErrBadRequest))
		}
		return "", false
	}
	toks := r.PostForm["token"]
	if len(toks) != 1 || toks[0] == "" {
		a.WriteError(w, r, fmt.Errorf("%w: not exactly one token parameter", latch.ErrBadRequest))
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
	WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{a.cfg.ErrorKey: "Method not allowed"})
	return false
}
