package latch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchauth/latch/internal/b64token"
	"github.com/latchauth/latch/internal/jsonclone"
	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/token"
)

// Authenticate checks tok against req and returns who presented it. It is
// the one path every adapter, and introspection, authenticate through:
//
//  1. the token is verified: its format, then its signature and claims
//     (JWT) or its session and secret in the store (opaque); a refresh
//     token that was already spent ends its session (reuse detection);
//  2. a fresh token is required if req.Fresh says so;
//  3. a JWT's session is read from the store if Config.SessionCheck or
//     req.SessionCheck asks for it, or if it is delegated (an act claim):
//     a delegated session's tokens, in every mode, also have the acting
//     staff member's session read, and fail once either has ended;
//  4. the user loader (WithUserLoader) finds the user, who rides in
//     Principal.User;
//  5. only then is the use of the session recorded (the idle timeout
//     slides; at most once per Config.TouchInterval), so a token refused
//     on the way does not keep its session alive.
//
// Authenticating a refresh token does not spend it (see Refresh). A
// refusal is an error matching one of the kinds in errors.go and is
// reported as a failure event; a store failure is ErrUnavailable. An
// empty tok is ErrMalformedToken: a token was expected here; an adapter
// that finds none in a request reports ErrNoToken itself.
func (a *Auth) Authenticate(ctx context.Context, tok string, req Requirement) (*Principal, error) {
	p, err := a.authenticate(ctx, tok, req)
	if err != nil {
		a.emit(ctx, failure(err, p))
		return nil, err
	}
	return p, nil
}

// authenticate is Authenticate without the failure event. On a refusal
// after verification it returns the principal too, for the event.
func (a *Auth) authenticate(ctx context.Context, tok string, req Requirement) (*Principal, error) {
	typ := req.Type
	if typ == "" {
		typ = Access
	}
	p, u, err := a.verify(ctx, tok, typ, a.cfg.SessionCheck || req.SessionCheck)
	if err != nil {
		return nil, err
	}
	if req.Fresh && !p.Fresh {
		return p, ErrFreshRequired
	}
	if p.User, err = a.lookupUser(ctx, p); err != nil {
		return p, err
	}
	// Only now is the request the user's: a token refused above, for
	// freshness or by the loader, does not slide the idle timeout.
	if err := a.record(ctx, u); err != nil {
		return p, err
	}
	return p, nil
}

// verify checks tok as a token of type typ and returns its principal and
// the use of its session still to be recorded. checkSession reads a JWT
// access token's session from the store.
func (a *Auth) verify(ctx context.Context, tok string, typ TokenType, checkSession bool) (*Principal, use, error) {
	if err := checkTokenText(tok); err != nil {
		return nil, use{}, err
	}
	now := a.now()
	switch {
	case typ == Refresh:
		p, _, err := a.checkRefresh(ctx, tok, now)
		return p, use{}, err
	case typ != Access:
		return nil, use{}, fmt.Errorf("latch: unknown token type %q", typ)
	case !a.accessJWT:
		return a.verifyOpaqueAccess(ctx, tok, now)
	}
	return a.verifyJWTAccess(ctx, tok, now, checkSession)
}

// use is a use of a session that verification read, still to be recorded
// (see touch); the zero use records nothing.
type use struct {
	s   *store.Session
	now time.Time
}

// record records u.
func (a *Auth) record(ctx context.Context, u use) error {
	if u.s == nil {
		return nil
	}
	return a.touch(ctx, u.s, u.now)
}

// touch records a use of s when the last recorded one is older than the
// touch interval; most requests write nothing.
func (a *Auth) touch(ctx context.Context, s *store.Session, now time.Time) error {
	every := a.cfg.TouchInterval.D()
	if now.Sub(s.LastUsedAt) < every {
		return nil
	}
	err := a.sessions.Touch(ctx, s.ID, now, a.cfg.RefreshTTL.D(), every)
	if errors.Is(err, store.ErrNotFound) {
		return ErrTokenRevoked
	}
	return err
}

// checkTokenText refuses tokens no format accepts, before any parsing:
// empty, longer than MaxTokenLen, or outside RFC 6750's b64token alphabet.
func checkTokenText(tok string) error {
	if p := b64token.Problem(tok); p != "" {
		return fmt.Errorf("%w: %s", ErrMalformedToken, p)
	}
	return nil
}

func (a *Auth) verifyOpaqueAccess(ctx context.Context, tok string, now time.Time) (*Principal, use, error) {
	id, hash, err := parseOpaque(tok, opaque.PrefixAccess)
	if err != nil {
		return nil, use{}, opaqueError(err)
	}
	s, err := a.sessions.Cached(ctx, id, now)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, use{}, err
	}
	ref := dummyHash
	if s != nil && len(s.SecretHash) == store.HashLen {
		ref = s.SecretHash
	}
	match := secretCompare(hash, ref) == 1
	switch {
	case s == nil:
		return nil, use{}, naming(ErrTokenRevoked, nil, id)
	case !match:
		// The same answer as an unknown session: a session id alone must
		// not reveal whether its session is live.
		return nil, use{}, naming(fmt.Errorf("%w: secret does not match", ErrTokenRevoked), s, id)
	case !now.Before(s.AccessExpiresAt):
		return nil, use{}, naming(ErrTokenExpired, s, id)
	}
	if err := a.checkActor(ctx, s, now); err != nil {
		return nil, use{}, err
	}
	actor, claims := s.Actor, s.Claims
	if a.sessions.cache != nil {
		// s is shared with other requests: hand the application copies.
		actor, claims = cloneActor(actor), jsonclone.Map(claims)
	}
	return &Principal{
		Subject:   s.Subject,
		SessionID: s.ID,
		Type:      Access,
		Fresh:     now.Before(s.FreshUntil),
		Actor:     actor,
		Claims:    claims,
		Device:    s.Device,
		ExpiresAt: s.AccessExpiresAt,
	}, use{s, now}, nil
}

func (a *Auth) verifyJWTAccess(ctx context.Context, tok string, now time.Time, checkSession bool) (*Principal, use, error) {
	if opaque.Is(tok) {
		return nil, use{}, ErrWrongTokenType
	}
	c, err := a.verifyJWT(tok, now)
	if err != nil {
		return nil, use{}, err
	}
	if c.Type != string(Access) {
		return nil, use{}, ErrWrongTokenType
	}
	p := &Principal{
		Subject:   c.Subject,
		SessionID: c.SessionID,
		Type:      Access,
		Fresh:     c.Fresh && (c.FreshUntil.IsZero() || now.Before(c.FreshUntil)),
		Claims:    c.Extra,
		TokenID:   c.ID,
		IssuedAt:  c.IssuedAt,
		ExpiresAt: c.ExpiresAt,
	}
	if c.Act != nil {
		p.Actor = &Actor{Subject: c.Act.Subject, SessionID: c.Act.SessionID}
		p.Fresh = false // a delegated session is never fresh
	}
	if !checkSession && p.Actor == nil {
		return p, use{}, nil
	}
	s, err := a.sessions.Cached(ctx, c.SessionID, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, use{}, &namedError{ErrTokenRevoked, c.Subject, c.SessionID}
	case err != nil:
		return nil, use{}, err
	case s.Subject != c.Subject:
		return nil, use{}, &namedError{fmt.Errorf("%w: session belongs to another subject", ErrInvalidToken), c.Subject, c.SessionID}
	case !sameActor(p.Actor, s.Actor):
		return nil, use{}, &namedError{fmt.Errorf("%w: act claim does not match the session", ErrInvalidToken), c.Subject, c.SessionID}
	}
	if err := a.checkActor(ctx, s, now); err != nil {
		return nil, use{}, err
	}
	p.Device = s.Device
	return p, use{s, now}, nil
}

// verifyJWT checks a JWT's signature and registered claims.
func (a *Auth) verifyJWT(tok string, now time.Time) (*token.Claims, error) {
	c, err := a.keys.Verify(tok, token.VerifyOptions{
		Now: now, Leeway: a.cfg.JWT.Leeway.D(), Issuer: a.cfg.JWT.Issuer, Audience: a.cfg.JWT.Audience,
	})
	switch {
	case err == nil:
		if validateSubject(c.Subject) != nil || !store.ValidID(c.SessionID) {
			return nil, fmt.Errorf("%w: bad sub or sid", ErrMalformedToken)
		}
		return c, nil
	case errors.Is(err, token.ErrExpired):
		return nil, fmt.Errorf("%w: %w", ErrTokenExpired, err)
	case errors.Is(err, token.ErrMalformed):
		return nil, fmt.Errorf("%w: %w", ErrMalformedToken, err)
	}
	return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
}

func opaqueError(err error) error {
	if errors.Is(err, opaque.ErrWrongType) {
		return fmt.Errorf("%w: %w", ErrWrongTokenType, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformedToken, err)
}

// lookupUser runs the user loader, if there is one, for p. A user the
// loader cannot find is ErrUserNotFound with the public message "Error
// loading the user <sub>"; a loader failure that is none of latch's
// kinds is ErrUnavailable.
func (a *Auth) lookupUser(ctx context.Context, p *Principal) (any, error) {
	if a.loadUser == nil {
		return nil, nil
	}
	user, err := a.loadUser(ctx, p)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return nil, &publicError{kind: ErrUserNotFound.(*kind), msg: "Error loading the user " + p.Subject}
	case err != nil && kindOf(err) == nil:
		return nil, errors.Join(ErrUnavailable, err)
	}
	return user, err
}

// namedError carries the subject and session a refused token named, for
// events and logs. It changes neither the error's kind nor its text, and
// holds nothing secret: session ids are public.
type namedError struct {
	error
	subject, session string
}

func (e *namedError) Unwrap() error { return e.error }

// naming wraps err with the session id a token named and, when the store
// knows the session, its subject.
func naming(err error, s *store.Session, id string) error {
	ne := &namedError{error: err, session: id}
	if s != nil {
		ne.subject = s.Subject
	}
	return ne
}

// failure is the event for a refused request.
func failure(err error, p *Principal) Event {
	e := Event{Kind: EventFailure, Err: err}
	var ne *namedError
	switch {
	case p != nil:
		e.Subject, e.SessionID, e.Actor = p.Subject, p.SessionID, p.Actor
	case errors.As(err, &ne):
		e.Subject, e.SessionID = ne.subject, ne.session
	}
	return e
}
