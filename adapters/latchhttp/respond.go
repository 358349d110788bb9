package latchhttp

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchauth/latch"
)

// Responder writes the answer to a refused request. latchhttp sets the
// WWW-Authenticate (and for 429 and 503 Retry-After) header before calling it; the
// responder writes the status and body, and may change the headers.
type Responder func(w http.ResponseWriter, r *http.Request, err error)

// answer is the default HTTP answer to one of latch's error kinds: its
// status and RFC 6750 (or RFC 6749 §5.2) error code. A kind without a row
// takes its parent's.
type answer struct {
	kind   error
	status int
	code   string // "": no error code in WWW-Authenticate
}

// answers maps latch's error kinds to HTTP, most specific first; see the
// table in docs/errors.md.
var answers = []answer{
	{latch.ErrNoToken, http.StatusUnauthorized, ""},
	{latch.ErrInvalidToken, http.StatusUnauthorized, "invalid_token"},
	{latch.ErrBadRequest, http.StatusBadRequest, "invalid_request"},
	{latch.ErrBodyTooLarge, http.StatusRequestEntityTooLarge, ""},
	{latch.ErrInvalidClient, http.StatusUnauthorized, "invalid_client"},
	{latch.ErrForbidden, http.StatusForbidden, "insufficient_scope"},
	{latch.ErrCSRF, http.StatusForbidden, ""},
	{latch.ErrUnavailable, http.StatusServiceUnavailable, ""},
	{latch.ErrThrottled, http.StatusTooManyRequests, ""},
	{latch.ErrSessionNotFound, http.StatusNotFound, ""},
	{latch.ErrInvalidSubject, http.StatusBadRequest, ""},
	{latch.ErrInvalidLifetime, http.StatusBadRequest, ""},
	{latch.ErrInvalidClaims, http.StatusInternalServerError, ""},
}

// answerOf returns the default answer to err: a 500 without a code for an
// error latch did not make.
func answerOf(err error) answer {
	if k := latch.Kind(err); k != nil {
		for _, a := range answers {
			if errors.Is(k, a.kind) {
				return a
			}
		}
	}
	return answer{status: http.StatusInternalServerError}
}

// StatusCode returns the HTTP status latchhttp answers err with by
// default: 401, 400, 403, 404, 413, 429 or 503 for latch's kinds, 500 for
// anything else.
func StatusCode(err error) int { return answerOf(err).status }

// WriteError answers a refused request: headers per RFC 6750, then the
// responder for err's kind (WithResponder) or the default JSON body
// {"msg": "..."} (Config.ErrorKey). An error latch did not make is a 500
// with a generic message; the application should log it, since latch
// cannot tell what it means.
func (a *Auth) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	ans := answerOf(err)
	if ans.kind != nil {
		if v := a.challenge(ans, err); v != "" {
			w.Header().Set("WWW-Authenticate", v)
		}
		if v := retryAfter(ans, err); v != "" {
			w.Header().Set("Retry-After", v)
		}
		if fn := a.responderFor(err); fn != nil {
			fn(w, r, err)
			return
		}
	}
	WriteJSON(w, ans.status, map[string]string{a.cfg.ErrorKey: latch.PublicMessage(err)})
}

// responderFor returns the responder of the most specific kind err
// matches, or nil.
func (a *Auth) responderFor(err error) Responder {
	var best error
	for k := range a.responders {
		if errors.Is(err, k) && (best == nil || errors.Is(k, best)) {
			best = k
		}
	}
	return a.responders[best]
}

// retryAfterSeconds is the Retry-After of a 503.
const retryAfterSeconds = 5

// retryAfter returns the Retry-After header of ans, or "": for a 503,
// retryAfterSeconds; for a 429, the wait of the latch.ThrottledError in
// err in whole seconds, rounded up, at least 1.
func retryAfter(ans answer, err error) string {
	switch ans.status {
	case http.StatusServiceUnavailable:
		return strconv.Itoa(retryAfterSeconds)
	case http.StatusTooManyRequests:
		secs := int64(1)
		var te *latch.ThrottledError
		if errors.As(err, &te) {
			secs = max(secs, int64((te.RetryAfter+time.Second-1)/time.Second))
		}
		return strconv.FormatInt(secs, 10)
	}
	return ""
}

// challenge builds the WWW-Authenticate header for ans: realm alone for a
// missing token (RFC 6750 §3.1), with an error code for the rest of the
// bearer errors, none for CSRF and store failures, and Basic for a client
// of IntrospectionHandler.
func (a *Auth) challenge(ans answer, err error) string {
	if ans.kind == latch.ErrInvalidClient {
		// The client authenticates with HTTP Basic (RFC 6749 §5.2).
		return `Basic realm="` + quoteSafe(a.cfg.Realm) + `", charset="UTF-8"`
	}
	realm := `Bearer realm="` + quoteSafe(a.cfg.Realm) + `"`
	if ans.kind == latch.ErrNoToken {
		return realm
	}
	if ans.code == "" {
		return ""
	}
	return realm + `, error="` + ans.code + `", error_description="` + quoteSafe(latch.PublicMessage(err)) + `"`
}

// quoteSafe keeps only the characters RFC 6750 allows in a quoted
// error_description (%x20-21 / %x23-5B / %x5D-7E); others become '?'.
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s)
}

// WriteJSON writes v as a JSON response with status, the way latch's own
// answers go out: Content-Type application/json and Cache-Control
// no-store (token responses must not be cached, RFC 6749 §5.1).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// WriteTokens answers a successful login with t: 200 with the tokens as
// JSON (Content-Type application/json, Cache-Control no-store) or, when
// InCookie is among Config.Locations, with the tokens set as cookies (see
// SetCookies) and a body that carries only their type and lifetime,
// {"expires_in":900,"token_type":"Bearer"}, as RefreshHandler answers a
// refresh by cookie: a token kept in an HttpOnly cookie never appears in
// a body a script could read. The choice is the configuration's, for
// every client: a login route that serves header clients too must choose
// per request itself (SetCookies or WriteJSON, never both).
func (a *Auth) WriteTokens(w http.ResponseWriter, t *latch.Tokens) {
	if !a.cookies() {
		WriteJSON(w, http.StatusOK, t)
		return
	}
	a.SetCookies(w, t)
	WriteJSON(w, http.StatusOK, cookieTokens(t))
}

// WriteStepUp answers a successful step-up (latch.Auth.StepUp) with t:
// the new access token, where there is one, goes out as WriteTokens sends
// a login's (a cookie when InCookie is configured, the JSON body
// otherwise), and the refresh token the client holds is left alone. In
// opaque mode t carries no token, since the one in use is fresh now, and
// the body is {"expires_in":…,"token_type":"Bearer"}.
func (a *Auth) WriteStepUp(w http.ResponseWriter, t *latch.Tokens) {
	if t.AccessToken == "" {
		WriteJSON(w, http.StatusOK, cookieTokens(t))
		return
	}
	a.WriteTokens(w, t)
}

// cookieTokens is the body of an answer whose tokens went into cookies.
func cookieTokens(t *latch.Tokens) any {
	return struct {
		ExpiresIn int    `json:"expires_in"`
		TokenType string `json:"token_type"`
	}{t.ExpiresIn, t.TokenType}
}

// cookies reports whether the cookie location is configured.
func (a *Auth) cookies() bool {
	for _, l := range a.cfg.Locations {
		if l == InCookie {
			return true
		}
	}
	return false
}
