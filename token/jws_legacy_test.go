package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// legacyClaims is the jwt.Claims type the golang-jwt based Verify used.
type legacyClaims struct {
	c       Claims
	err     error
	crit    bool
	decoded bool
}

func (j *legacyClaims) UnmarshalJSON(b []byte) error {
	j.decoded = true
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		j.err = errJWTNotObject
		return nil
	}
	j.err = legacyFromMap(&j.c, m)
	return nil
}

func (j *legacyClaims) Validate() error {
	switch {
	case !j.decoded:
		return errJWTNotObject
	case j.err != nil:
		return j.err
	case j.crit:
		return errJWTCrit
	}
	return nil
}

func legacyDate(t time.Time) *jwt.NumericDate {
	if t.IsZero() {
		return nil
	}
	return &jwt.NumericDate{Time: t}
}

func (j *legacyClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return legacyDate(j.c.ExpiresAt), nil
}
func (j *legacyClaims) GetIssuedAt() (*jwt.NumericDate, error) { return legacyDate(j.c.IssuedAt), nil }
func (j *legacyClaims) GetNotBefore() (*jwt.NumericDate, error) {
	return legacyDate(j.c.NotBefore), nil
}
func (j *legacyClaims) GetIssuer() (string, error)             { return j.c.Issuer, nil }
func (j *legacyClaims) GetSubject() (string, error)            { return j.c.Subject, nil }
func (j *legacyClaims) GetAudience() (jwt.ClaimStrings, error) { return j.c.Audience, nil }

// legacyHeader is the header type the golang-jwt based Verify decoded.
type legacyHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// legacyVerify is Keyring.Verify as golang-jwt v5.3.1 did it for latch.
func legacyVerify(r *Keyring, tok string, o VerifyOptions) (*Claims, error) {
	if len(tok) > jwsMaxSize {
		return nil, errJWTTooLong
	}
	dot1, _, err := jwsCheckShape(tok)
	if err != nil {
		return nil, err
	}
	var h legacyHeader
	raw, err := jwsB64.DecodeString(tok[:dot1])
	if err != nil {
		return nil, errJWTHeader
	}
	if trimmed := bytes.TrimLeft(raw, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errJWTHeader
	}
	if json.Unmarshal(raw, &h) != nil {
		return nil, errJWTHeader
	}
	if h.Kid == "" {
		return nil, errJWTNoKid
	}
	s := r.snap.Load()
	if s == nil {
		return nil, errJWTKid
	}
	k := s.byID[h.Kid]
	if !k.usable() {
		return nil, errJWTKid
	}
	if h.Alg != k.alg {
		return nil, errJWTAlg
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{k.alg}),
		jwt.WithStrictDecoding(),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(o.Leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	}
	if o.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(o.Issuer))
	}
	if o.Audience != "" {
		opts = append(opts, jwt.WithAudience(o.Audience))
	}
	j := &legacyClaims{crit: h.Crit != nil}
	_, err = jwt.NewParser(opts...).ParseWithClaims(tok, j, func(*jwt.Token) (any, error) {
		return k.verifyKey, nil
	})
	if err != nil {
		return nil, legacyMapError(err, j)
	}
	c := j.c
	if !c.FreshUntil.IsZero() {
		c.Fresh = now.Before(c.FreshUntil)
	}
	return &c, nil
}

func legacyMapError(err error, j *legacyClaims) error {
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return ErrSignature
	case errors.Is(err, jwt.ErrTokenMalformed):
		return errJWTEncoding
	case !errors.Is(err, jwt.ErrTokenInvalidClaims):
		return errJWTEncoding
	}
	if verr := j.Validate(); verr != nil {
		return verr
	}
	switch {
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return errJWTIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return errJWTAudience
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return errJWTRequired
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ErrNotYetValid
	}
	return errJWTEncoding
}

// legacyFromMap is how Verify read the claims until jwtDecodeClaims read
// the payload itself: from json.Unmarshal into map[string]any, taking the
// registered ones out of m; what is left becomes Extra.
func legacyFromMap(c *Claims, m map[string]any) error {
	var err error
	if v, ok := m["sub"]; ok {
		s, isStr := v.(string)
		if !isStr || s == "" {
			return jwtBadClaim("sub", "a non-empty string")
		}
		c.Subject = s
		delete(m, "sub")
	} else {
		return jwtBadClaim("sub", "present")
	}
	if v, ok := m["exp"]; ok {
		if c.ExpiresAt, err = legacyDecodeDate("exp", v); err != nil {
			return err
		}
		delete(m, "exp")
	} else {
		return jwtBadClaim("exp", "present")
	}
	if v, ok := m["iat"]; ok {
		if c.IssuedAt, err = legacyDecodeDate("iat", v); err != nil {
			return err
		}
		delete(m, "iat")
	}
	if v, ok := m["nbf"]; ok {
		if c.NotBefore, err = legacyDecodeDate("nbf", v); err != nil {
			return err
		}
		delete(m, "nbf")
	}
	for _, f := range [...]struct {
		name string
		dst  *string
	}{{"jti", &c.ID}, {"type", &c.Type}, {"sid", &c.SessionID}, {"iss", &c.Issuer}} {
		if v, ok := m[f.name]; ok {
			s, isStr := v.(string)
			if !isStr {
				return jwtBadClaim(f.name, "a string")
			}
			*f.dst = s
			delete(m, f.name)
		}
	}
	if v, ok := m["aud"]; ok {
		switch a := v.(type) {
		case string:
			c.Audience = []string{a}
		case []any:
			if len(a) > 0 {
				c.Audience = make([]string, len(a))
			}
			for i, e := range a {
				s, isStr := e.(string)
				if !isStr {
					return jwtBadClaim("aud", "a string or an array of strings")
				}
				c.Audience[i] = s
			}
		default:
			return jwtBadClaim("aud", "a string or an array of strings")
		}
		delete(m, "aud")
	}
	if v, ok := m["fresh"]; ok {
		switch f := v.(type) {
		case bool:
			c.Fresh = f
		case float64:
			if c.FreshUntil, err = legacyDecodeDate("fresh", v); err != nil {
				return err
			}
		default:
			return jwtBadClaim("fresh", "a boolean or a NumericDate")
		}
		delete(m, "fresh")
	}
	if v, ok := m["act"]; ok {
		if c.Act, err = jwtDecodeAct(v); err != nil {
			return err
		}
		delete(m, "act")
	}
	if len(m) > 0 {
		c.Extra = m
	}
	return nil
}

// legacyDecodeDate checks that v is a JSON number within [0, jwtMaxDate].
func legacyDecodeDate(name string, v any) (time.Time, error) {
	f, ok := v.(float64) // a JSON number; a quoted "123" decodes as a string
	if !ok {
		return time.Time{}, jwtBadDate(name)
	}
	return jwtDate(name, f)
}
