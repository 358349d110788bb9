package token

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the claims of a latch JWT. Times are whole seconds, in UTC
// when returned by Verify.
type Claims struct {
	Subject   string    // "sub": required, non-empty
	IssuedAt  time.Time // "iat": omitted when zero
	NotBefore time.Time // "nbf": omitted when zero
	ExpiresAt time.Time // "exp": required
	ID        string    // "jti"
	Type      string    // "type": "access" or "refresh"; the caller checks it
	Fresh     bool      // "fresh": true for a token issued on a fresh login
	// FreshUntil is set by Verify when "fresh" was a NumericDate deadline;
	// Fresh is then true iff the verification time is before it. Sign
	// writes "fresh" as this deadline when it is non-zero, else as Fresh.
	FreshUntil time.Time
	SessionID  string   // "sid"
	Issuer     string   // "iss"
	Audience   []string // "aud": a string or an array on input; a string when one value on output
	// Act is "act" (RFC 8693 §4.1): who acts for Subject in a delegated
	// session; nil when absent.
	Act *Act
	// Extra holds every other claim as encoding/json decodes it, csrf
	// (which has no field) included. Sign ignores entries named like a
	// reserved claim (sub iat nbf exp jti type fresh sid iss aud csrf act,
	// in any letter case): they cannot be overridden.
	Extra map[string]any
}

// Act is the actor claim of RFC 8693 §4.1: the party acting for the
// token's subject. Verify requires a JSON object with a non-empty string
// "sub" and, if present, a string "sid"; other members, a nested "act"
// (prior actors) among them, are ignored: only the current actor decides
// access (RFC 8693 §4.1).
type Act struct {
	Subject   string // "sub": required, non-empty
	SessionID string // "sid": the actor's own session; omitted when empty
}

// jwtMaxDate is 9999-12-31T23:59:59Z, the largest NumericDate latch
// accepts: later dates only serve to overflow someone's time type.
const jwtMaxDate = 253402300799

// jwtReserved are the claim names Extra can never set.
var jwtReserved = []string{"sub", "iat", "nbf", "exp", "jti", "type", "fresh", "sid", "iss", "aud", "csrf", "act"}

func jwtIsReserved(name string) bool {
	for _, r := range jwtReserved {
		// Case-insensitively: a decoder matching names like encoding/json's
		// struct decoding would read "SUB" as "sub".
		if strings.EqualFold(name, r) {
			return true
		}
	}
	return false
}

// jwtDecodeClaims decodes the claims of a verified payload: UTF-8 (RFC
// 8725 §3.7: encoding/json would turn invalid bytes into U+FFFD, so two
// payloads would read the same), one JSON object, the registered claims
// of their types. Errors are ErrMalformed.
func jwtDecodeClaims(payload []byte) (*Claims, error) {
	if !utf8.Valid(payload) {
		return nil, errJWTUTF8
	}
	// Into an interface, not a map: encoding/json then builds the
	// map[string]any (exact, case-sensitive member names, the last
	// duplicate wins) without reflection, for the same result.
	var v any
	err := json.Unmarshal(payload, &v)
	if _, syntax := err.(*json.SyntaxError); syntax {
		return nil, errJWTEncoding
	}
	m, isObject := v.(map[string]any)
	if err != nil || !isObject { // valid JSON, but not an object of claims
		return nil, errJWTNotObject
	}
	c := new(Claims)
	if err := c.jwtFromMap(m); err != nil {
		return nil, err
	}
	return c, nil
}

// jwtCheck checks the registered claims against o at now and reports, in
// this order: iss (wrong), aud (wrong), iss or aud (absent when
// required), exp, then nbf and iat. These are the checks and the
// precedence golang-jwt's validator had with the options Verify gave it
// (WithExpirationRequired, WithIssuedAt, WithLeeway, WithIssuer,
// WithAudience); TestVerifyMatchesGolangJWT holds them equal.
func (c *Claims) jwtCheck(now time.Time, o *VerifyOptions) error {
	var badIssuer, badAudience, missing bool
	if o.Issuer != "" {
		if c.Issuer == "" {
			missing = true
		} else if c.Issuer != o.Issuer {
			badIssuer = true
		}
	}
	if o.Audience != "" {
		if len(c.Audience) == 0 || len(c.Audience) == 1 && c.Audience[0] == "" {
			missing = true
		} else if !slices.Contains(c.Audience, o.Audience) {
			badAudience = true
		}
	}
	switch {
	case badIssuer:
		return errJWTIssuer
	case badAudience:
		return errJWTAudience
	case missing:
		return errJWTRequired
	case !now.Before(c.ExpiresAt.Add(o.Leeway)):
		return ErrExpired
	case !c.NotBefore.IsZero() && now.Before(c.NotBefore.Add(-o.Leeway)),
		!c.IssuedAt.IsZero() && now.Before(c.IssuedAt.Add(-o.Leeway)):
		return ErrNotYetValid
	}
	return nil
}

func jwtBadClaim(name, want string) error {
	return fmt.Errorf("%w: %q claim must be %s", ErrMalformed, name, want)
}

// jwtFromMap fills c from decoded claims, taking the registered ones out
// of m; what is left becomes Extra.
func (c *Claims) jwtFromMap(m map[string]any) error {
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
		if c.ExpiresAt, err = jwtDecodeDate("exp", v); err != nil {
			return err
		}
		delete(m, "exp")
	} else {
		return jwtBadClaim("exp", "present")
	}
	if v, ok := m["iat"]; ok {
		if c.IssuedAt, err = jwtDecodeDate("iat", v); err != nil {
			return err
		}
		delete(m, "iat")
	}
	if v, ok := m["nbf"]; ok {
		if c.NotBefore, err = jwtDecodeDate("nbf", v); err != nil {
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
			if c.FreshUntil, err = jwtDecodeDate("fresh", v); err != nil {
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

// jwtDecodeAct reads an "act" claim (see Act).
func jwtDecodeAct(v any) (*Act, error) {
	const want = `an object with a non-empty string "sub" and a string "sid"`
	o, ok := v.(map[string]any)
	if !ok {
		return nil, jwtBadClaim("act", want)
	}
	sub, ok := o["sub"].(string)
	if !ok || sub == "" {
		return nil, jwtBadClaim("act", want)
	}
	a := &Act{Subject: sub}
	if sid, present := o["sid"]; present {
		if a.SessionID, ok = sid.(string); !ok {
			return nil, jwtBadClaim("act", want)
		}
	}
	return a, nil
}

// jwtDecodeDate checks that v is a JSON number within [0, jwtMaxDate] and
// returns it as a UTC time in whole seconds, rounded down as golang-jwt's
// NumericDate does.
func jwtDecodeDate(name string, v any) (time.Time, error) {
	f, ok := v.(float64) // a JSON number; a quoted "123" decodes as a string
	if !ok || !(f >= 0 && f <= jwtMaxDate) {
		return time.Time{}, jwtBadClaim(name, "a number of seconds between 0 and 253402300799")
	}
	return time.Unix(int64(f), 0).UTC(), nil
}

// jwtEncodeDate returns t in whole seconds, rounded down, checking that it
// fits a NumericDate.
func jwtEncodeDate(name string, t time.Time) (int64, error) {
	s := t.Unix()
	if s < 0 || s > jwtMaxDate {
		return 0, fmt.Errorf("%w: %s must be between 1970 and 9999", ErrMalformed, name)
	}
	return s, nil
}

// jwtToMap returns the claims Sign writes.
func (c *Claims) jwtToMap() (jwt.MapClaims, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil claims", ErrMalformed)
	}
	if c.Subject == "" {
		return nil, fmt.Errorf("%w: empty Subject", ErrMalformed)
	}
	if c.ExpiresAt.IsZero() {
		return nil, fmt.Errorf("%w: ExpiresAt is required", ErrMalformed)
	}
	m := make(jwt.MapClaims, len(c.Extra)+12)
	for k, v := range c.Extra {
		if !jwtIsReserved(k) {
			m[k] = v
		}
	}
	var err error
	m["sub"] = c.Subject
	if m["exp"], err = jwtEncodeDate("ExpiresAt", c.ExpiresAt); err != nil {
		return nil, err
	}
	for _, f := range [...]struct {
		name string
		t    time.Time
	}{{"iat", c.IssuedAt}, {"nbf", c.NotBefore}} {
		if !f.t.IsZero() {
			if m[f.name], err = jwtEncodeDate(f.name, f.t); err != nil {
				return nil, err
			}
		}
	}
	for _, f := range [...]struct{ name, v string }{
		{"jti", c.ID}, {"type", c.Type}, {"sid", c.SessionID}, {"iss", c.Issuer},
	} {
		if f.v != "" {
			m[f.name] = f.v
		}
	}
	switch len(c.Audience) {
	case 0:
	case 1:
		m["aud"] = c.Audience[0]
	default:
		m["aud"] = c.Audience
	}
	if c.Act != nil {
		if c.Act.Subject == "" {
			return nil, fmt.Errorf("%w: empty Act.Subject", ErrMalformed)
		}
		act := map[string]any{"sub": c.Act.Subject}
		if c.Act.SessionID != "" {
			act["sid"] = c.Act.SessionID
		}
		m["act"] = act
	}
	if c.FreshUntil.IsZero() {
		m["fresh"] = c.Fresh
	} else if m["fresh"], err = jwtEncodeDate("FreshUntil", c.FreshUntil); err != nil {
		return nil, err
	}
	return m, nil
}
