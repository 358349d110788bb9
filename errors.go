package latch

import (
	"errors"
	"net/http"
)

// Errors. Every failure latch reports matches exactly one of the kinds
// below with errors.Is, and through it its parent: ErrTokenExpired is also
// ErrInvalidToken, ErrConflictingTokens is also ErrBadRequest. Each kind
// has a default HTTP answer (see the table in docs/errors.md) that
// WithResponder overrides. Messages never contain a token, secret or hash.
var (
	// ErrNoToken: the request carries no token in any configured location.
	ErrNoToken = newKind("latch: no token", nil, http.StatusUnauthorized, "", "Missing authorization token")

	// ErrInvalidToken: a token was presented and refused. The kinds below
	// are refined causes; all of them match ErrInvalidToken.
	ErrInvalidToken = newKind("latch: invalid token", nil, http.StatusUnauthorized, "invalid_token", "Invalid token")
	// ErrMalformedToken: not a token of the configured format (shape,
	// size, encoding, checksum, claim types).
	ErrMalformedToken = newKind("latch: malformed token", ErrInvalidToken, 0, "", "Malformed token")
	// ErrTokenExpired: the token is past its expiry.
	ErrTokenExpired = newKind("latch: token has expired", ErrInvalidToken, 0, "", "Token has expired")
	// ErrTokenRevoked: the token's session has ended (logout, revocation,
	// idle or absolute expiry) or never existed.
	ErrTokenRevoked = newKind("latch: session has ended", ErrInvalidToken, 0, "", "Session has ended")
	// ErrWrongTokenType: a refresh token where an access token belongs, or
	// the reverse.
	ErrWrongTokenType = newKind("latch: wrong token type", ErrInvalidToken, 0, "", "Wrong token type")
	// ErrFreshRequired: the route needs a token from a credential login.
	ErrFreshRequired = newKind("latch: fresh token required", ErrInvalidToken, 0, "", "Fresh token required")
	// ErrRefreshReused: a refresh token that was already spent came back;
	// its session has been revoked (reuse detection).
	ErrRefreshReused = newKind("latch: refresh token reused", ErrInvalidToken, 0, "", "Session has ended")
	// ErrRefreshRace: another request rotated this refresh token first.
	// The session lives on, with the winner's tokens.
	ErrRefreshRace = newKind("latch: refresh token already rotated", ErrInvalidToken, 0, "", "Refresh token already used")
	// ErrUserNotFound: the user loader found nobody for the token's subject.
	ErrUserNotFound = newKind("latch: user not found", ErrInvalidToken, 0, "", "Error loading the user")

	// ErrBadRequest: the request itself is unusable (unreadable body).
	ErrBadRequest = newKind("latch: invalid request", nil, http.StatusBadRequest, "invalid_request", "Invalid request")
	// ErrConflictingTokens: different tokens in two RFC 6750 locations.
	ErrConflictingTokens = newKind("latch: different tokens in more than one location", ErrBadRequest, 0, "", "Different tokens in more than one location")
	// ErrBodyTooLarge: a body that latch had to read exceeds
	// Config.HTTP.MaxBodyBytes.
	ErrBodyTooLarge = newKind("latch: request body too large", nil, http.StatusRequestEntityTooLarge, "", "Request body too large")

	// ErrInvalidClient: the caller of IntrospectionHandler is not
	// authorized (RFC 6749 §5.2 invalid_client): 401 with a Basic
	// challenge.
	ErrInvalidClient = newKind("latch: invalid client", nil, http.StatusUnauthorized, "invalid_client", "Invalid client credentials")

	// ErrForbidden: a guard refused an authenticated principal. Use
	// Forbidden to give the refusal a message.
	ErrForbidden = newKind("latch: insufficient scope", nil, http.StatusForbidden, "insufficient_scope", "Forbidden")
	// ErrCSRF: a cookie-authenticated unsafe request lacks a matching CSRF
	// header.
	ErrCSRF = newKind("latch: CSRF check failed", nil, http.StatusForbidden, "", "CSRF token missing or incorrect")

	// ErrUnavailable: the session store failed or timed out. latch fails
	// closed: the request is refused, never let through.
	ErrUnavailable = newKind("latch: session store unavailable", nil, http.StatusServiceUnavailable, "", "Service temporarily unavailable")

	// ErrSessionNotFound: no session with that id belongs to the subject
	// (RevokeSession).
	ErrSessionNotFound = newKind("latch: session not found", nil, http.StatusNotFound, "", "Session not found")
	// ErrInvalidSubject: a subject that is empty, over 1024 bytes, not
	// valid UTF-8 or contains NUL.
	ErrInvalidSubject = newKind("latch: invalid subject", nil, http.StatusBadRequest, "", "Invalid subject")
	// ErrInvalidClaims: claims that are reserved, cannot be encoded as
	// JSON or are too large.
	ErrInvalidClaims = newKind("latch: invalid claims", nil, http.StatusInternalServerError, "", "Internal error")
)

// kind is a sentinel error with an HTTP default. A kind matches itself and,
// through Is, its parent.
type kind struct {
	msg    string
	parent *kind
	status int    // 0: the parent's
	code   string // RFC 6750 error code; "": the parent's
	public string // safe to show a client
}

func newKind(msg string, parent error, status int, code, public string) error {
	k := &kind{msg: msg, status: status, code: code, public: public}
	if parent != nil {
		k.parent = parent.(*kind)
		if k.status == 0 {
			k.status = k.parent.status
		}
		if k.code == "" {
			k.code = k.parent.code
		}
	}
	return k
}

func (k *kind) Error() string { return k.msg }

func (k *kind) Is(target error) bool {
	for p := k.parent; p != nil; p = p.parent {
		if p == target {
			return true
		}
	}
	return false
}

// kindOf returns the most specific kind in err's chain, or nil for an
// error latch did not make.
func kindOf(err error) *kind {
	var k *kind
	if errors.As(err, &k) {
		return k
	}
	return nil
}

// Kind returns the most specific of the Err values above that err
// matches (ErrTokenExpired for an expired token, ErrForbidden for a
// Forbidden refusal), or nil for an error latch did not make. Framework
// adapters use it to tell latch's refusals, which WriteError answers, from
// the application's own errors.
func Kind(err error) error {
	if k := kindOf(err); k != nil {
		return k
	}
	return nil
}

// Forbidden returns an error that a guard uses to refuse a request with a
// message of its own: the default responder answers 403 with {"msg": msg}
// and WWW-Authenticate error="insufficient_scope". The message is shown to
// the client.
func Forbidden(msg string) error { return &publicError{kind: ErrForbidden.(*kind), msg: msg} }

// publicError carries a client-facing message for a kind.
type publicError struct {
	kind *kind
	msg  string
}

func (e *publicError) Error() string { return e.kind.msg + ": " + e.msg }
func (e *publicError) Unwrap() error { return e.kind }

// PublicMessage returns the message latch would show a client for err:
// the guard's own message from Forbidden, or the kind's fixed text. It
// never includes a token or internal detail.
func PublicMessage(err error) string {
	var pe *publicError
	if errors.As(err, &pe) {
		return pe.msg
	}
	if k := kindOf(err); k != nil {
		return k.public
	}
	return "Internal error"
}

// StatusCode returns the HTTP status latch answers err with by default.
func StatusCode(err error) int {
	if k := kindOf(err); k != nil {
		return k.status
	}
	return http.StatusInternalServerError
}
