package token

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
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
// of their types. It reads them as json.Unmarshal into map[string]any
// would (exact, case-sensitive member names, the last duplicate wins, a
// number beyond float64 refused anywhere), but copies the payload once
// and slices the claims' strings from it. Errors are ErrMalformed.
func jwtDecodeClaims(payload []byte) (*Claims, error) {
	if !utf8.Valid(payload) {
		return nil, errJWTUTF8
	}
	p := jsonScan{s: string(payload)}
	if !jsonValid(p.s) {
		return nil, errJWTEncoding
	}
	if !p.object() { // valid JSON, but not an object of claims
		return nil, errJWTNotObject
	}
	c := new(Claims)
	var reg [jwtRegCount]string // each registered claim's last value, as JSON
	for {
		name, value, fits, more := p.member()
		switch {
		case !more:
			if err := c.jwtFromJSON(&reg); err != nil {
				return nil, err
			}
			return c, nil
		case !fits:
			return nil, errJWTNumber
		}
		if i := jwtRegIndex(name); i >= 0 {
			reg[i] = value
			continue
		}
		if c.Extra == nil {
			c.Extra = make(map[string]any)
		}
		c.Extra[name] = jsonValue(value)
	}
}

// The registered claims jwtDecodeClaims reads into fields, as indexes of
// the values it keeps.
const (
	jwtRegSub = iota
	jwtRegExp
	jwtRegIat
	jwtRegNbf
	jwtRegJti
	jwtRegType
	jwtRegSid
	jwtRegIss
	jwtRegAud
	jwtRegFresh
	jwtRegAct
	jwtRegCount
)

// jwtRegIndex returns the index of the registered claim name, or -1.
func jwtRegIndex(name string) int {
	switch name {
	case "sub":
		return jwtRegSub
	case "exp":
		return jwtRegExp
	case "iat":
		return jwtRegIat
	case "nbf":
		return jwtRegNbf
	case "jti":
		return jwtRegJti
	case "type":
		return jwtRegType
	case "sid":
		return jwtRegSid
	case "iss":
		return jwtRegIss
	case "aud":
		return jwtRegAud
	case "fresh":
		return jwtRegFresh
	case "act":
		return jwtRegAct
	}
	return -1
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

// jwtFromJSON sets c's registered claims from their values, as JSON
// (reg, indexed by jwtRegIndex; "" when absent), checking their types.
func (c *Claims) jwtFromJSON(reg *[jwtRegCount]string) error {
	var err error
	switch sub := reg[jwtRegSub]; {
	case sub == "":
		return jwtBadClaim("sub", "present")
	case sub[0] != '"' || sub == `""`:
		return jwtBadClaim("sub", "a non-empty string")
	case reg[jwtRegExp] == "":
		return jwtBadClaim("exp", "present")
	}
	c.Subject = jsonUnquote(reg[jwtRegSub])
	for _, f := range [...]struct {
		i    int
		name string
		dst  *time.Time
	}{{jwtRegExp, "exp", &c.ExpiresAt}, {jwtRegIat, "iat", &c.IssuedAt}, {jwtRegNbf, "nbf", &c.NotBefore}} {
		if v := reg[f.i]; v != "" {
			if *f.dst, err = jwtDecodeDate(f.name, v); err != nil {
				return err
			}
		}
	}
	for _, f := range [...]struct {
		i    int
		name string
		dst  *string
	}{{jwtRegJti, "jti", &c.ID}, {jwtRegType, "type", &c.Type}, {jwtRegSid, "sid", &c.SessionID}, {jwtRegIss, "iss", &c.Issuer}} {
		if v := reg[f.i]; v != "" {
			if v[0] != '"' {
				return jwtBadClaim(f.name, "a string")
			}
			*f.dst = jsonUnquote(v)
		}
	}
	if v := reg[jwtRegAud]; v != "" {
		if c.Audience, err = jwtDecodeAud(v); err != nil {
			return err
		}
	}
	switch v := reg[jwtRegFresh]; v {
	case "":
	case "true", "false":
		c.Fresh = v == "true"
	default:
		if !jsonIsNumber(v) {
			return jwtBadClaim("fresh", "a boolean or a NumericDate")
		}
		if c.FreshUntil, err = jwtDecodeDate("fresh", v); err != nil {
			return err
		}
	}
	if v := reg[jwtRegAct]; v != "" {
		var act any
		json.Unmarshal([]byte(v), &act) // valid JSON, every number fits
		if c.Act, err = jwtDecodeAct(act); err != nil {
			return err
		}
	}
	return nil
}

// jwtDecodeAud reads an "aud" claim: a string or an array of strings.
func jwtDecodeAud(v string) ([]string, error) {
	bad := jwtBadClaim("aud", "a string or an array of strings")
	switch v[0] {
	case '"':
		return []string{jsonUnquote(v)}, nil
	case '[':
	default:
		return nil, bad
	}
	var a []any
	json.Unmarshal([]byte(v), &a) // valid JSON, every number fits
	if len(a) == 0 {
		return nil, nil
	}
	aud := make([]string, len(a))
	for i, e := range a {
		s, ok := e.(string)
		if !ok {
			return nil, bad
		}
		aud[i] = s
	}
	return aud, nil
}

// jwtDecodeAct reads an "act" claim (see Act) that encoding/json decoded.
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

// jwtDecodeDate reads the JSON value v of claim name as a NumericDate.
func jwtDecodeDate(name, v string) (time.Time, error) {
	if !jsonIsNumber(v) { // a quoted "123" is a string
		return time.Time{}, jwtBadDate(name)
	}
	f, _ := strconv.ParseFloat(v, 64) // it fits: jwtDecodeClaims checked
	return jwtDate(name, f)
}

// jwtDate checks that f is within [0, jwtMaxDate] and returns it as a UTC
// time in whole seconds, rounded down as golang-jwt's NumericDate does.
func jwtDate(name string, f float64) (time.Time, error) {
	if !(f >= 0 && f <= jwtMaxDate) {
		return time.Time{}, jwtBadDate(name)
	}
	return time.Unix(int64(f), 0).UTC(), nil
}

func jwtBadDate(name string) error {
	return jwtBadClaim(name, "a number of seconds between 0 and 253402300799")
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
