package latch

import (
	"errors"
	"time"
)

// Errors. Every failure latch reports matches exactly one of the kinds
// below with errors.Is, and through it its parent: ErrTokenExpired is also
// ErrInvalidToken, ErrConflictingTokens is also ErrBadRequest. The kinds
// say what went wrong, not how to answer it: each adapter maps them to its
// protocol (package latchhttp to HTTP statuses and RFC 6750 headers, see
// docs/errors.md). Messages never contain a token, secret or hash.
var (
	// ErrNoToken: the request carries no token in any configured location.
	ErrNoToken = newKind("latch: no token", nil, "Missing authorization token")

	// ErrInvalidToken: a token was presented and refused. The kinds below
	// are refined causes; all of them match ErrInvalidToken.
	ErrInvalidToken = newKind("latch: invalid token", nil, "Invalid token")
	// ErrMalformedToken: not a token of the configured format (shape,
	// size, encoding, checksum, claim types).
	ErrMalformedToken = newKind("latch: malformed token", ErrInvalidToken, "Malformed token")
	// ErrTokenExpired: the token is past its expiry.
	ErrTokenExpired = newKind("latch: token has expired", ErrInvalidToken, "Token has expired")
	// ErrTokenRevoked: the token's session has ended (logout, revocation,
	// idle or absolute expiry) or never existed.
	ErrTokenRevoked = newKind("latch: session has ended", ErrInvalidToken, "Session has ended")
	// ErrWrongTokenType: a refresh token where an access token belongs, or
	// the reverse.
	ErrWrongTokenType = newKind("latch: wrong token type", ErrInvalidToken, "Wrong token type")
	// ErrFreshRequired: the route needs a token from a credential login.
	ErrFreshRequired = newKind("latch: fresh token required", ErrInvalidToken, "Fresh token required")
	// ErrRefreshReused: a refresh token that was already spent came back;
	// its session has been revoked (reuse detection).
	ErrRefreshReused = newKind("latch: refresh token reused", ErrInvalidToken, "Session has ended")
	// ErrRefreshRace: a refresh token spent before its session's last
	// refresh came back within the reuse grace (a request overtaken twice,
	// or a retry whose session key is gone). No tokens; the session lives
	// on, with the latest refresh's tokens. (The token the last refresh
	// spent gets that refresh's tokens again instead.)
	ErrRefreshRace = newKind("latch: refresh token already rotated", ErrInvalidToken, "Refresh token already used")
	// ErrUserNotFound: the user loader found nobody for the token's subject.
	ErrUserNotFound = newKind("latch: user not found", ErrInvalidToken, "Error loading the user")

	// ErrBadRequest: the request itself is unusable (unreadable body).
	ErrBadRequest = newKind("latch: invalid request", nil, "Invalid request")
	// ErrConflictingTokens: different tokens in two RFC 6750 locations.
	ErrConflictingTokens = newKind("latch: different tokens in more than one location", ErrBadRequest, "Different tokens in more than one location")
	// ErrBodyTooLarge: a request body that latch had to read exceeds the
	// adapter's bound.
	ErrBodyTooLarge = newKind("latch: request body too large", nil, "Request body too large")

	// ErrInvalidClient: the caller of an introspection endpoint is not
	// authorized (RFC 6749 §5.2 invalid_client).
	ErrInvalidClient = newKind("latch: invalid client", nil, "Invalid client credentials")

	// ErrForbidden: a guard refused an authenticated principal. Use
	// Forbidden to give the refusal a message.
	ErrForbidden = newKind("latch: insufficient scope", nil, "Forbidden")
	// ErrDelegated: a delegated session (Auth.LoginAs) asked for what only
	// the subject's own login may do: step up, delegate again, list or end
	// the subject's other sessions.
	ErrDelegated = newKind("latch: not allowed in a delegated session", ErrForbidden, "Not allowed in a delegated session")
	// ErrCSRF: a cookie-authenticated unsafe request lacks a matching CSRF
	// header.
	ErrCSRF = newKind("latch: CSRF check failed", nil, "CSRF token missing or incorrect")

	// ErrUnavailable: the session store failed or timed out. latch fails
	// closed: the request is refused, never let through.
	ErrUnavailable = newKind("latch: session store unavailable", nil, "Service temporarily unavailable")

	// ErrThrottled: too many failed logins for this account or from this
	// address (Auth.Throttle); the password was not checked. The error
	// is a *ThrottledError, which says when to try again.
	ErrThrottled = newKind("latch: too many failed logins", nil, "Too many failed login attempts, try again later")

	// ErrSessionNotFound: no session with that id belongs to the subject
	// (RevokeSession).
	ErrSessionNotFound = newKind("latch: session not found", nil, "Session not found")
	// ErrInvalidSubject: a subject that is empty, over 1024 bytes, not
	// valid UTF-8 or contains NUL.
	ErrInvalidSubject = newKind("latch: invalid subject", nil, "Invalid subject")
	// ErrInvalidLifetime: a login asked for an idle timeout or a lifetime
	// that is negative or longer than the configured one
	// (LoginOptions.IdleTimeout, LoginOptions.Lifetime).
	ErrInvalidLifetime = newKind("latch: invalid session lifetime", nil, "Invalid session lifetime")
	// ErrInvalidClaims: claims that are reserved, cannot be encoded as
	// JSON or are too large.
	ErrInvalidClaims = newKind("latch: invalid claims", nil, "Internal error")
)

// kind is a sentinel error. A kind matches itself and, through Is, its
// parent.
type kind struct {
	msg    string
	parent *kind
	public string // safe to show a client
}

func newKind(msg string, parent error, public string) error {
	k := &kind{msg: msg, public: public}
	if parent != nil {
		k.parent = parent.(*kind)
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
// Forbidden refusal), or nil for an error latch did not make. Adapters use
// it to tell latch's refusals, which they answer, from the application's
// own errors.
func Kind(err error) error {
	if k := kindOf(err); k != nil {
		return k
	}
	return nil
}

// Forbidden returns an error that a guard uses to refuse a request with a
// message of its own, shown to the client: ErrForbidden with that message
// (latchhttp answers it 403 with {"msg": msg} and WWW-Authenticate
// error="insufficient_scope").
func Forbidden(msg string) error { return &publicError{kind: ErrForbidden.(*kind), msg: msg} }

// publicError carries a client-facing message for a kind.
type publicError struct {
	kind *kind
	msg  string
}

func (e *publicError) Error() string { return e.kind.msg + ": " + e.msg }
func (e *publicError) Unwrap() error { return e.kind }

// PublicMessage returns the message to show a client for err: the guard's
// own message from Forbidden, the kind's fixed text, or "Internal error"
// for an error latch did not make. It never includes a token or internal
// detail.
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

// ThrottledError is the error of a login attempt that Auth.Throttle
// refused: it matches ErrThrottled, and RetryAfter says how long until the
// next attempt may be made (latchhttp sends it as Retry-After).
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return ErrThrottled.Error() + ": retry after " + e.RetryAfter.Round(time.Second).String()
}

func (e *ThrottledError) Unwrap() error { return ErrThrottled }
