package latch

import (
	"context"
	"errors"

	"github.com/latchauth/latch/store"
)

// Ending and listing sessions. Methods that take a *Principal act for the
// caller, on the subject and session its token names (Logout,
// LogoutSession, LogoutOthers, Sessions), and those that act on other
// sessions check first that the caller's own is live; methods that take a
// subject act on an account, for administrators and account changes
// (RevokeSession, RevokeAll).

// Logout ends p's session (event "logout").
func (a *Auth) Logout(ctx context.Context, p *Principal) error {
	if p == nil || p.SessionID == "" {
		return ErrNoToken
	}
	if err := a.sessions.Revoke(ctx, p.Subject, p.SessionID); err != nil {
		return err
	}
	a.emit(ctx, Event{Kind: EventLogout, Subject: p.Subject, SessionID: p.SessionID})
	return nil
}

// LogoutOthers ends every session of p's subject except p's own ("log out
// my other devices") and returns how many ended (event "logout_others").
//
// p's own session must be live: a stateless JWT from a session that was
// already revoked cannot end the others (ErrTokenRevoked).
func (a *Auth) LogoutOthers(ctx context.Context, p *Principal) (int, error) {
	if err := a.liveSession(ctx, p); err != nil {
		return 0, err
	}
	n, err := a.sessions.RevokeSubject(ctx, p.Subject, p.SessionID)
	if err != nil {
		return 0, err
	}
	a.emit(ctx, Event{Kind: EventLogoutOthers, Subject: p.Subject, SessionID: p.SessionID, Count: n})
	return n, nil
}

// Sessions lists the live sessions of p's subject, newest first; p's own
// is marked Current.
//
// p's own session must be among them: a stateless JWT from a session that
// has ended cannot list the others (ErrTokenRevoked), whatever the route
// checked.
func (a *Auth) Sessions(ctx context.Context, p *Principal) ([]SessionInfo, error) {
	if p == nil || p.SessionID == "" {
		return nil, ErrNoToken
	}
	list, err := a.sessions.List(ctx, p.Subject, a.now())
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, len(list))
	current := false
	for i, s := range list {
		out[i] = SessionInfo{
			ID: s.ID, Device: s.Device, CreatedAt: s.CreatedAt, LastUsedAt: s.LastUsedAt,
			ExpiresAt: earliest(s.IdleUntil, s.ExpiresAt), Current: s.ID == p.SessionID,
		}
		current = current || out[i].Current
	}
	if !current {
		return nil, ErrTokenRevoked
	}
	return out, nil
}

// LogoutSession ends one of the caller's sessions by id ("sign out that
// device"; event "revoke"). A session that does not exist or belongs to
// another subject is ErrSessionNotFound, and nothing changes.
//
// p's own session must be live: a stateless JWT from a session that was
// already revoked cannot end the others (ErrTokenRevoked), whatever the
// route checked.
func (a *Auth) LogoutSession(ctx context.Context, p *Principal, id string) error {
	if err := a.liveSession(ctx, p); err != nil {
		return err
	}
	return a.RevokeSession(ctx, p.Subject, id)
}

// RevokeSession ends subject's session id (event "revoke"), for an
// administrator; a user ending one of their own sessions goes through
// LogoutSession, which checks that the caller's session is live. A
// session that does not exist or belongs to another subject is
// ErrSessionNotFound, and nothing changes.
func (a *Auth) RevokeSession(ctx context.Context, subject, id string) error {
	now := a.now()
	s, err := a.sessions.Get(ctx, id, now)
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && s.Subject != subject:
		return ErrSessionNotFound
	case err != nil:
		return err
	}
	if err := a.sessions.Revoke(ctx, subject, id); err != nil {
		return err
	}
	a.emit(ctx, Event{Kind: EventRevoke, Time: now, Subject: subject, SessionID: id})
	return nil
}

// RevokeAll ends every session of subject, as after a password change or
// when an account is disabled, and returns how many ended (event
// "revoke_all").
func (a *Auth) RevokeAll(ctx context.Context, subject string) (int, error) {
	n, err := a.sessions.RevokeSubject(ctx, subject, "")
	if err != nil {
		return 0, err
	}
	a.emit(ctx, Event{Kind: EventRevokeAll, Subject: subject, Count: n})
	return n, nil
}

// RevokeToken ends the session of tok, an access or a refresh token, if it
// is valid; an invalid token is ErrInvalidToken (or a refinement) and ends
// nothing. A spent refresh token ends its session through reuse
// detection. No use of the session is recorded, and no user loader runs.
// It is the logic of an RFC 7009 revocation endpoint.
func (a *Auth) RevokeToken(ctx context.Context, tok string) error {
	p, _, err := a.verify(ctx, tok, Access, false)
	if errors.Is(err, ErrWrongTokenType) || errors.Is(err, ErrMalformedToken) {
		p, _, err = a.verify(ctx, tok, Refresh, false)
	}
	if err != nil {
		return err
	}
	return a.Logout(ctx, p)
}

// liveSession checks that p's session is live in the store and p's.
func (a *Auth) liveSession(ctx context.Context, p *Principal) error {
	if p == nil || p.SessionID == "" {
		return ErrNoToken
	}
	s, err := a.sessions.Get(ctx, p.SessionID, a.now())
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && s.Subject != p.Subject:
		return ErrTokenRevoked
	case err != nil:
		return err
	}
	return nil
}
