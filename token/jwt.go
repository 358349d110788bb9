package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Errors of the JWT layer, to be tested with errors.Is. Messages never hold
// the token, a key or a secret. Keyring.Verify checks, in this order: size
// and shape, the header, the kid, the alg, the signature, then the payload
// and the claims. So a forged token is ErrSignature, or ErrMalformed or
// ErrUnknownKey for what is checked before any key is used (or for a
// signature that is not strict base64url); ErrExpired, ErrNotYetValid and
// ErrClaims are only ever reported for tokens whose signature verified.
var (
	// ErrMalformed: not a well-formed token: over 8192 bytes, wrong
	// segment count, bad base64url (strict), a header that is not a JSON
	// object or whose alg or kid is not a string; or, once the signature
	// verified, a payload that is not UTF-8 JSON (RFC 8725 §3.7), a claim
	// of the wrong type or out of range, or a missing sub or exp.
	ErrMalformed = errors.New("token: malformed")
	// ErrUnknownKey: the kid header is missing or names no key of the ring.
	ErrUnknownKey = errors.New("token: unknown key")
	// ErrSignature: the alg header is not the algorithm of the key the kid
	// names (including "none"), or the signature does not verify.
	ErrSignature = errors.New("token: invalid signature")
	// ErrExpired: exp has passed, leeway included.
	ErrExpired = errors.New("token: expired")
	// ErrNotYetValid: nbf or iat is in the future, leeway included.
	ErrNotYetValid = errors.New("token: not yet valid")
	// ErrClaims: the header has "crit" (latch implements no JWS extension,
	// RFC 7515 §4.1.11), or iss or aud is absent or differs from what
	// VerifyOptions requires.
	ErrClaims = errors.New("token: invalid claims")
	// ErrWeakKey: a key or secret refused at construction.
	ErrWeakKey = errors.New("token: key refused")
)

// Errors returned as they are, so rejecting garbage allocates nothing.
var (
	errJWTTooLong     = fmt.Errorf("%w: longer than %d bytes", ErrMalformed, jwsMaxSize)
	errJWTShape       = fmt.Errorf("%w: not three base64url segments", ErrMalformed)
	errJWTHeader      = fmt.Errorf("%w: header is not a base64url JSON object with string alg and kid", ErrMalformed)
	errJWTSigEncoding = fmt.Errorf("%w: signature is not base64url", ErrMalformed)
	errJWTEncoding    = fmt.Errorf("%w: bad base64url or JSON", ErrMalformed)
	errJWTUTF8        = fmt.Errorf("%w: claims are not UTF-8", ErrMalformed)
	errJWTNotObject   = fmt.Errorf("%w: claims are not a JSON object", ErrMalformed)
	errJWTNumber      = fmt.Errorf("%w: claims hold a number beyond float64", ErrMalformed)
	errJWTNoKid       = fmt.Errorf("%w: no kid header", ErrUnknownKey)
	errJWTKid         = fmt.Errorf("%w: kid names no key of the keyring", ErrUnknownKey)
	errJWTAlg         = fmt.Errorf("%w: alg header is not the key's algorithm", ErrSignature)
	errJWTCrit        = fmt.Errorf("%w: crit header names extensions latch does not implement", ErrClaims)
	errJWTIssuer      = fmt.Errorf("%w: iss is absent or not the expected issuer", ErrClaims)
	errJWTAudience    = fmt.Errorf("%w: aud is absent or does not name this audience", ErrClaims)
	errJWTRequired    = fmt.Errorf("%w: iss or aud is absent", ErrClaims)
)

// VerifyOptions tune Keyring.Verify.
type VerifyOptions struct {
	Now      time.Time     // the verification time; zero means time.Now()
	Leeway   time.Duration // clock skew allowed on exp, nbf and iat
	Issuer   string        // when non-empty, iss must equal it
	Audience string        // when non-empty, aud must contain it
}

// Sign returns a JWT of c signed by the ring's signing key (the newest key
// that can sign), with header alg (that key's), typ "JWT" and kid. Subject
// and ExpiresAt are required, times must lie in years 1970 to 9999, and
// the token must fit in 8192 bytes; otherwise the error is ErrMalformed.
func (r *Keyring) Sign(c *Claims) (string, error) {
	s := r.snap.Load()
	if s == nil || s.signer == nil {
		return "", fmt.Errorf("%w: keyring has no signing key", ErrUnknownKey)
	}
	m, err := c.jwtToMap()
	if err != nil {
		return "", err
	}
	k := s.signer
	tok, err := k.jwtNew(m).SignedString(k.signKey)
	if err != nil {
		var unsupported *json.UnsupportedTypeError
		var unsupportedValue *json.UnsupportedValueError
		if errors.As(err, &unsupported) || errors.As(err, &unsupportedValue) {
			return "", fmt.Errorf("%w: Extra holds a value JSON cannot encode", ErrMalformed)
		}
		return "", fmt.Errorf("token: signing failed: %w", err)
	}
	if len(tok) > jwsMaxSize {
		return "", fmt.Errorf("%w: signed token would exceed %d bytes", ErrMalformed, jwsMaxSize)
	}
	return tok, nil
}

// jwtPayloadBuf is the size of Verify's buffer for the payload, on its
// stack: the claims latch issues fit; a longer payload gets the heap.
const jwtPayloadBuf = 1024

// Verify checks tok and returns its claims. The kid header selects the
// key and the key alone fixes the algorithm. The steps, in order, each
// refusing the token with the error named:
//
//  1. size (8192 bytes at most) and shape: three base64url segments
//     (ErrMalformed);
//  2. the header: a JSON object whose "alg" and "kid" members, names
//     matched exactly, are strings if present (ErrMalformed);
//  3. the kid: present and naming a key of the ring (ErrUnknownKey);
//  4. the alg header: the key's algorithm (ErrSignature);
//  5. the signature: strict base64url (ErrMalformed) that verifies with
//     the key (ErrSignature);
//  6. a crit header, of any value (ErrClaims);
//  7. the payload, now authentic: strict base64url, UTF-8 and a JSON
//     object (ErrMalformed);
//  8. the claims: a non-empty sub and exp present, every registered claim
//     of its type (ErrMalformed); iss and aud as o requires (ErrClaims);
//     exp not passed (ErrExpired); nbf and iat not in the future
//     (ErrNotYetValid), leeway included.
//
// Nothing in the payload is decoded before the signature verified, so a
// forged token costs the same whatever it claims. When "fresh" is a
// deadline, Claims.Fresh tells whether the verification time is before it.
func (r *Keyring) Verify(tok string, o VerifyOptions) (*Claims, error) {
	s := r.snap.Load()
	if s == nil {
		s = keyEmptySnapshot
	}
	var j jws
	if err := j.parse(tok, s.headers); err != nil {
		return nil, err
	}
	k, err := s.jwsKey(&j)
	if err != nil {
		return nil, err
	}
	var buf [jwtPayloadBuf]byte
	payload, err := k.verifyJWS(&j, buf[:0])
	if err != nil {
		return nil, err
	}
	c, err := jwtDecodeClaims(payload)
	if err != nil {
		return nil, err
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	if err := c.jwtCheck(now, &o); err != nil {
		return nil, err
	}
	if !c.FreshUntil.IsZero() {
		c.Fresh = now.Before(c.FreshUntil)
	}
	return c, nil
}

// jwtNew returns an unsigned JWT of claims with the header Sign writes
// for k: alg, kid and golang-jwt's typ "JWT".
func (k *Key) jwtNew(claims jwt.Claims) *jwt.Token {
	t := jwt.NewWithClaims(k.method, claims)
	t.Header["kid"] = k.id
	return t
}

// jwsKey returns the usable key of s that j's kid header names.
func (s *keySnapshot) jwsKey(j *jws) (*Key, error) {
	if j.kid == "" {
		return nil, errJWTNoKid
	}
	k := s.byID[j.kid]
	if !k.usable() {
		return nil, errJWTKid
	}
	return k, nil
}
