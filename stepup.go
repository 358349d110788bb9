package latch

import (
	"context"
	"errors"
	"fmt"

	"github.com/latchauth/latch/internal/testhook"
	"github.com/latchauth/latch/store"
)

// StepUp makes p's session fresh again, without a new login or session,
// for an application that has just re-checked the user's password or a
// second factor (flask-jwt-extended's create_access_token(fresh=True)):
// the session is fresh for Config.FreshTTL, or with FreshTTL 0 as after
// a login, until its next refresh (event "step_up").
//
// In JWT and hybrid modes it returns a new access token that says so,
// and no refresh token: the one the client holds stays valid. In opaque
// mode freshness is read from the session on each request, so the access
// token in use is fresh at once: the returned Tokens carry no token, only
// that one's type and expiry. latchhttp's WriteStepUp answers with them.
//
// p's session must be live (ErrTokenRevoked) and not delegated
// (ErrDelegated): a staff member acting as a user cannot prove to be them.
func (a *Auth) StepUp(ctx context.Context, p *Principal) (*Tokens, error) {
	if err := notDelegated(p, "a delegated session cannot step up"); err != nil {
		return nil, err
	}
	s, err := a.ownSession(ctx, p)
	if err != nil {
		return nil, err
	}
	if s.Actor != nil {
		return nil, fmt.Errorf("%w: a delegated session cannot step up", ErrDelegated)
	}
	now := a.now()
	s.FreshUntil = a.freshUntil(s, now)
	if err := a.sessions.Freshen(ctx, s.ID, s.FreshUntil, now); errors.Is(err, store.ErrNotFound) {
		return nil, ErrTokenRevoked
	} else if err != nil {
		return nil, err
	}
	t := &Tokens{TokenType: "Bearer", SessionID: s.ID, AccessExpiresAt: s.AccessExpiresAt, Ephemeral: s.IdleTimeout > 0}
	if a.accessJWT {
		if err := a.mintAccessJWT(t, s, now); err != nil {
			return nil, err
		}
	}
	t.ExpiresIn = expiresIn(t, now)
	if testhook.Issued != nil && t.AccessToken != "" {
		testhook.Issued(t.AccessToken, "")
	}
	a.emit(ctx, Event{Kind: EventStepUp, Time: now, Subject: s.Subject, SessionID: s.ID})
	return t, nil
}
