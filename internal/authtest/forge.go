package authtest

import (
	"testing"
	"time"

	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/token"
)

// Tokens latch never issued, each with a valid checksum or signature: what
// an attacker who guessed a session id, or holds the signing key, brings.

// SignJWT signs c with e's keys.
func (e *Env) SignJWT(t testing.TB, c *token.Claims) string {
	t.Helper()
	out, err := e.Auth.Keyring().Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ForgeJWT re-signs the claims of tok, a JWT e issued, after edit.
func (e *Env) ForgeJWT(t testing.TB, tok string, edit func(*token.Claims)) string {
	t.Helper()
	c, err := e.Auth.Keyring().Verify(tok, token.VerifyOptions{Now: e.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	edit(c)
	return e.SignJWT(t, c)
}

// WrongSecret returns a token of tok's type for tok's session with
// another secret.
func (e *Env) WrongSecret(t testing.TB, tok string) string {
	t.Helper()
	secret, _ := opaque.NewSecret()
	if opaque.Is(tok) {
		n := len(opaque.PrefixAccess)
		return opaque.Format(tok[:n], tok[n:n+store.IDLen], secret)
	}
	return e.ForgeJWT(t, tok, func(c *token.Claims) { c.ID = secret })
}

// UnknownSession returns a token of tok's type for another (valid,
// unknown) session id with a fresh secret.
func (e *Env) UnknownSession(t testing.TB, tok string) string {
	t.Helper()
	secret, _ := opaque.NewSecret()
	if opaque.Is(tok) {
		return opaque.Format(tok[:len(opaque.PrefixAccess)], store.NewID(), secret)
	}
	return e.ForgeJWT(t, tok, func(c *token.Claims) { c.SessionID, c.ID = store.NewID(), secret })
}

// SignRefresh signs a refresh JWT for sub's session sid with a fresh
// secret, valid for an hour from e's now.
func (e *Env) SignRefresh(t testing.TB, sid, sub string) string {
	t.Helper()
	now := e.Clock.Now()
	secret, _ := opaque.NewSecret()
	return e.SignJWT(t, &token.Claims{Subject: sub, SessionID: sid, Type: "refresh", ID: secret,
		IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(time.Hour)})
}

// SignAccess signs an access JWT for subject 1's session sid, valid for
// an hour from e's now.
func (e *Env) SignAccess(t testing.TB, sid string) string {
	t.Helper()
	now := e.Clock.Now()
	return e.SignJWT(t, &token.Claims{Subject: "1", SessionID: sid, Type: "access", ID: "x",
		IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(time.Hour)})
}
