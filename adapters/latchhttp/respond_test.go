package latchhttp_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/authtest"
)

// TestDefaultAnswers pins the table in docs/errors.md: status,
// WWW-Authenticate and body of every error kind with the default config.
func TestDefaultAnswers(t *testing.T) {
	const tok = `Bearer realm="latch", error="invalid_token", error_description=`
	const req = `Bearer realm="latch", error="invalid_request", error_description=`
	const scope = `Bearer realm="latch", error="insufficient_scope", error_description=`
	cases := []struct {
		err    error
		status int
		authn  string
		msg    string
	}{
		{latch.ErrNoToken, 401, `Bearer realm="latch"`, "Missing authorization token"},
		{latch.ErrInvalidToken, 401, tok + `"Invalid token"`, "Invalid token"},
		{latch.ErrMalformedToken, 401, tok + `"Malformed token"`, "Malformed token"},
		{latch.ErrTokenExpired, 401, tok + `"Token has expired"`, "Token has expired"},
		{latch.ErrTokenRevoked, 401, tok + `"Session has ended"`, "Session has ended"},
		{latch.ErrWrongTokenType, 401, tok + `"Wrong token type"`, "Wrong token type"},
		{latch.ErrFreshRequired, 401, tok + `"Fresh token required"`, "Fresh token required"},
		{latch.ErrRefreshReused, 401, tok + `"Session has ended"`, "Session has ended"},
		{latch.ErrRefreshRace, 401, tok + `"Refresh token already used"`, "Refresh token already used"},
		{latch.ErrUserNotFound, 401, tok + `"Error loading the user"`, "Error loading the user"},
		{latch.ErrBadRequest, 400, req + `"Invalid request"`, "Invalid request"},
		{latch.ErrConflictingTokens, 400, req + `"Different tokens in more than one location"`, "Different tokens in more than one location"},
		{latch.ErrBodyTooLarge, 413, "", "Request body too large"},
		{latch.ErrInvalidClient, 401, `Basic realm="latch", charset="UTF-8"`, "Invalid client credentials"},
		{latch.ErrForbidden, 403, scope + `"Forbidden"`, "Forbidden"},
		{latch.Forbidden("Admins only!"), 403, scope + `"Admins only!"`, "Admins only!"},
		{latch.Forbidden(`quote " and ünïcode`), 403, scope + `"quote ? and ?n?code"`, `quote " and ünïcode`},
		{latch.ErrCSRF, 403, "", "CSRF token missing or incorrect"},
		{latch.ErrUnavailable, 503, "", "Service temporarily unavailable"},
		{latch.ErrSessionNotFound, 404, "", "Session not found"},
		{latch.ErrInvalidSubject, 400, "", "Invalid subject"},
		{latch.ErrInvalidClaims, 500, "", "Internal error"},
	}
	core, err := latch.New(bg, latch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := latchhttp.New(core, latchhttp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.err.Error(), func(t *testing.T) {
			w := httptest.NewRecorder()
			a.WriteError(w, httptest.NewRequest("GET", "/", nil), c.err)
			if w.Code != c.status || latchhttp.StatusCode(c.err) != c.status {
				t.Errorf("status = %d (StatusCode %d), want %d", w.Code, latchhttp.StatusCode(c.err), c.status)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != c.authn {
				t.Errorf("WWW-Authenticate = %q, want %q", got, c.authn)
			}
			if got := bodyMap(t, w)["msg"]; got != c.msg {
				t.Errorf("msg = %q, want %q", got, c.msg)
			}
			if (c.status == 503) != (w.Header().Get("Retry-After") == "5") {
				t.Errorf("Retry-After = %q", w.Header().Get("Retry-After"))
			}
			if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("headers = %v", w.Header())
			}
		})
	}
	// An error latch did not make is a 500 with a generic message.
	w := httptest.NewRecorder()
	a.WriteError(w, httptest.NewRequest("GET", "/", nil), authtest.ErrDown)
	if w.Code != 500 || strings.Contains(w.Body.String(), "backend") {
		t.Errorf("foreign error: %d %s", w.Code, w.Body)
	}
}
