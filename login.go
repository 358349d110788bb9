package latch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/internal/testhook"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/token"
)

// reservedClaims are written by latch and cannot be set by loaders or
// LoginOptions.Claims, in any letter case.
var reservedClaims = map[string]bool{
	"sub": true, "iat": true, "nbf": true, "exp": true, "jti": true, "type": true,
	"fresh": true, "sid": true, "iss": true, "aud": true, "csrf": true, "act": true,
}

// maxClaimsJSON bounds the application claims of a session, so a JWT stays
// well under MaxTokenLen.
const maxClaimsJSON = 4096

// Login starts a new session for user on opts.Device and returns its
// tokens. The session's tokens are fresh.
func (a *Auth) Login(ctx context.Context, user any, opts LoginOptions) (*Tokens, error) {
	return a.login(ctx, user, opts, nil)
}

// login opens a session for user: the subject's own, or a delegated one
// when d is not nil (see LoginAs).
func (a *Auth) login(ctx context.Context, user any, opts LoginOptions, d *delegation) (*Tokens, error) {
	subject, err := a.identity(user)
	if err != nil {
		// The program passed a user its identity function cannot take:
		// a bug to fix, not the client's fault.
		if a.log != nil { // WithLogger(nil): no log at all
			a.log.ErrorContext(ctx, "latch: Login: "+err.Error())
		}
		return nil, err
	}
	if err := validateSubject(subject); err != nil {
		return nil, err
	}
	cfg := a.cfg
	maxLife := cfg.SessionTTL.D()
	if d != nil {
		maxLife = cfg.DelegationTTL.D()
	}
	idle, life, err := a.lifetimes(opts, maxLife)
	if err != nil {
		return nil, err
	}
	claims, claimsLen, err := a.loginClaims(ctx, user, opts.Claims)
	if err != nil {
		return nil, err
	}
	if a.accessJWT {
		if err := fitsJWT(subject, claimsLen+d.claimLen()); err != nil {
			return nil, err
		}
	}
	now := a.now()
	s := &store.Session{
		Subject:     subject,
		Device:      clipDevice(opts.Device),
		Claims:      claims,
		CreatedAt:   now,
		LastUsedAt:  now,
		ExpiresAt:   now.Add(life),
		IdleTimeout: opts.IdleTimeout,
	}
	ev := Event{Kind: EventLogin, Time: now, Subject: subject}
	if d != nil {
		// Never past the staff member's own session, and never fresh: the
		// staff member proved who they are, not who the user is.
		s.ExpiresAt = earliest(s.ExpiresAt, d.notAfter)
		s.Actor = d.actor
		ev.Kind, ev.Actor = EventLoginAs, d.actor
	} else {
		s.FreshUntil = a.freshUntil(s, now)
	}
	s.IdleUntil = earliest(now.Add(idle), s.ExpiresAt)
	refreshSecret, refreshHash := opaque.NewSecret()
	s.RefreshHash = refreshHash
	var accessSecret string
	if !a.accessJWT {
		var h []byte
		accessSecret, h = opaque.NewSecret()
		s.SecretHash = h
		s.AccessExpiresAt = earliest(now.Add(cfg.AccessTTL.D()), s.ExpiresAt)
	}
	if err := a.sessions.Create(ctx, s, cfg.MaxSessions); err != nil {
		return nil, err
	}
	t, err := a.mint(s, accessSecret, refreshSecret, now)
	if err != nil {
		// Leave no session behind that nobody holds tokens for. (fitsJWT
		// keeps this path for keys and settings far out of the ordinary:
		// a session the cap evicted for this one is not restored.)
		if rerr := a.sessions.Revoke(ctx, s.Subject, s.ID); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		return nil, err
	}
	ev.SessionID = s.ID
	a.emit(ctx, ev)
	return t, nil
}

// lifetimes returns the idle timeout and the absolute lifetime of a new
// session: those opts asks for, which may be shorter than the configured
// ones (maxLife for the absolute one), never longer.
func (a *Auth) lifetimes(opts LoginOptions, maxLife time.Duration) (idle, life time.Duration, err error) {
	idle, life = a.cfg.RefreshTTL.D(), maxLife
	minIdle := 2 * a.cfg.TouchInterval.D()
	switch {
	case opts.IdleTimeout < 0 || opts.Lifetime < 0:
		return 0, 0, fmt.Errorf("%w: negative", ErrInvalidLifetime)
	case opts.IdleTimeout > idle:
		return 0, 0, fmt.Errorf("%w: idle timeout %s is longer than the configured %s", ErrInvalidLifetime, opts.IdleTimeout, idle)
	case opts.IdleTimeout > 0 && opts.IdleTimeout < minIdle:
		// Uses are recorded once a touch interval: a shorter idle timeout
		// would end sessions in use.
		return 0, 0, fmt.Errorf("%w: idle timeout %s is under twice the touch interval (%s)", ErrInvalidLifetime, opts.IdleTimeout, minIdle)
	case opts.Lifetime > life:
		return 0, 0, fmt.Errorf("%w: lifetime %s is longer than the configured %s", ErrInvalidLifetime, opts.Lifetime, life)
	}
	if opts.IdleTimeout > 0 {
		idle = opts.IdleTimeout
	}
	if opts.Lifetime > 0 {
		life = opts.Lifetime
	}
	return idle, life, nil
}

// freshUntil is when s, proven anew at now (a login or a step-up), stops
// being fresh: after Config.FreshTTL, or with FreshTTL 0 at its next
// refresh (which clears it), so until its end.
func (a *Auth) freshUntil(s *store.Session, now time.Time) time.Time {
	if a.cfg.FreshTTL > 0 {
		return earliest(now.Add(a.cfg.FreshTTL.D()), s.ExpiresAt)
	}
	return s.ExpiresAt
}

// idleTimeout is s's idle timeout: its own, or Config.RefreshTTL.
func (a *Auth) idleTimeout(s *store.Session) time.Duration {
	if s.IdleTimeout > 0 {
		return min(s.IdleTimeout, a.cfg.RefreshTTL.D())
	}
	return a.cfg.RefreshTTL.D()
}

// validateSubject reports whether s can be a subject: non-empty valid UTF-8
// without NUL, at most store.MaxSubjectLen bytes.
func validateSubject(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty", ErrInvalidSubject)
	case len(s) > store.MaxSubjectLen:
		return fmt.Errorf("%w: over %d bytes", ErrInvalidSubject, store.MaxSubjectLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidSubject)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%w: contains NUL", ErrInvalidSubject)
	}
	return nil
}

// loginClaims merges the loader's claims with the call's (the call wins),
// refuses reserved names, and normalises values through JSON so that every
// mode hands handlers the same types. It also returns the claims' JSON
// size.
func (a *Auth) loginClaims(ctx context.Context, user any, extra map[string]any) (map[string]any, int, error) {
	merged := map[string]any{}
	if a.claims != nil {
		loaded, err := a.claims(ctx, user)
		if err != nil {
			return nil, 0, fmt.Errorf("latch: claims loader: %w", err)
		}
		for k, v := range loaded {
			merged[k] = v
		}
	}
	for k, v := range extra {
		merged[k] = v
	}
	if len(merged) == 0 {
		return nil, 0, nil
	}
	for k := range merged {
		// Case-insensitively: some JWT decoders match names that way.
		if reservedClaims[strings.ToLower(k)] {
			return nil, 0, fmt.Errorf("%w: %q is reserved; latch sets it", ErrInvalidClaims, k)
		}
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrInvalidClaims, err)
	}
	if len(b) > maxClaimsJSON {
		return nil, 0, fmt.Errorf("%w: %d bytes of JSON, limit %d", ErrInvalidClaims, len(b), maxClaimsJSON)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrInvalidClaims, err)
	}
	return out, len(b), nil
}

// maxJWTPayload bounds the JSON of subject and claims in JWT modes, so a
// token with its registered claims, header and even an RSA-4096 signature
// stays under MaxTokenLen.
const maxJWTPayload = 5120

// fitsJWT refuses a subject and claims whose JSON (escapes included) would
// make an access JWT longer than latch accepts.
func fitsJWT(subject string, claimsLen int) error {
	sub, _ := json.Marshal(subject)
	if n := len(sub) + claimsLen; n > maxJWTPayload {
		return fmt.Errorf("%w: subject and claims encode to %d bytes of JSON, over the %d a JWT here can carry",
			ErrInvalidClaims, n, maxJWTPayload)
	}
	return nil
}

// mint builds the tokens of s at now. accessSecret is empty when access
// tokens are JWTs; refreshSecret is the current refresh secret.
func (a *Auth) mint(s *store.Session, accessSecret, refreshSecret string, now time.Time) (*Tokens, error) {
	// A refresh token is good for the session's whole life: the store
	// enforces the sliding idle timeout, which a token's fixed exp could
	// not follow.
	t := &Tokens{TokenType: "Bearer", SessionID: s.ID, RefreshExpiresAt: s.ExpiresAt, Ephemeral: s.IdleTimeout > 0}
	if a.accessJWT {
		if err := a.mintAccessJWT(t, s, now); err != nil {
			return nil, err
		}
	} else {
		t.AccessToken = opaque.Format(opaque.PrefixAccess, s.ID, accessSecret)
		t.AccessExpiresAt = s.AccessExpiresAt
	}
	if a.refreshJWT {
		// Issued when its secret was: a refresh answered again within the
		// grace hands out the same token (byte for byte with a
		// deterministic algorithm: HMAC, RS* or EdDSA).
		issued := s.RotatedAt
		if issued.IsZero() {
			issued = s.CreatedAt
		}
		c := a.baseClaims(s, issued, Refresh)
		c.ExpiresAt = s.ExpiresAt
		c.ID = refreshSecret
		tok, err := a.keys.Sign(c)
		if err != nil {
			return nil, fmt.Errorf("latch: signing: %w", err)
		}
		t.RefreshToken = tok
	} else {
		t.RefreshToken = opaque.Format(opaque.PrefixRefresh, s.ID, refreshSecret)
	}
	t.ExpiresIn = expiresIn(t, now)
	if testhook.Issued != nil {
		testhook.Issued(t.AccessToken, t.RefreshToken)
	}
	return t, nil
}

// mintAccessJWT signs an access JWT of s at now into t; it is fresh while
// s.FreshUntil is ahead.
func (a *Auth) mintAccessJWT(t *Tokens, s *store.Session, now time.Time) error {
	c := a.baseClaims(s, now, Access)
	c.ExpiresAt = earliest(now.Add(a.cfg.AccessTTL.D()), s.ExpiresAt)
	c.ID = newJTI()
	c.Extra = s.Claims
	if now.Before(s.FreshUntil) {
		c.Fresh = true
		if a.cfg.FreshTTL > 0 {
			c.FreshUntil = s.FreshUntil
		}
	}
	tok, err := a.keys.Sign(c)
	if err != nil {
		return fmt.Errorf("latch: signing: %w", err)
	}
	t.AccessToken, t.AccessExpiresAt = tok, c.ExpiresAt
	return nil
}

// expiresIn is the access token's lifetime in seconds, for Tokens.
func expiresIn(t *Tokens, now time.Time) int {
	return int(t.AccessExpiresAt.Sub(now).Round(time.Second) / time.Second)
}

func (a *Auth) baseClaims(s *store.Session, now time.Time, typ TokenType) *token.Claims {
	c := &token.Claims{
		Subject:   s.Subject,
		IssuedAt:  now,
		NotBefore: now,
		Type:      string(typ),
		SessionID: s.ID,
		Issuer:    a.cfg.JWT.Issuer,
	}
	if s.Actor != nil {
		c.Act = &token.Act{Subject: s.Actor.Subject, SessionID: s.Actor.SessionID}
	}
	if a.cfg.JWT.Audience != "" {
		c.Audience = []string{a.cfg.JWT.Audience}
	}
	return c
}

// newJTI returns 128 random bits as base62: a JWT id.
func newJTI() string { return store.NewID() }

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// clipDevice cuts each device field to store.MaxDeviceLen bytes at a rune
// boundary, and drops invalid UTF-8, so a long User-Agent never fails a
// login.
func clipDevice(d Device) Device {
	clip := func(s string) string {
		s = strings.ToValidUTF8(s, "")
		s = strings.ReplaceAll(s, "\x00", "")
		if len(s) <= store.MaxDeviceLen {
			return s
		}
		s = s[:store.MaxDeviceLen]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		return s
	}
	return Device{Label: clip(d.Label), UserAgent: clip(d.UserAgent), IP: clip(d.IP)}
}
