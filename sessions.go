package latch

import (
	"context"
	"errors"
	"fmt"

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
	a.emit(ctx, Event{Kind: EventLogout, Subject: p.Subject, SessionID: p.SessionID, Actor: p.Actor})
	return nil
}

// LogoutOthers ends every session of p's subject except p's own ("log out
// my other devices") and returns how many ended (event "logout_others").
//
// p's own session must be live: a stateless JWT from a session that was
// already revoked cannot end the others (ErrTokenRevoked). A delegated
// session cannot (ErrDelegated).
func (a *Auth) LogoutOthers(ctx context.Context, p *Principal) (int, error) {
	if err := a.manager(ctx, p, "a delegated session cannot end the user's other sessions"); err != nil {
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
// is marked Current, and delegated ones (LoginAs) name their actor.
//
// p's own session must be among them: a stateless JWT from a session that
// has ended cannot list the others (ErrTokenRevoked), whatever the route
// checked. A delegated session cannot list them (ErrDelegated).
func (a *Auth) Sessions(ctx context.Context, p *Principal) ([]SessionInfo, error) {
	if p == nil || p.SessionID == "" {
		return nil, ErrNoToken
	}
	if err := notDelegated(p, "a delegated session cannot list the user's sessions"); err != nil {
		return nil, err
	}
	now := a.now()
	list, err := a.sessions.List(ctx, p.Subject, now)
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, 0, len(list))
	current := false
	for _, s := range list {
		if s.ID == p.SessionID && s.Actor != nil {
			return nil, fmt.Errorf("%w: a delegated session cannot list the user's sessions", ErrDelegated)
		}
		if err := a.checkActor(ctx, &s, now); errors.Is(err, ErrTokenRevoked) {
			continue // its staff member's session has ended, and so has it
		} else if err != nil {
			return nil, err
		}
		info := SessionInfo{
			ID: s.ID, Device: s.Device, CreatedAt: s.CreatedAt, LastUsedAt: s.LastUsedAt,
			ExpiresAt: earliest(s.IdleUntil, s.ExpiresAt), AbsoluteExpiresAt: s.ExpiresAt,
			IdleTimeout: Duration(a.idleTimeout(&s)), Current: s.ID == p.SessionID,
		}
		if s.Actor != nil {
			info.Actor = s.Actor.Subject
		}
		out = append(out, info)
		current = current || info.Current
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
// route checked. A delegated session can end itself this way, and no
// other (ErrDelegated).
func (a *Auth) LogoutSession(ctx context.Context, p *Principal, id string) error {
	what := "a delegated session cannot end the user's other sessions"
	if p != nil && id == p.SessionID {
		what = "" // its own: as Logout
	}
	if err := a.manager(ctx, p, what); err != nil {
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

// manager checks that p may manage its subject's sessions: p's session
// is live in the store and p's and, unless what is empty, not delegated
// (ErrDelegated: what).
func (a *Auth) manager(ctx context.Context, p *Principal, what string) error {
	if what != "" {
		if err := notDelegated(p, what); err != nil {
			return err
		}
	}
	s, err := a.ownSession(ctx, p)
	if err == nil && what != "" && s.Actor != nil {
		return fmt.Errorf("%w: %s", ErrDelegated, what)
	}
	return err
}

// ownSession returns p's session, checking that it is live in the store
// and p's.
func (a *Auth) ownSession(ctx context.Context, p *Principal) (*store.Session, error) {
	if p == nil || p.SessionID == "" {
		return nil, ErrNoToken
	}
	s, err := a.sessions.Get(ctx, p.SessionID, a.now())
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && s.Subject != p.Subject:
		return nil, ErrTokenRevoked
	case err != nil:
		return nil, err
	}
	return s, nil
}
