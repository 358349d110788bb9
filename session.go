package latch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/token"
)

// reservedClaims are written by latch and cannot be set by loaders or
// LoginOptions.Claims, in any letter case.
var reservedClaims = map[string]bool{
	"sub": true, "iat": true, "nbf": true, "exp": true, "jti": true, "type": true,
	"fresh": true, "sid": true, "iss": true, "aud": true, "csrf": true,
}

// maxClaimsJSON bounds the application claims of a session, so a JWT stays
// well under MaxTokenLen.
const maxClaimsJSON = 4096

// Login starts a new session for user on opts.Device and returns its
// tokens. The session's tokens are fresh.
func (a *Auth) Login(ctx context.Context, user any, opts LoginOptions) (*Tokens, error) {
	subject, err := a.identity(user)
	if err != nil {
		return nil, err
	}
	if err := ValidateSubject(subject); err != nil {
		return nil, err
	}
	claims, claimsLen, err := a.loginClaims(ctx, user, opts.Claims)
	if err != nil {
		return nil, err
	}
	if a.accessJWT {
		if err := fitsJWT(subject, claimsLen); err != nil {
			return nil, err
		}
	}
	now := a.now()
	cfg := a.cfg
	s := &store.Session{
		Subject:    subject,
		Device:     clipDevice(opts.Device),
		Claims:     claims,
		CreatedAt:  now,
		LastUsedAt: now,
		ExpiresAt:  now.Add(cfg.SessionTTL.D()),
	}
	s.IdleUntil = earliest(now.Add(cfg.RefreshTTL.D()), s.ExpiresAt)
	s.FreshUntil = s.ExpiresAt
	if cfg.FreshTTL > 0 {
		s.FreshUntil = earliest(now.Add(cfg.FreshTTL.D()), s.ExpiresAt)
	}
	refreshSecret, refreshHash := token.NewSecret()
	s.RefreshHash = refreshHash
	var accessSecret string
	if !a.accessJWT {
		var h []byte
		accessSecret, h = token.NewSecret()
		s.SecretHash = h
		s.AccessExpiresAt = earliest(now.Add(cfg.AccessTTL.D()), s.ExpiresAt)
	}
	if err := a.call(ctx, func(ctx context.Context) error { return a.store.Create(ctx, s, cfg.MaxSessions) }); err != nil {
		return nil, err
	}
	t, err := a.mint(s, accessSecret, refreshSecret, now)
	if err != nil {
		// Leave no session behind that nobody holds tokens for. (fitsJWT
		// keeps this path for keys and settings far out of the ordinary:
		// a session the cap evicted for this one is not restored.)
		if rerr := a.call(ctx, func(ctx context.Context) error { return a.store.Revoke(ctx, s.Subject, s.ID) }); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		return nil, err
	}
	a.emit(ctx, Event{Kind: EventLogin, Time: now, Subject: subject, SessionID: s.ID})
	return t, nil
}

// ValidateSubject reports whether s can be a subject: non-empty valid UTF-8
// without NUL, at most 1024 bytes.
func ValidateSubject(s string) error {
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
	t := &Tokens{TokenType: "Bearer", SessionID: s.ID, RefreshExpiresAt: s.ExpiresAt}
	if a.accessJWT {
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
			return nil, fmt.Errorf("latch: signing: %w", err)
		}
		t.AccessToken, t.AccessExpiresAt = tok, c.ExpiresAt
	} else {
		t.AccessToken = token.FormatOpaque(token.PrefixAccess, s.ID, accessSecret)
		t.AccessExpiresAt = s.AccessExpiresAt
	}
	if a.refreshJWT {
		c := a.baseClaims(s, now, Refresh)
		c.ExpiresAt = s.ExpiresAt
		c.ID = refreshSecret
		tok, err := a.keys.Sign(c)
		if err != nil {
			return nil, fmt.Errorf("latch: signing: %w", err)
		}
		t.RefreshToken = tok
	} else {
		t.RefreshToken = token.FormatOpaque(token.PrefixRefresh, s.ID, refreshSecret)
	}
	t.ExpiresIn = int(t.AccessExpiresAt.Sub(now).Round(time.Second) / time.Second)
	if issued != nil {
		issued(t)
	}
	return t, nil
}

// issued, set only by tests (export_test.go), sees every pair of tokens
// latch hands out, so the suite can check that none of them reaches a log
// line or an error message.
var issued func(*Tokens)

func (a *Auth) baseClaims(s *store.Session, now time.Time, typ TokenType) *token.Claims {
	c := &token.Claims{
		Subject:   s.Subject,
		IssuedAt:  now,
		NotBefore: now,
		Type:      string(typ),
		SessionID: s.ID,
		Issuer:    a.cfg.JWT.Issuer,
	}
	if a.cfg.JWT.Audience != "" {
		c.Audience = []string{a.cfg.JWT.Audience}
	}
	return c
}

// newJTI returns 128 random bits as base62: a JWT id.
func newJTI() string { return store.NewID() }

// Verify checks tok as a token of type want and returns its principal.
//
// Verifying a refresh token does not spend it, but a spent one presented
// past Config.ReuseGrace revokes its session (reuse detection) wherever it
// is presented. Verifying an access token records a use of its session
// when one is due (the idle timeout slides); Verify runs no user loader, so
// code that loads the user itself records the use whatever it then finds.
func (a *Auth) Verify(ctx context.Context, tok string, want TokenType) (*Principal, error) {
	return a.verify(ctx, tok, want, a.cfg.SessionCheck)
}

// verify is Verify with the session check chosen per call: Guard.CheckSession
// asks for it on routes that manage sessions.
func (a *Auth) verify(ctx context.Context, tok string, want TokenType, checkSession bool) (*Principal, error) {
	p, u, err := a.verifyUnused(ctx, tok, want, checkSession)
	if err != nil {
		return nil, err
	}
	if err := a.record(ctx, u); err != nil {
		return nil, err
	}
	return p, nil
}

// verifyUnused is verify without recording the use of the session: the
// caller records it (record) once it has accepted the request, so a
// request the user loader refuses does not slide the idle timeout.
func (a *Auth) verifyUnused(ctx context.Context, tok string, want TokenType, checkSession bool) (*Principal, use, error) {
	if err := checkTokenText(tok); err != nil {
		return nil, use{}, err
	}
	now := a.now()
	if want == Refresh {
		p, _, _, err := a.checkRefresh(ctx, tok, now)
		return p, use{}, err
	}
	if want != Access {
		return nil, use{}, fmt.Errorf("latch: Verify: unknown token type %q", want)
	}
	if !a.accessJWT {
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

// checkTokenText refuses tokens no format accepts, before any parsing:
// empty, longer than MaxTokenLen, or outside RFC 6750's b64token alphabet.
func checkTokenText(tok string) error {
	if tok == "" || len(tok) > MaxTokenLen {
		return fmt.Errorf("%w: empty or over %d bytes", ErrMalformedToken, MaxTokenLen)
	}
	for i := 0; i < len(tok); i++ {
		if !isB64TokenChar(tok[i]) {
			return fmt.Errorf("%w: character outside the token alphabet", ErrMalformedToken)
		}
	}
	return nil
}

func isB64TokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '='
}

func (a *Auth) verifyOpaqueAccess(ctx context.Context, tok string, now time.Time) (*Principal, use, error) {
	id, hash, err := parseOpaque(tok, token.PrefixAccess)
	if err != nil {
		return nil, use{}, opaqueError(err)
	}
	s, err := a.get(ctx, id, now)
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
	return &Principal{
		Subject:   s.Subject,
		SessionID: s.ID,
		Type:      Access,
		Fresh:     now.Before(s.FreshUntil),
		Claims:    s.Claims,
		Device:    s.Device,
		ExpiresAt: s.AccessExpiresAt,
	}, use{s, now}, nil
}

func (a *Auth) verifyJWTAccess(ctx context.Context, tok string, now time.Time, checkSession bool) (*Principal, use, error) {
	if token.IsOpaque(tok) {
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
	if !checkSession {
		return p, use{}, nil
	}
	s, err := a.get(ctx, c.SessionID, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, use{}, &namedError{ErrTokenRevoked, c.Subject, c.SessionID}
	case err != nil:
		return nil, use{}, err
	case s.Subject != c.Subject:
		return nil, use{}, &namedError{fmt.Errorf("%w: session belongs to another subject", ErrInvalidToken), c.Subject, c.SessionID}
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
		if ValidateSubject(c.Subject) != nil || !store.ValidID(c.SessionID) {
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
	if errors.Is(err, token.ErrWrongType) {
		return fmt.Errorf("%w: %w", ErrWrongTokenType, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformedToken, err)
}

// verifyRefresh checks a refresh token without spending it. It returns the
// session and the presented hash, so Refresh can go on to rotate. A hash
// that is one of the session's spent ones, past the reuse grace, returns
// errSpent with the session, for checkRefresh to revoke it.
func (a *Auth) verifyRefresh(ctx context.Context, tok string, now time.Time) (p *Principal, s *store.Session, hash []byte, err error) {
	var id, subject string
	if a.refreshJWT {
		if token.IsOpaque(tok) {
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
		id, hash, err = parseOpaque(tok, token.PrefixRefresh)
		if err != nil {
			return nil, nil, nil, opaqueError(err)
		}
	}
	s, err = a.get(ctx, id, now)
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
	return &Principal{
		Subject:   s.Subject,
		SessionID: s.ID,
		Type:      Refresh,
		Fresh:     false,
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
	if err := a.call(ctx, func(ctx context.Context) error { return a.store.Revoke(ctx, s.Subject, s.ID) }); err != nil {
		return nil, nil, nil, err
	}
	a.emit(ctx, Event{Kind: EventReuse, Time: now, Subject: s.Subject, SessionID: s.ID, Err: ErrRefreshReused})
	return nil, nil, nil, ErrRefreshReused
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
		e.Subject, e.SessionID = p.Subject, p.SessionID
	case errors.As(err, &ne):
		e.Subject, e.SessionID = ne.subject, ne.session
	}
	return e
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
func (a *Auth) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
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
	refreshSecret, refreshHash := token.NewSecret()
	r := store.Rotation{
		Old:         hash,
		RefreshHash: refreshHash,
		IdleUntil:   earliest(now.Add(cfg.RefreshTTL.D()), s.ExpiresAt),
		KeepSpent:   cfg.KeepSpent,
	}
	var accessSecret string
	if !a.accessJWT {
		accessSecret, r.SecretHash = token.NewSecret()
		r.AccessExpiresAt = earliest(now.Add(cfg.AccessTTL.D()), s.ExpiresAt)
	}
	err = a.call(ctx, func(ctx context.Context) error { return a.store.Rotate(ctx, s.ID, r, now) })
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
	a.emit(ctx, Event{Kind: EventRefresh, Time: now, Subject: s.Subject, SessionID: s.ID})
	return t, nil
}

// touch records a use of s when the last recorded one is older than the
// touch interval; most requests write nothing.
func (a *Auth) touch(ctx context.Context, s *store.Session, now time.Time) error {
	every := a.cfg.TouchInterval.D()
	if now.Sub(s.LastUsedAt) < every {
		return nil
	}
	err := a.call(ctx, func(ctx context.Context) error {
		return a.store.Touch(ctx, s.ID, now, a.cfg.RefreshTTL.D(), every)
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrTokenRevoked
	}
	return err
}

// get reads a session; store.ErrNotFound passes through, other failures
// become ErrUnavailable.
func (a *Auth) get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	s, err := storeCall(ctx, a, func(ctx context.Context) (*store.Session, error) { return a.store.Get(ctx, id, now) })
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, a.storeBroken("Get returned neither a session nor an error")
	}
	return s, nil
}

// storePanic is the error for a store call that panicked. Only the
// panic's type and, for runtime errors, their message are kept: a store's
// own panic value could quote what it was handed.
func storePanic(r any) error {
	if re, ok := r.(runtime.Error); ok {
		return fmt.Errorf("store: panic: %w", re)
	}
	return fmt.Errorf("store: panic with a %T", r)
}

// storeBroken reports a store that broke its contract, failing closed.
func (a *Auth) storeBroken(what string) error {
	err := fmt.Errorf("%w: store: %s", ErrUnavailable, what)
	a.emit(context.Background(), Event{Kind: EventStoreFailure, Err: err})
	return err
}

// call runs one store operation under the store timeout (see storeCall).
func (a *Auth) call(ctx context.Context, op func(context.Context) error) error {
	_, err := storeCall(ctx, a, func(ctx context.Context) (struct{}, error) { return struct{}{}, op(ctx) })
	return err
}

// storeCall runs one store operation under the store timeout and returns
// its result. The store's ErrNotFound and ErrConflict pass through;
// anything else is reported and returned as ErrUnavailable, so callers
// fail closed.
//
// The answer never waits past the timeout, even for a store that ignores
// its context: lib/pq, for one, keeps reading a connection whose server
// stopped answering until TCP gives up, minutes later. Unless the store is
// store.Bounded, op runs in its own goroutine, and at the timeout it is
// abandoned: it runs on until the store returns, and its result is
// dropped. Only what op returns, never what it writes elsewhere, reaches
// the caller. A store that panics is a failure too, logged with its stack.
func storeCall[T any](ctx context.Context, a *Auth, op func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.StoreTimeout.D())
	defer cancel()
	var res storeResult[T]
	if a.storeBounded {
		res = runStore(ctx, a, op)
	} else {
		done := make(chan storeResult[T], 1)
		go func() { done <- runStore(ctx, a, op) }()
		select {
		case res = <-done:
		case <-ctx.Done():
			select {
			case res = <-done: // it answered at the deadline: that answer stands
			default:
				res.err = fmt.Errorf("store: call abandoned: %w", ctx.Err())
			}
		}
	}
	if res.err == nil || errors.Is(res.err, store.ErrNotFound) || errors.Is(res.err, store.ErrConflict) {
		return res.v, res.err
	}
	err := fmt.Errorf("%w: %w", ErrUnavailable, res.err)
	a.emit(ctx, Event{Kind: EventStoreFailure, Err: err})
	var zero T
	return zero, err
}

// storeResult is what a store operation returned.
type storeResult[T any] struct {
	v   T
	err error
}

// runStore runs op, turning a panic into an error and logging its stack.
func runStore[T any](ctx context.Context, a *Auth, op func(context.Context) (T, error)) (res storeResult[T]) {
	defer func() {
		if r := recover(); r != nil {
			if a.log != nil {
				a.log.Error("latch: store panicked", "stack", string(debug.Stack()))
			}
			res = storeResult[T]{err: storePanic(r)}
		}
	}()
	res.v, res.err = op(ctx)
	return res
}

// Logout ends the session p came from.
func (a *Auth) Logout(ctx context.Context, p *Principal) error {
	if p == nil || p.SessionID == "" {
		return ErrNoToken
	}
	if err := a.call(ctx, func(ctx context.Context) error { return a.store.Revoke(ctx, p.Subject, p.SessionID) }); err != nil {
		return err
	}
	a.emit(ctx, Event{Kind: EventLogout, Subject: p.Subject, SessionID: p.SessionID})
	return nil
}

// Revoke ends the session of tok, an access or a refresh token, if it is
// valid; an invalid token is ErrInvalidToken (or a refinement) and ends
// nothing. A spent refresh token ends its session through reuse detection.
// It is the logic behind RevocationHandler.
func (a *Auth) Revoke(ctx context.Context, tok string) error {
	// The session ends: no use of it is recorded.
	p, _, err := a.verifyUnused(ctx, tok, Access, false)
	if errors.Is(err, ErrWrongTokenType) || errors.Is(err, ErrMalformedToken) {
		p, err = a.Verify(ctx, tok, Refresh)
	}
	if err != nil {
		return err
	}
	return a.Logout(ctx, p)
}

// Sessions lists subject's live sessions, newest first. The one whose id
// is current is marked Current.
func (a *Auth) Sessions(ctx context.Context, subject, current string) ([]SessionInfo, error) {
	now := a.now()
	list, err := storeCall(ctx, a, func(ctx context.Context) ([]store.Session, error) { return a.store.List(ctx, subject, now) })
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, len(list))
	for i, s := range list {
		out[i] = SessionInfo{
			ID: s.ID, Device: s.Device, CreatedAt: s.CreatedAt, LastUsedAt: s.LastUsedAt,
			ExpiresAt: earliest(s.IdleUntil, s.ExpiresAt), Current: s.ID == current,
		}
	}
	return out, nil
}

// RevokeSession ends subject's session id. A session that does not exist
// or belongs to another subject is ErrSessionNotFound, and nothing changes.
func (a *Auth) RevokeSession(ctx context.Context, subject, id string) error {
	now := a.now()
	s, err := a.get(ctx, id, now)
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && s.Subject != subject:
		return ErrSessionNotFound
	case err != nil:
		return err
	}
	if err := a.call(ctx, func(ctx context.Context) error { return a.store.Revoke(ctx, subject, id) }); err != nil {
		return err
	}
	a.emit(ctx, Event{Kind: EventRevoke, Time: now, Subject: subject, SessionID: id})
	return nil
}

// RevokeAll ends every session of subject, as after a password change or
// when an account is disabled. It returns how many ended.
func (a *Auth) RevokeAll(ctx context.Context, subject string) (int, error) {
	return a.revokeSubject(ctx, subject, "")
}

// RevokeOthers ends every session of p's subject except p's own.
//
// p's own session must be live: a stateless JWT from a session that was
// already revoked cannot end the others.
func (a *Auth) RevokeOthers(ctx context.Context, p *Principal) (int, error) {
	if p == nil || p.SessionID == "" {
		return 0, ErrNoToken
	}
	s, err := a.get(ctx, p.SessionID, a.now())
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && s.Subject != p.Subject:
		return 0, ErrTokenRevoked
	case err != nil:
		return 0, err
	}
	return a.revokeSubject(ctx, p.Subject, p.SessionID)
}

func (a *Auth) revokeSubject(ctx context.Context, subject, keep string) (int, error) {
	n, err := storeCall(ctx, a, func(ctx context.Context) (int, error) { return a.store.RevokeSubject(ctx, subject, keep) })
	if err != nil {
		return 0, err
	}
	a.emit(ctx, Event{Kind: EventRevokeAll, Subject: subject, SessionID: keep, Count: n})
	return n, nil
}

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
