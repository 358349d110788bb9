package latch

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Introspect reports whether tok is an active access or refresh token and,
// if it is, whose: the logic behind IntrospectionHandler (RFC 7662). It is
// authoritative in every mode: the session of a JWT access token is read
// even without Config.SessionCheck, so a token whose session has ended is
// inactive at once, and the user loader must still find the subject.
//
// An inactive token is a nil principal with the reason (ErrInvalidToken or
// a refinement, ErrUserNotFound); a store failure is ErrUnavailable. Like
// any verification, it counts as a use of the session (idle timeout), and
// a spent refresh token ends its session (reuse detection).
func (a *Auth) Introspect(ctx context.Context, tok string) (*Principal, error) {
	p, err := a.verify(ctx, tok, Access, true)
	if errors.Is(err, ErrWrongTokenType) || errors.Is(err, ErrMalformedToken) {
		p, err = a.Verify(ctx, tok, Refresh)
	}
	if err != nil {
		return nil, err
	}
	if _, err := a.lookupUser(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// IntrospectionHandler serves RFC 7662 token introspection, for services
// that hold a latch token and cannot check it themselves (another
// language, no access to the store): POST token=<access or refresh token>
// answers 200 with {"active": false} for any token that is not active, and
// for an active one {"active": true, "token_type": "access_token" or
// "refresh_token", "sub", "sid", "exp", "iat" and "jti" when known, "fresh"
// for access tokens, and the application's claims}. token_type_hint is
// ignored (§2.1 allows it): both types are tried.
//
// RFC 7662 §2.1 requires the caller to be authorized, or the endpoint
// would let anyone test stolen or guessed tokens, so authorize is
// mandatory (a nil one panics): it runs before the body is read and lets
// the request through by returning nil. BasicClient checks one client's
// HTTP Basic credentials; a function of your own can check mTLS, a
// network or a latch guard's principal. A refusal that is one of latch's
// errors (ErrInvalidClient, Forbidden) is answered as such; any other is
// ErrInvalidClient.
//
// A missing token is 400 invalid_request, a store failure 503: the caller
// cannot tell, so it must not treat the token as active.
func (a *Auth) IntrospectionHandler(authorize func(*http.Request) error) http.Handler {
	if authorize == nil {
		panic("latch: IntrospectionHandler needs an authorize function (RFC 7662 §2.1), for example latch.BasicClient")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.postOnly(w, r) {
			return
		}
		if err := authorize(r); err != nil {
			if kindOf(err) == nil {
				err = fmt.Errorf("%w: %w", ErrInvalidClient, err)
			}
			a.WriteError(w, r, err)
			return
		}
		tok, ok := a.formToken(w, r)
		if !ok {
			return
		}
		p, err := a.Introspect(r.Context(), tok)
		if errors.Is(err, ErrUnavailable) {
			a.WriteError(w, r, err)
			return
		}
		WriteJSON(w, http.StatusOK, introspection(p))
	})
}

// introspection is the RFC 7662 §2.2 answer for p, nil meaning inactive.
// The application's claims come first, so that none can overwrite what
// latch states; "active" and "token_type" are not reserved claim names,
// and a claim by those names is left out rather than shown.
func introspection(p *Principal) map[string]any {
	if p == nil {
		return map[string]any{"active": false}
	}
	out := make(map[string]any, len(p.Claims)+8)
	for k, v := range p.Claims {
		out[k] = v
	}
	out["active"] = true
	out["sub"] = p.Subject
	out["sid"] = p.SessionID
	if p.Type == Access {
		out["token_type"] = "access_token"
		out["fresh"] = p.Fresh
	} else {
		out["token_type"] = "refresh_token"
	}
	if !p.ExpiresAt.IsZero() {
		out["exp"] = p.ExpiresAt.Unix()
	}
	if !p.IssuedAt.IsZero() {
		out["iat"] = p.IssuedAt.Unix()
	}
	if p.TokenID != "" {
		out["jti"] = p.TokenID
	}
	return out
}

// BasicClient returns an authorize function for IntrospectionHandler that
// lets through requests with HTTP Basic credentials (RFC 6749 §2.3.1:
// each part form-encoded, then base64) naming id and secret. Both are
// compared in constant time, through their SHA-256, so neither their
// contents nor their lengths show in the timing. A refusal is
// ErrInvalidClient: 401 with a Basic challenge.
//
// The secret must be at least 32 bytes (make it random, like a JWT key):
// BasicClient panics on a shorter one or an empty id.
func BasicClient(id, secret string) func(*http.Request) error {
	if id == "" || len(secret) < 32 {
		panic("latch: BasicClient needs a client id and a secret of at least 32 bytes")
	}
	wantID, wantSecret := sha256.Sum256([]byte(id)), sha256.Sum256([]byte(secret))
	return func(r *http.Request) error {
		gotID, gotSecret, ok := r.BasicAuth()
		if !ok {
			return fmt.Errorf("%w: no Basic credentials", ErrInvalidClient)
		}
		// Each part is compared form-decoded, as RFC 6749 sends it, and as
		// sent, for the many clients that skip the encoding; both always.
		match := basicPartMatches(gotID, wantID) & basicPartMatches(gotSecret, wantSecret)
		if match != 1 {
			return fmt.Errorf("%w: wrong client credentials", ErrInvalidClient)
		}
		return nil
	}
}

// basicPartMatches reports 1 when part, form-decoded or as it is, has the
// SHA-256 want, in time independent of where it differs.
func basicPartMatches(part string, want [sha256.Size]byte) int {
	decoded, err := url.QueryUnescape(part)
	if err != nil {
		decoded = part
	}
	raw, dec := sha256.Sum256([]byte(part)), sha256.Sum256([]byte(decoded))
	return secretCompare(raw[:], want[:]) | secretCompare(dec[:], want[:])
}
