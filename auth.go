package latch

import (
	"context"
	"time"

	"github.com/latchauth/latch/store"
)

// Authenticator issues credentials for a subject on a device and turns a
// presented credential back into a Principal. *Auth implements it for each
// Mode, with the same sessions, claims, errors and events in every one.
type Authenticator interface {
	// Login starts a new session for user on a device and returns its
	// tokens. The identity function turns user into the subject, and the
	// claims loader adds claims for user. Only Login yields fresh tokens.
	Login(ctx context.Context, user any, opts LoginOptions) (*Tokens, error)

	// Authenticate checks tok against req and returns who presented it.
	// Errors match one of the kinds in errors.go.
	Authenticate(ctx context.Context, tok string, req Requirement) (*Principal, error)

	// Refresh spends a refresh token and returns the session's next
	// tokens. A spent token presented again, past Config.ReuseGrace,
	// revokes its session.
	Refresh(ctx context.Context, refreshToken string) (*Tokens, error)
}

// Mode selects how tokens look; the application code is the same in every
// mode.
type Mode string

const (
	// ModeOpaque: random opaque access and refresh tokens; every request
	// reads the session, so logout and revocation act at once.
	ModeOpaque Mode = "opaque"
	// ModeJWT: signed JWT access and refresh tokens. Access tokens verify
	// without the store unless Config.SessionCheck is set; refresh goes
	// through the store, so per-device logout still works.
	ModeJWT Mode = "jwt"
	// ModeHybrid: short-lived JWT access tokens carrying the session id,
	// opaque refresh tokens bound to the device's session.
	ModeHybrid Mode = "hybrid"
)

// TokenType is the "type" of a token: where it may be used.
type TokenType string

// Token types.
const (
	Access  TokenType = "access"
	Refresh TokenType = "refresh"
)

// Device describes the device a session was opened on.
type Device = store.Device

// LoginOptions are the per-login inputs.
type LoginOptions struct {
	// Device is shown in the session list; latchhttp.DeviceFromRequest
	// fills it from an HTTP request.
	Device Device
	// Claims are added to this login's claims, winning ties with the
	// claims loader. Reserved names (sub, iat, nbf, exp, jti, type, fresh,
	// sid, iss, aud, csrf) are refused with ErrInvalidClaims.
	Claims map[string]any
}

// Tokens are what a login or a refresh returns. The JSON form is the usual
// OAuth-style token response.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int `json:"expires_in"`

	SessionID        string    `json:"-"`
	AccessExpiresAt  time.Time `json:"-"`
	RefreshExpiresAt time.Time `json:"-"`
}

// Requirement is what Authenticate asks of a token beyond being valid. The
// zero value accepts any valid access token.
type Requirement struct {
	// Type is the token type accepted: Access (the default, "") or
	// Refresh. Authenticating a refresh token does not spend it.
	Type TokenType
	// Fresh requires a token from a credential login, not a refresh.
	Fresh bool
	// SessionCheck reads the token's session from the store even when
	// Config.SessionCheck is off (it is always read in opaque mode), so a
	// JWT from a session that has ended is refused. Ask for it where
	// sessions are managed (listed, revoked, logged out everywhere).
	SessionCheck bool
}

// Principal is the verified caller of a request.
type Principal struct {
	Subject   string
	SessionID string
	Type      TokenType
	// Fresh: the token comes from a credential login, not a refresh, and
	// any freshness deadline has not passed.
	Fresh bool
	// Claims are the application's claims (from the claims loader and the
	// login call), the same in every mode. Reserved claims are fields.
	Claims map[string]any
	// Device is known when the session was read for this request (opaque
	// mode, refresh, or Config.SessionCheck); zero otherwise.
	Device Device
	// TokenID is a JWT's jti; empty for opaque tokens.
	TokenID   string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// User is what the user loader (WithUserLoader) returned for the
	// subject; nil without one. UserFrom returns it typed.
	User any
}

// SessionInfo is one device's session as a "your devices" page shows it.
// It carries no hashes. Sessions returns at least one on success: the
// caller's own.
type SessionInfo struct {
	ID         string    `json:"id"`
	Device     Device    `json:"device"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	// Current marks the session of the principal that listed them.
	Current bool `json:"current"`
}
