package latch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/latchauth/latch/store"
)

// Delegation: a staff member opens a session for a user ("log in as", for
// support), which records who acts, as RFC 8693 does: the session's
// subject is the user, its Actor the staff member. Such a session lives
// at most Config.DelegationTTL and never past the staff session it came
// from; it is never fresh, cannot step up, delegate again, or list or end
// the user's other sessions (ErrDelegated); and every use of its tokens,
// in every mode, reads both sessions, so it stops the moment either ends.

// delegation is what LoginAs adds to a login.
type delegation struct {
	actor    *Actor
	notAfter time.Time // the staff session's end
}

// claimLen bounds what the act claim adds to a JWT's JSON; 0 for nil.
func (d *delegation) claimLen() int {
	if d == nil {
		return 0
	}
	sub, _ := json.Marshal(d.actor.Subject)
	return len(sub) + len(d.actor.SessionID) + len(`,"act":{"sub":,"sid":""}`)
}

// LoginAs opens a delegated session for user on behalf of staff, whose
// own session must be live and not itself delegated (ErrDelegated), and
// returns its tokens (event "login_as", with the actor). Its lifetime is
// opts.Lifetime or Config.DelegationTTL, no longer, and ends with staff's
// session. Who may delegate is the application's decision: check it
// before calling (latch knows no roles).
func (a *Auth) LoginAs(ctx context.Context, staff *Principal, user any, opts LoginOptions) (*Tokens, error) {
	if staff == nil || staff.SessionID == "" {
		return nil, ErrNoToken
	}
	if staff.Actor != nil {
		return nil, fmt.Errorf("%w: a delegated session cannot delegate again", ErrDelegated)
	}
	s, err := a.ownSession(ctx, staff)
	if err != nil {
		return nil, err
	}
	if s.Actor != nil {
		return nil, fmt.Errorf("%w: a delegated session cannot delegate again", ErrDelegated)
	}
	return a.login(ctx, user, opts, &delegation{
		actor:    &Actor{Subject: s.Subject, SessionID: s.ID},
		notAfter: s.ExpiresAt,
	})
}

// checkActor checks, for a delegated session s, that the staff session
// it was opened from is still live and the staff member's; a session
// whose actor's session ended is revoked on the way. A session of the
// subject's own login passes.
func (a *Auth) checkActor(ctx context.Context, s *store.Session, now time.Time) error {
	if s.Actor == nil {
		return nil
	}
	staff, err := a.sessions.Cached(ctx, s.Actor.SessionID, now)
	switch {
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	case err == nil && staff.Subject == s.Actor.Subject && staff.Actor == nil:
		return nil
	}
	// The staff member logged out, or their session ended: so does this
	// one. Ending it here also takes it off the user's device list.
	if err := a.sessions.Revoke(ctx, s.Subject, s.ID); err != nil {
		return err
	}
	return naming(fmt.Errorf("%w: the acting staff member's session has ended", ErrTokenRevoked), s, s.ID)
}

// sameActor reports whether a token's act claim names the session's
// actor: both absent, or the same subject and session.
func sameActor(tok, s *Actor) bool {
	if tok == nil || s == nil {
		return tok == nil && s == nil
	}
	return *tok == *s
}

// notDelegated refuses a delegated principal the action what.
func notDelegated(p *Principal, what string) error {
	if p != nil && p.Actor != nil {
		return fmt.Errorf("%w: %s", ErrDelegated, what)
	}
	return nil
}
