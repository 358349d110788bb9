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

// spend is a refresh token on its way to being spent: the session it
// names, as read, and the secret it carries with its hash.
type spend struct {
	s      *store.Session
	secret string
	hash   []byte
}

// verifyRefresh checks a refresh token without spending it. A hash that
// is one of the session's spent ones returns errSpent past the reuse
// grace, for checkRefresh to revoke the session; within it, the most
// recently spent one returns errRetried, for Refresh to answer again, and
// any other ErrRefreshRace.
func (a *Auth) verifyRefresh(ctx context.Context, tok string, now time.Time) (*Principal, spend, error) {
	var id, subject string
	var sp spend
	if a.refreshJWT {
		if opaque.Is(tok) {
			return nil, spend{}, ErrWrongTokenType
		}
		c, err := a.verifyJWT(tok, now)
		if err != nil {
			return nil, spend{}, err
		}
		if c.Type != string(Refresh) {
			return nil, spend{}, ErrWrongTokenType
		}
		id, subject, sp.secret, sp.hash = c.SessionID, c.Subject, c.ID, hashSecret(c.ID)
	} else {
		if strings.Count(tok, ".") == 2 {
			return nil, spend{}, ErrWrongTokenType // a JWT where an opaque refresh token belongs
		}
		var err error
		if id, sp.hash, err = parseOpaque(tok, opaque.PrefixRefresh); err != nil {
			return nil, spend{}, opaqueError(err)
		}
		sp.secret = opaque.SecretOf(tok)
	}
	s, err := a.sessions.Get(ctx, id, now)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, spend{}, err
	}
	sp.s = s
	current, spent, latest := matchRefresh(s, sp.hash, a.cfg.KeepSpent)
	switch {
	case s == nil:
		return nil, spend{}, naming(ErrTokenRevoked, nil, id)
	case subject != "" && subject != s.Subject:
		return nil, spend{}, naming(fmt.Errorf("%w: session belongs to another subject", ErrInvalidToken), s, id)
	case spent && now.Sub(s.RotatedAt) < a.cfg.ReuseGrace.D() && latest:
		// Spent by the session's last refresh, moments ago: the same
		// request retried, or a concurrent one (another tab) that lost.
		return nil, sp, naming(errRetried, s, id)
	case spent && now.Sub(s.RotatedAt) < a.cfg.ReuseGrace.D():
		// Spent before the last refresh, within the grace: a request
		// overtaken twice. No tokens, and the session lives on.
		return nil, spend{}, naming(ErrRefreshRace, s, id)
	case spent:
		return nil, sp, errSpent
	case !current:
		// The same answer as an unknown session, so a session id alone
		// does not reveal whether its session is live.
		return nil, spend{}, naming(fmt.Errorf("%w: refresh secret does not match", ErrTokenRevoked), s, id)
	}
	if err := a.checkActor(ctx, s, now); err != nil {
		return nil, spend{}, err
	}
	return principalOf(s, Refresh), sp, nil
}

// principalOf is the principal of a refresh token of s: never fresh.
func principalOf(s *store.Session, typ TokenType) *Principal {
	return &Principal{
		Subject:   s.Subject,
		SessionID: s.ID,
		Type:      typ,
		Fresh:     false,
		Actor:     s.Actor,
		Claims:    s.Claims,
		Device:    s.Device,
		ExpiresAt: s.IdleUntil,
	}
}

// checkRefresh is verifyRefresh plus reuse detection: a spent secret that
// comes back past the grace revokes its session, wherever it is
// presented.
func (a *Auth) checkRefresh(ctx context.Context, tok string, now time.Time) (*Principal, spend, error) {
	p, sp, err := a.verifyRefresh(ctx, tok, now)
	if !errors.Is(err, errSpent) {
		return p, sp, err
	}
	s := sp.s
	if err := a.sessions.Revoke(ctx, s.Subject, s.ID); err != nil {
		return nil, spend{}, err
	}
	a.emit(ctx, Event{Kind: EventReuse, Time: now, Subject: s.Subject, SessionID: s.ID, Err: ErrRefreshReused})
	return nil, spend{}, ErrRefreshReused
}

// Sentinels of verifyRefresh: a spent refresh secret, and the most
// recently spent one within the grace (an ErrRefreshRace to any caller
// but Refresh).
var (
	errSpent   = fmt.Errorf("%w: refresh secret already spent", ErrInvalidToken)
	errRetried = fmt.Errorf("%w: refresh secret spent moments ago", ErrRefreshRace)
)

// matchRefresh compares hash with the session's current and spent refresh
// hashes; latest reports the most recently spent one. It always does the
// same work, keepSpent+1 constant-time comparisons, whether the session
// exists or how the hashes differ.
func matchRefresh(s *store.Session, hash []byte, keepSpent int) (current, spent, latest bool) {
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
		c := secretCompare(hash, h)
		if i == 0 {
			latest = c == 1
		}
		hit |= c
	}
	return current, hit == 1 && !current, latest && !current
}

// Refresh spends refreshToken and returns the session's next tokens. The
// next secrets are derived from the spent one with the session key (see
// Config.SessionKey), so a refresh that is retried, or raced by others
// with the same token, within ReuseGrace gets the very tokens the first
// one got, with no store write: an opaque access token identical too, a
// JWT access token signed afresh. A token spent before the session's
// last refresh gets ErrRefreshRace within the grace (the session lives
// on); past the grace, any spent token revokes the session and returns
// ErrRefreshReused. A token that was never issued gets the answer an
// unknown session gets (ErrTokenRevoked) and changes nothing. With a
// user loader (WithUserLoader), a user it no longer finds gets
// ErrUserNotFound and the session is left as it was. A refusal is
// reported as a failure event.
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
	p, sp, err := a.checkRefresh(ctx, refreshToken, now)
	if errors.Is(err, errRetried) {
		return a.again(ctx, sp, now)
	}
	if err != nil {
		return nil, err
	}
	s := sp.s
	// A user the loader no longer finds gets no new tokens, and the
	// session's idle timeout stops sliding.
	if _, err := a.lookupUser(ctx, p); err != nil {
		return nil, naming(err, s, s.ID)
	}
	cfg := a.cfg
	n := derive(a.successors[0], s.ID, sp.secret, !a.accessJWT)
	r := store.Rotation{
		Old:         sp.hash,
		RefreshHash: n.refreshHash,
		SecretHash:  n.accessHash,
		IdleUntil:   earliest(now.Add(a.idleTimeout(s)), s.ExpiresAt),
		KeepSpent:   cfg.KeepSpent,
	}
	if !a.accessJWT {
		r.AccessExpiresAt = earliest(now.Add(cfg.AccessTTL.D()), s.ExpiresAt)
	}
	err = a.sessions.Rotate(ctx, s.ID, r, now)
	switch {
	case errors.Is(err, store.ErrConflict):
		return a.overtaken(ctx, refreshToken, s, now)
	case errors.Is(err, store.ErrNotFound):
		return nil, ErrTokenRevoked
	case err != nil:
		return nil, err
	}
	s.RefreshHash, s.SecretHash = r.RefreshHash, r.SecretHash
	s.AccessExpiresAt, s.IdleUntil, s.FreshUntil = r.AccessExpiresAt, r.IdleUntil, time.Time{}
	s.LastUsedAt, s.RotatedAt = now, now
	return a.refreshed(ctx, s, n, now)
}

// overtaken answers a refresh whose Rotate lost its compare-and-swap:
// another request spent the token first, and its change can be read (the
// store.Store contract). When that request's rotation is the session's
// last, its tokens are this one's too; otherwise ErrRefreshRace. It never
// revokes: a winner slowed between its read and its swap stamps a
// rotation time from before this request's read (docs/sessions.md).
func (a *Auth) overtaken(ctx context.Context, tok string, s *store.Session, now time.Time) (*Tokens, error) {
	_, sp, err := a.verifyRefresh(ctx, tok, now)
	switch {
	case errors.Is(err, errRetried):
		return a.again(ctx, sp, now)
	case err != nil && !errors.Is(err, errSpent) && !errors.Is(err, ErrRefreshRace):
		return nil, err // revoked meanwhile, or the store failed
	}
	return nil, naming(ErrRefreshRace, s, s.ID)
}

// again answers a refresh secret that the session's last refresh spent,
// presented again within the grace: when the session's refresh hash is
// the one derived from it, under any session key, the tokens of that
// refresh are handed out again. Nothing is written. Otherwise the
// session was refreshed some other way since (a key it no longer knows):
// ErrRefreshRace, and the session lives on.
func (a *Auth) again(ctx context.Context, sp spend, now time.Time) (*Tokens, error) {
	s := sp.s
	if err := a.checkActor(ctx, s, now); err != nil {
		return nil, err
	}
	if _, err := a.lookupUser(ctx, principalOf(s, Refresh)); err != nil {
		return nil, naming(err, s, s.ID)
	}
	for _, k := range a.successors {
		n := derive(k, s.ID, sp.secret, !a.accessJWT)
		if secretCompare(n.refreshHash, s.RefreshHash) == 1 {
			return a.refreshed(ctx, s, n, now)
		}
	}
	return nil, naming(ErrRefreshRace, s, s.ID)
}

// refreshed mints the tokens of s after a refresh handed out n.
func (a *Auth) refreshed(ctx context.Context, s *store.Session, n successor, now time.Time) (*Tokens, error) {
	t, err := a.mint(s, n.access, n.refresh, now)
	if err != nil {
		return nil, err
	}
	a.emit(ctx, Event{Kind: EventRefresh, Time: now, Subject: s.Subject, SessionID: s.ID, Actor: s.Actor})
	return t, nil
}
