package latch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/store"
)

// verifyRefresh checks a refresh token without spending it. It returns the
// session and the presented hash, so Refresh can go on to rotate. A hash
// that is one of the session's spent ones, past the reuse grace, returns
// errSpent with the session, for checkRefresh to revoke it.
func (a *Auth) verifyRefresh(ctx context.Context, tok string, now time.Time) (p *Principal, s *store.Session, hash []byte, err error) {
	var id, subject string
	if a.refreshJWT {
		if opaque.Is(tok) {
			return nil, nil, nil, ErrWrongTokenType
		}
		c, err := a.verifyJWT(tok, now)
		if err != nil {
			return nil, nil, nil, err
		}
		if c.Type != string(Refresh) {
			return nil, nil, nil, ErrWrongTokenType
		}
		id, subject, hash = c.SessionID, c.Subject, hashSecret(c.ID)
	} else {
		if strings.Count(tok, ".") == 2 {
			return nil, nil, nil, ErrWrongTokenType // a JWT where an opaque refresh token belongs
		}
		id, hash, err = parseOpaque(tok, opaque.PrefixRefresh)
		if err != nil {
			return nil, nil, nil, opaqueError(err)
		}
	}
	s, err = a.sessions.Get(ctx, id, now)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, err
	}
	current, spent := matchRefresh(s, hash, a.cfg.KeepSpent)
	switch {
	case s == nil:
		return nil, nil, nil, naming(ErrTokenRevoked, nil, id)
	case subject != "" && subject != s.Subject:
		return nil, nil, nil, naming(fmt.Errorf("%w: session belongs to another subject", ErrInvalidToken), s, id)
	case spent && now.Sub(s.RotatedAt) < a.cfg.ReuseGrace.D():
		// Spent while the session was being refreshed moments ago: a
		// concurrent request (another tab) that lost, not a replay. No
		// tokens are issued, so this hands an attacker nothing.
		return nil, nil, nil, naming(ErrRefreshRace, s, id)
	case spent:
		return nil, s, hash, errSpent
	case !current:
		// The same answer as an unknown session, so a session id alone
		// does not reveal whether its session is live.
		return nil, nil, nil, naming(fmt.Errorf("%w: refresh secret does not match", ErrTokenRevoked), s, id)
	}
	if err := a.checkActor(ctx, s, now); err != nil {
		return nil, nil, nil, err
	}
	return &Principal{
		Subject:   s.Subject,
		SessionID: s.ID,
		Type:      Refresh,
		Fresh:     false,
		Actor:     s.Actor,
		Claims:    s.Claims,
		Device:    s.Device,
		ExpiresAt: s.IdleUntil,
	}, s, hash, nil
}

// checkRefresh is verifyRefresh plus reuse detection: a spent secret that
// comes back revokes its session, wherever it is presented.
func (a *Auth) checkRefresh(ctx context.Context, tok string, now time.Time) (*Principal, *store.Session, []byte, error) {
	p, s, hash, err := a.verifyRefresh(ctx, tok, now)
	if !errors.Is(err, errSpent) {
		return p, s, hash, err
	}
	if err := a.sessions.Revoke(ctx, s.Subject, s.ID); err != nil {
		return nil, nil, nil, err
	}
	a.emit(ctx, Event{Kind: EventReuse, Time: now, Subject: s.Subject, SessionID: s.ID, Err: ErrRefreshReused})
	return nil, nil, nil, ErrRefreshReused
}

// errSpent marks a spent refresh secret inside verifyRefresh.
var errSpent = fmt.Errorf("%w: refresh secret already spent", ErrInvalidToken)

// matchRefresh compares hash with the session's current and spent refresh
// hashes. It always does the same work, keepSpent+1 constant-time
// comparisons, whether the session exists or how the hashes differ.
func matchRefresh(s *store.Session, hash []byte, keepSpent int) (current, spent bool) {
	ref, old := dummyHash, [][]byte(nil)
	if s != nil {
		if len(s.RefreshHash) == store.HashLen {
			ref = s.RefreshHash
		}
		old = s.Spent
	}
	current = secretCompare(hash, ref) == 1
	hit := 0
	// Exactly keepSpent, even when the store holds more (KeepSpent was
	// lowered since): a live session must not cost more than a dead id.
	for i := 0; i < keepSpent; i++ {
		h := dummyHash
		if i < len(old) && len(old[i]) == store.HashLen {
			h = old[i]
		}
		hit |= secretCompare(hash, h)
	}
	return current, hit == 1 && !current
}

// Refresh spends refreshToken and returns the session's next tokens. Of
// concurrent refreshes with one token exactly one succeeds; the others get
// ErrRefreshRace and the session lives on. A token that was already spent
// revokes the session and returns ErrRefreshReused; a token that was never
// issued gets the answer an unknown session gets (ErrTokenRevoked) and
// changes nothing. With a user loader (WithUserLoader), a user it no
// longer finds gets ErrUserNotFound and the session is left as it was.
// A refusal is reported as a failure event.
func (a *Auth) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	t, err := a.refresh(ctx, refreshToken)
	if err != nil {
		a.emit(ctx, failure(err, nil))
		return nil, err
	}
	return t, nil
}

func (a *Auth) refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	if err := checkTokenText(refreshToken); err != nil {
		return nil, err
	}
	now := a.now()
	p, s, hash, err := a.checkRefresh(ctx, refreshToken, now)
	if err != nil {
		return nil, err
	}
	// A user the loader no longer finds gets no new tokens, and the
	// session's idle timeout stops sliding.
	if _, err := a.lookupUser(ctx, p); err != nil {
		return nil, naming(err, s, s.ID)
	}
	cfg := a.cfg
	refreshSecret, refreshHash := opaque.NewSecret()
	r := store.Rotation{
		Old:         hash,
		RefreshHash: refreshHash,
		IdleUntil:   earliest(now.Add(a.idleTimeout(s)), s.ExpiresAt),
		KeepSpent:   cfg.KeepSpent,
	}
	var accessSecret string
	if !a.accessJWT {
		accessSecret, r.SecretHash = opaque.NewSecret()
		r.AccessExpiresAt = earliest(now.Add(cfg.AccessTTL.D()), s.ExpiresAt)
	}
	err = a.sessions.Rotate(ctx, s.ID, r, now)
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, ErrRefreshRace
	case errors.Is(err, store.ErrNotFound):
		return nil, ErrTokenRevoked
	case err != nil:
		return nil, err
	}
	s.RefreshHash, s.SecretHash = r.RefreshHash, r.SecretHash
	s.AccessExpiresAt, s.IdleUntil, s.FreshUntil = r.AccessExpiresAt, r.IdleUntil, time.Time{}
	s.LastUsedAt, s.RotatedAt = now, now
	t, err := a.mint(s, accessSecret, refreshSecret, now)
	if err != nil {
		return nil, err
	}
	a.emit(ctx, Event{Kind: EventRefresh, Time: now, Subject: s.Subject, SessionID: s.ID, Actor: s.Actor})
	return t, nil
}
