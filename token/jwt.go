package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Errors of the JWT layer, to be tested with errors.Is. Messages never hold
// the token, a key or a secret. ErrExpired, ErrNotYetValid and the
// claim-related ErrClaims are only reported for tokens whose signature
// verified; a forged token is ErrSignature (or ErrMalformed or
// ErrUnknownKey before any key is used).
var (
	// ErrMalformed: not a well-formed token: wrong segment count, bad
	// base64url (strict), bad JSON, over 8192 bytes, a claim of the wrong
	// type or out of range, or a missing sub or exp.
	ErrMalformed = errors.New("token: malformed")
	// ErrUnknownKey: the kid header is missing or names no key of the ring.
	ErrUnknownKey = errors.New("token: unknown key")
	// ErrSignature: the signature does not verify, or the alg header is not
	// the algorithm of the key the kid names (including "none").
	ErrSignature = errors.New("token: invalid signature")
	// ErrExpired: exp has passed, leeway included.
	ErrExpired = errors.New("token: expired")
	// ErrNotYetValid: nbf or iat is in the future, leeway included.
	ErrNotYetValid = errors.New("token: not yet valid")
	// ErrClaims: iss or aud is absent or differs from what VerifyOptions
	// requires, or the header has "crit" (latch implements no JWS
	// extension, RFC 7515 §4.1.11).
	ErrClaims = errors.New("token: invalid claims")
	// ErrWeakKey: a key or secret refused at construction.
	ErrWeakKey = errors.New("token: key refused")
)

// jwtMaxSize bounds the work an unauthenticated token can cause.
const jwtMaxSize = 8192

// Errors returned as they are, so rejecting garbage allocates nothing.
var (
	jwtErrTooLong  = fmt.Errorf("%w: longer than %d bytes", ErrMalformed, jwtMaxSize)
	jwtErrShape    = fmt.Errorf("%w: not three base64url segments", ErrMalformed)
	jwtErrHeader   = fmt.Errorf("%w: header is not a base64url JSON object", ErrMalformed)
	jwtErrEncoding = fmt.Errorf("%w: bad base64url or JSON", ErrMalformed)
	jwtErrNoKid    = fmt.Errorf("%w: no kid header", ErrUnknownKey)
	jwtErrKid      = fmt.Errorf("%w: kid names no key of the keyring", ErrUnknownKey)
	jwtErrAlg      = fmt.Errorf("%w: alg header is not the key's algorithm", ErrSignature)
	jwtErrIssuer   = fmt.Errorf("%w: iss is absent or not the expected issuer", ErrClaims)
	jwtErrAudience = fmt.Errorf("%w: aud is absent or does not name this audience", ErrClaims)
	jwtErrRequired = fmt.Errorf("%w: iss or aud is absent", ErrClaims)
)

// VerifyOptions tune Keyring.Verify.
type VerifyOptions struct {
	Now      time.Time     // the verification time; zero means time.Now()
	Leeway   time.Duration // clock skew allowed on exp, nbf and iat
	Issuer   string        // when non-empty, iss must equal it
	Audience string        // when non-empty, aud must contain it
}

// jwtB64 decodes base64url strictly: no padding, zero trailing bits.
var jwtB64 = base64.RawURLEncoding.Strict()

// jwtHeader is what Verify reads from a header before choosing a key.
// jku, x5u, x5c and jwk are never read: keys come from the keyring only.
type jwtHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// jwtCheckShape checks that tok is at most jwtMaxSize bytes of base64url
// characters with exactly two dots. It allocates nothing and stops at the
// first bad byte, so garbage such as 100,000 dots costs O(1). Refusing
// every other byte also refuses padding, the standard alphabet and the
// CR/LF that Go's base64 decoder skips, so one token has one spelling.
func jwtCheckShape(tok string) error {
	if len(tok) > jwtMaxSize {
		return jwtErrTooLong
	}
	dots := 0
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.':
			if dots++; dots > 2 {
				return jwtErrShape
			}
		default:
			return jwtErrShape
		}
	}
	if dots != 2 {
		return jwtErrShape
	}
	return nil
}

// jwtReadHeader decodes the header segment of a well-shaped token.
func jwtReadHeader(tok string) (jwtHeader, error) {
	var h jwtHeader
	end := 0
	for tok[end] != '.' {
		end++
	}
	raw, err := jwtB64.DecodeString(tok[:end])
	if err != nil {
		return h, jwtErrHeader
	}
	// A struct decode matches member names regardless of case ("KID" sets
	// Kid). That cannot make a token verify: the key comes from the ring,
	// and golang-jwt checks the exact "alg" member against its algorithm.
	if trimmed := bytes.TrimLeft(raw, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return h, jwtErrHeader
	}
	if json.Unmarshal(raw, &h) != nil {
		return h, jwtErrHeader
	}
	return h, nil
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
	t := jwt.NewWithClaims(k.method, m)
	t.Header["kid"] = k.id
	tok, err := t.SignedString(k.signKey)
	if err != nil {
		var unsupported *json.UnsupportedTypeError
		var unsupportedValue *json.UnsupportedValueError
		if errors.As(err, &unsupported) || errors.As(err, &unsupportedValue) {
			return "", fmt.Errorf("%w: Extra holds a value JSON cannot encode", ErrMalformed)
		}
		return "", fmt.Errorf("token: signing failed: %w", err)
	}
	if len(tok) > jwtMaxSize {
		return "", fmt.Errorf("%w: signed token would exceed %d bytes", ErrMalformed, jwtMaxSize)
	}
	return tok, nil
}

// Verify checks tok and returns its claims. The kid header selects the
// key and the key alone fixes the algorithm: an alg header naming any
// other algorithm is ErrSignature. The signature is checked before any
// claim: ErrExpired, ErrNotYetValid and ErrClaims (iss, aud) only ever
// describe authentic tokens. exp and a non-empty sub are required; iat
// and nbf may not lie in the future. When "fresh" is a deadline, Claims.Fresh tells whether the
// verification time is before it.
func (r *Keyring) Verify(tok string, o VerifyOptions) (*Claims, error) {
	if err := jwtCheckShape(tok); err != nil {
		return nil, err
	}
	h, err := jwtReadHeader(tok)
	if err != nil {
		return nil, err
	}
	if h.Kid == "" {
		return nil, jwtErrNoKid
	}
	s := r.snap.Load()
	if s == nil {
		return nil, jwtErrKid
	}
	k := s.byID[h.Kid]
	if !k.usable() {
		return nil, jwtErrKid
	}
	if h.Alg != k.alg {
		return nil, jwtErrAlg
	}

	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	opts := make([]jwt.ParserOption, 0, 8)
	opts = append(opts,
		jwt.WithValidMethods(k.methods),
		jwt.WithStrictDecoding(),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(o.Leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if o.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(o.Issuer))
	}
	if o.Audience != "" {
		opts = append(opts, jwt.WithAudience(o.Audience))
	}
	j := &jwtClaims{crit: h.Crit != nil}
	_, err = jwt.NewParser(opts...).ParseWithClaims(tok, j, func(*jwt.Token) (any, error) {
		return k.verifyKey, nil
	})
	if err != nil {
		return nil, jwtMapError(err, j)
	}
	c := j.c
	if !c.FreshUntil.IsZero() {
		c.Fresh = now.Before(c.FreshUntil)
	}
	return &c, nil
}

// jwtMapError turns a golang-jwt error into one of ours, in order of
// precedence: signature, structure, then the claim checks that ran only
// after the signature verified. golang-jwt's text is dropped: it can quote
// the alg header, which the sender chose.
func jwtMapError(err error, j *jwtClaims) error {
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return ErrSignature
	case errors.Is(err, jwt.ErrTokenMalformed):
		return jwtErrEncoding
	case !errors.Is(err, jwt.ErrTokenInvalidClaims):
		return jwtErrEncoding // not reached with golang-jwt v5.3.1
	}
	if verr := j.Validate(); verr != nil {
		return verr // malformed claims, then crit
	}
	switch {
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return jwtErrIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return jwtErrAudience
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		// exp and sub are checked by jwtClaims, so this is iss or aud.
		return jwtErrRequired
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ErrNotYetValid
	}
	return jwtErrEncoding
}
