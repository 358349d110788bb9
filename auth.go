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
	// sid, iss, aud, csrf, act) are refused with ErrInvalidClaims.
	Claims map[string]any

	// IdleTimeout, when positive, is this session's own idle timeout,
	// kept across refreshes: at least twice Config.TouchInterval and at
	// most Config.RefreshTTL, else ErrInvalidLifetime (a login can shorten
	// its session, never lengthen it). A login that sets it is one not to
	// be remembered: latchhttp sets its cookies as browser-session cookies
	// (Tokens.Ephemeral). 0: Config.RefreshTTL, and persistent cookies.
	IdleTimeout time.Duration
	// Lifetime, when positive, is this session's absolute lifetime: at
	// most Config.SessionTTL (Config.DelegationTTL for LoginAs), else
	// ErrInvalidLifetime. 0: the configured one.
	Lifetime time.Duration
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
	// Ephemeral: the session's login set LoginOptions.IdleTimeout, so it
	// is not to be remembered past the browser session; latchhttp then
	// sets cookies without an expiry, on login and on every refresh.
	Ephemeral bool `json:"-"`
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
	// Fresh: the token comes from a credential login or a step-up
	// (Auth.StepUp), not a refresh, and any freshness deadline has not
	// passed. A delegated session is never fresh.
	Fresh bool
	// Actor is who acts for Subject in a delegated session (Auth.LoginAs):
	// the staff member's subject and session. Nil for the subject's own
	// login.
	Actor *Actor
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

// Actor names the staff member acting in a delegated session, as RFC
// 8693's act claim does: their subject and the session they act from.
type Actor = store.Actor

// SessionInfo is one device's session as a "your devices" page shows it.
// It carries no hashes. Sessions returns at least one on success: the
// caller's own.
type SessionInfo struct {
	ID         string    `json:"id"`
	Device     Device    `json:"device"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	// ExpiresAt is when the session ends unless used again: the earlier
	// of its idle deadline and AbsoluteExpiresAt.
	ExpiresAt time.Time `json:"expires_at"`
	// AbsoluteExpiresAt is when the session ends whatever its use: its
	// login's Lifetime, or Config.SessionTTL, from CreatedAt.
	AbsoluteExpiresAt time.Time `json:"absolute_expires_at"`
	// IdleTimeout is how long the session may go unused: its login's own
	// (LoginOptions.IdleTimeout) or Config.RefreshTTL.
	IdleTimeout Duration `json:"idle_timeout"`
	// Actor is the subject of the staff member acting in a delegated
	// session (Auth.LoginAs); empty for the subject's own logins.
	Actor string `json:"actor,omitempty"`
	// Current marks the session of the principal that listed them.
	Current bool `json:"current"`
}
