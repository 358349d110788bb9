package latchhttp

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchauth/latch"
)

// IntrospectionHandler serves RFC 7662 token introspection, for services
// that receive latch access tokens and cannot check them themselves
// (another language, no access to the store): POST token=<access token>
// answers 200 with {"active": false} for anything that is not an active
// access token, and otherwise
// with {"active": true, "token_type": "Bearer", "sub", "sid", "exp",
// "fresh", "iat" and "jti" for JWTs, and the application's claims}.
// token_type_hint is ignored (§2.1 allows it).
//
// The answer is authoritative in every mode: it comes from
// latch.Auth.Authenticate with SessionCheck, so a JWT whose session has
// ended is inactive at once, and the user loader must still find the
// subject; an active answer counts as a use of the session (idle
// timeout). A refresh token is never active: it cannot be used at a
// resource server (RFC 7662 §4), and a service that only reads "active"
// must not take a month-long refresh token for a bearer token.
//
// RFC 7662 §2.1 requires the caller to be authorized, or the endpoint
// would let anyone test stolen or guessed tokens, so authorize is
// mandatory (a nil one panics). It runs first, with the body already
// bounded by Config.MaxBodyBytes, and lets the request through by
// returning nil. It should authenticate the one service, or few, that may
// ask: BasicClient checks a client's HTTP Basic credentials; a function of
// your own can check an mTLS client certificate. A refusal that is one of
// latch's errors (latch.ErrInvalidClient, Forbidden) is answered as such; any
// other is latch.ErrInvalidClient. Refused callers and inactive tokens are
// reported to the event hook as failures, for rate limiting.
//
// A missing or repeated token parameter is 400 invalid_request, a store
// failure 503: the caller cannot tell, so it must not treat the token as
// active. Error bodies are latch's ({"msg": ...}); WithResponder turns
// them into RFC 6749 §5.2 ones if a client needs those.
func (a *Auth) IntrospectionHandler(authorize func(*http.Request) error) http.Handler {
	if authorize == nil {
		panic("latchhttp: IntrospectionHandler needs an authorize function (RFC 7662 §2.1), for example latchhttp.BasicClient")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.postOnly(w, r) {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes)
		if err := authorize(r); err != nil {
			if latch.Kind(err) == nil {
				err = fmt.Errorf("%w: %w", latch.ErrInvalidClient, err)
			}
			a.core.ReportFailure(r.Context(), err, nil)
			a.WriteError(w, r, err)
			return
		}
		tok, ok := a.formToken(w, r)
		if !ok {
			return
		}
		// Reported as a failure by the core when the token is inactive.
		p, err := a.core.Authenticate(r.Context(), tok, latch.Requirement{SessionCheck: true})
		if errors.Is(err, latch.ErrUnavailable) {
			a.WriteError(w, r, err)
			return
		}
		WriteJSON(w, http.StatusOK, introspection(p))
	})
}

// introspection is the RFC 7662 §2.2 answer for p, an access token's
// principal; nil means inactive. The application's claims come first, so
// that none can overwrite what latch states, and a claim whose name is one
// of latch's in another letter case ("Active", "TOKEN_TYPE") is left out,
// so that no reader that folds case can be misled. Other names RFC 7662
// registers (scope, client_id, username) are the application's to give.
func introspection(p *latch.Principal) map[string]any {
	if p == nil {
		return map[string]any{"active": false}
	}
	out := make(map[string]any, len(p.Claims)+8)
	for k, v := range p.Claims {
		if !introspectionNames[strings.ToLower(k)] {
			out[k] = v
		}
	}
	out["active"] = true
	out["token_type"] = "Bearer" // RFC 6749 §5.1, as §2.2 asks
	out["sub"] = p.Subject
	out["sid"] = p.SessionID
	out["fresh"] = p.Fresh
	out["exp"] = p.ExpiresAt.Unix()
	if !p.IssuedAt.IsZero() {
		out["iat"] = p.IssuedAt.Unix()
	}
	if p.TokenID != "" {
		out["jti"] = p.TokenID
	}
	return out
}

// introspectionNames are the members latch writes in an introspection
// answer, lower-cased.
var introspectionNames = map[string]bool{
	"active": true, "token_type": true, "sub": true, "sid": true, "fresh": true, "exp": true, "iat": true, "jti": true,
}

// BasicClient returns an authorize function for IntrospectionHandler that
// lets through requests with HTTP Basic credentials (RFC 6749 §2.3.1:
// each part form-encoded, then base64) naming id and secret. Both are
// compared in constant time, through their SHA-256, so neither their
// contents nor their lengths show in the timing. A refusal is
// latch.ErrInvalidClient: 401 with a Basic challenge.
//
// The secret must be at least 32 bytes (make it random, like a JWT key):
// BasicClient panics on a shorter one or an empty id.
func BasicClient(id, secret string) func(*http.Request) error {
	if id == "" || len(secret) < 32 {
		panic("latchhttp: BasicClient needs a client id and a secret of at least 32 bytes")
	}
	wantID, wantSecret := sha256.Sum256([]byte(id)), sha256.Sum256([]byte(secret))
	return func(r *http.Request) error {
		gotID, gotSecret, ok := r.BasicAuth()
		if !ok {
			return fmt.Errorf("%w: no Basic credentials", latch.ErrInvalidClient)
		}
		// Each part is compared form-decoded, as RFC 6749 sends it, and as
		// sent, for the many clients that skip the encoding; both always.
		match := basicPartMatches(gotID, wantID) & basicPartMatches(gotSecret, wantSecret)
		if match != 1 {
			return fmt.Errorf("%w: wrong client credentials", latch.ErrInvalidClient)
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
