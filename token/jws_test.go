package token

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// The tests here hold latch's own signature layer to what Verify did when
// it handed tokens to golang-jwt's ParseWithClaims: legacyVerify below is
// that code, kept as an oracle. The two check in different orders (latch
// verifies the signature before it reads the payload; golang-jwt decoded
// the payload first), so jwsCompare holds them to this:
//
//   - a token legacyVerify accepts, Verify accepts with the same claims;
//   - a token whose signature is valid gets the same error from both;
//   - a forged token gets what legacyVerify said when that was decided
//     before any key was used (size, shape, header, kid), else
//     ErrSignature, or ErrMalformed for a signature that is not base64url;
//
// except for the classes jwsException lists, where latch is stricter or
// reads the header differently on purpose.

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
	j.err = j.c.jwtFromMap(m)
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

// jwsTestNow is the verification time of the differential tests.
var jwsTestNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

var jwsTestSecret = []byte("jws differential test: 0123456789abcdefghijklmnopqrstuvwxyz")

func jwsTestRing(t testing.TB) *Keyring {
	t.Helper()
	k, err := NewHMACKey("k1", "HS256", jwsTestSecret)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func jwsEnc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// jwsSign returns header.payload (each base64url-encoded as given) signed
// with the test secret.
func jwsSign(t testing.TB, header, payload string) string {
	t.Helper()
	return jwsResign(jwsEnc(header) + "." + jwsEnc(payload) + ".")
}

// jwsResign replaces the signature of tok (everything after its last dot)
// with the test secret's over what precedes it.
func jwsResign(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	sig, _ := jwt.SigningMethodHS256.Sign(tok[:i], jwsTestSecret)
	return tok[:i] + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// jwsAuthentic reports whether tok's last segment is the strict base64url
// HS256 signature of the rest under the test secret.
func jwsAuthentic(tok string) bool {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return false
	}
	sig, err := jwsB64.DecodeString(tok[i+1:])
	return err == nil && jwt.SigningMethodHS256.Verify(tok[:i], sig, jwsTestSecret) == nil
}

// The classes of tokens on which Verify and legacyVerify may differ.
const (
	// A header member named alg, kid or crit in another letter case
	// ("ALG", "Kid", "\u212Aid" with a Kelvin sign): legacyVerify's struct
	// decode matched it, latch reads exact names only (RFC 7515 §4). latch
	// is then stricter for alg and kid (a token with only "KID" has no
	// kid) and ignores "CRIT".
	jwsExCaseVariant = "case-variant header name"
	// A header whose last "alg" or "kid" is null after a string one:
	// legacyVerify's struct decode kept the string (null leaves a field
	// as it was), latch takes the last member, as golang-jwt's own map
	// decode of the header did. latch is stricter: no alg, or no kid.
	jwsExNullAfterString = "null alg or kid after a string"
	// A payload of invalid UTF-8: encoding/json read the bad bytes as
	// U+FFFD and legacyVerify accepted; latch refuses it (RFC 8725 §3.7).
	jwsExUTF8 = "invalid UTF-8 payload"
	// A crit header on a payload that is not valid claims: latch refuses
	// crit in the signature layer, as soon as the signature verified
	// (ErrClaims); legacyVerify reported the payload first (ErrMalformed).
	jwsExCrit = "crit header with bad claims"
	// A number beyond float64 in the header: golang-jwt decoded the whole
	// header into map[string]any and failed (ErrMalformed); latch reads
	// alg, kid and crit only, as json.RawMessage, and never converts
	// another member.
	jwsExHeaderNumber = "header number out of range"
	// One more difference: PSS salt lengths other than the hash size (RFC
	// 7518 §3.5), which golang-jwt accepted and latch refuses. The ring here is HS256,
	// so TestWycheproofJWS (tcIds 281-286) and TestPSSSaltLength cover it.
)

// jwsException returns the class of tok that allows Verify's answer
// (error gotErr) to differ from legacyVerify's (wantErr), or "".
func jwsException(tok string, gotErr, wantErr error) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	if h, err := jwsB64.DecodeString(parts[0]); err == nil {
		var m map[string]json.RawMessage
		if json.Unmarshal(h, &m) == nil {
			for name := range m {
				for _, exact := range []string{"alg", "kid", "crit"} {
					if name != exact && strings.EqualFold(name, exact) {
						return jwsExCaseVariant
					}
				}
			}
			var lh legacyHeader
			if json.Unmarshal(h, &lh) == nil &&
				(string(m["alg"]) == "null" && lh.Alg != "" || string(m["kid"]) == "null" && lh.Kid != "") {
				return jwsExNullAfterString
			}
			if _, crit := m["crit"]; crit && gotErr == errJWTCrit && errors.Is(wantErr, ErrMalformed) {
				return jwsExCrit
			}
			var all map[string]any
			if json.Unmarshal(h, &all) != nil && wantErr == errJWTEncoding {
				return jwsExHeaderNumber
			}
		}
	}
	if p, err := jwsB64.DecodeString(parts[1]); err == nil && !utf8.Valid(p) && gotErr == errJWTUTF8 {
		return jwsExUTF8
	}
	return ""
}

// jwsKind returns the sentinel error err wraps: the kind of error the
// two paths must agree on. Their messages may differ: golang-jwt's
// errors were mapped to the bare sentinels.
func jwsKind(err error) error {
	for _, s := range []error{ErrMalformed, ErrUnknownKey, ErrSignature, ErrExpired, ErrNotYetValid, ErrClaims} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// jwsBeforeKey are the errors Verify and legacyVerify decide before any
// key is used: a forged token gets them from both alike.
var jwsBeforeKey = []error{errJWTTooLong, errJWTShape, errJWTHeader, errJWTNoKid, errJWTKid}

// jwsCompare fails t unless Verify's answer on tok agrees with
// legacyVerify's as the comment at the top of this file says.
func jwsCompare(t *testing.T, r *Keyring, tok string, o VerifyOptions) {
	t.Helper()
	got, gotErr := r.Verify(tok, o)
	want, wantErr := legacyVerify(r, tok, o)
	fail := func(rule string) {
		t.Helper()
		t.Fatalf("%s\ntoken %q, options %+v:\nVerify        = %+v, %v\ngolang-jwt did %+v, %v", rule, tok, o, got, gotErr, want, wantErr)
	}
	if gotErr != nil && got != nil {
		fail("claims returned with an error")
	}
	authentic := jwsAuthentic(tok)
	if gotErr == nil && !authentic {
		fail("forged token accepted")
	}
	if slices.Contains(jwsBeforeKey, wantErr) && gotErr != wantErr && jwsException(tok, gotErr, wantErr) == "" {
		fail("golang-jwt refused it before using a key, Verify not alike")
	}
	if jwsKind(gotErr) == jwsKind(wantErr) && reflect.DeepEqual(got, want) {
		return
	}
	if ex := jwsException(tok, gotErr, wantErr); ex != "" {
		return
	}
	switch {
	case wantErr == nil:
		fail("golang-jwt accepted the token, Verify did not give the same claims")
	case authentic:
		fail("signature valid, but not the same error")
	case slices.Contains(jwsBeforeKey, wantErr):
		fail("forged token: golang-jwt refused it before using a key, Verify not alike")
	case gotErr != errJWTAlg && gotErr != ErrSignature && gotErr != errJWTSigEncoding:
		fail("forged token: want ErrSignature, or ErrMalformed for a signature that is not base64url")
	}
}

func TestVerifyMatchesGolangJWT(t *testing.T) {
	r := jwsTestRing(t)
	T := jwsTestNow.Unix()
	headers := []string{
		`{"alg":"HS256","kid":"k1"}`,
		`{"alg":"HS256","kid":"k1","typ":"JWT"}`,
		` {"alg" : "HS256" ,` + "\n\t" + `"kid" : "k1" } `,
		`{"ALG":"HS256","kid":"k1"}`,
		`{"alg":"HS256","ALG":"HS256","kid":"k1"}`,
		`{"ALG":"none","alg":"HS256","kid":"k1"}`,
		`{"alg":"HS256","ALG":"none","kid":"k1"}`,
		`{"alg":"RS256","ALG":"HS256","kid":"k1"}`,
		`{"alg":"XX256","Alg":"HS256","kid":"k1"}`,
		`{"alg":null,"ALG":"HS256","kid":"k1"}`,
		`{"alg":"HS256","alg":null,"kid":"k1"}`,
		`{"alg":"HS256","alg":"HS256","kid":"k1"}`,
		`{"alg":"none","alg":"HS256","kid":"k1"}`,
		`{"alg":"HS256","alg":"none","kid":"k1"}`,
		`{"\u0061lg":"HS256","kid":"k1"}`,
		`{"alg":"HS\u0032\u0035\u0036","kid":"k1"}`,
		`{"alg":"HS256\u0000","kid":"k1"}`,
		`{"alg":"HS256","kid":"k1","x":{"alg":"none","y":["}","alg"]},"z":"\"alg\":\"none\""}`,
		`{"alg":"HS256","kid":"k1","n":1.5e3,"t":true,"f":false,"z":null,"a":[1,[2,{}]]}`,
		`{"alg":"HS256","kid":"k1","x":1e400}`,
		`{"alg":"HS256","kid":"k1","\ud800":"x","\\":"\\\""}`,
		"{\"alg\":\"HS256\",\"kid\":\"k1\",\"x\":\"\xff\"}",
		"{\"al\xffg\":\"none\",\"alg\":\"HS256\",\"kid\":\"k1\"}",
		"{\"alg\":\"HS256\",\"kid\":\"k1\xff\"}",
		`{"alg":"HS256","kid":"k1","crit":["exp"]}`,
		`{"alg":"HS256","kid":"k1","CRIT":null}`,
		`{"alg":"HS256","KID":"k1"}`,
		`{"kid":"nope","KID":"k1","alg":"HS256"}`,
		`{"alg":"HS256","kid":"nope"}`,
		`{"alg":"HS256"}`,
		`{"kid":"k1"}`,
		`{"alg":256,"kid":"k1"}`,
		`{"alg":"HS256","kid":"k1"}x`,
		`{"alg":"HS256","kid":"k1"`,
		`{"alg":"HS256","\u212Aid":"k1"}`,
		`{"alg":"HS256","Kid":null,"kid":"k1"}`,
		`{"alg":"HS256","kid":"k1","kid":null}`,
		`{"alg":"HS256","kid":"k\u0031"}`,
		`{"alg":"HS256","kid":"k1","crit":null}`,
		`{"alg":"HS256","kid":"k1","Crit":[],"crit":1}`,
		`{"alg":"HS256","kid":"k1","\u0063rit":{}}`,
		`{"alg":"HS256","kid":1}`,
		`{"alg":"HS256","kid":[]}`,
		`{"alg":"HS256","kid":true}`,
		`{"alg":"HS256","kid":{"kid":"k1"}}`,
		`{"alg":"HS256","kid":"k1","ALG":true}`,
		`{"alg":"HS256","kid":"k1","aLg":"HS256","AlG":null}`,
		`{"alg":"HS256","kid":"k1"}  `,
		`[]`, `null`, ``, `"x"`, `{}`,
	}
	payload := func(more map[string]any) string {
		c := map[string]any{"sub": "user-1", "iat": T - 60, "exp": T + 3600}
		for k, v := range more {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		b, _ := json.Marshal(c)
		return string(b)
	}
	payloads := []string{
		payload(nil),
		payload(map[string]any{"exp": T}),
		payload(map[string]any{"exp": T + 5}),
		payload(map[string]any{"nbf": T + 5}),
		payload(map[string]any{"nbf": T - 5, "exp": T - 5}),
		payload(map[string]any{"iat": T + 5}),
		payload(map[string]any{"iss": "iss1"}),
		payload(map[string]any{"iss": "other"}),
		payload(map[string]any{"iss": ""}),
		payload(map[string]any{"aud": "api"}),
		payload(map[string]any{"aud": []string{"web", "api"}}),
		payload(map[string]any{"aud": []string{""}}),
		payload(map[string]any{"aud": []string{"", "web"}}),
		payload(map[string]any{"aud": []string{}}),
		payload(map[string]any{"aud": "web", "iss": "other", "exp": T - 1}),
		payload(map[string]any{"aud": "web", "exp": T - 1}),
		payload(map[string]any{"fresh": T + 1, "csrf": "c", "x": []any{1, "y"}}),
		payload(map[string]any{"exp": "2000000000"}),
		payload(map[string]any{"exp": nil}),
		payload(map[string]any{"sub": nil}),
		payload(map[string]any{"exp": 1e20}),
		`{"sub":"a","exp":1e400}`,
		fmt.Sprintf("{\"sub\":\"user-\xff\",\"exp\":%d}", T+3600),
		fmt.Sprintf("{\"sub\":\"user-1\",\"exp\":%d,\"x\":\"\xc3\"}", T+3600),
		payload(nil) + "{}", " " + payload(nil) + " ",
		`[]`, `null`, `1`, `"x"`, `{`, ``,
	}
	opts := []VerifyOptions{
		{Now: jwsTestNow},
		{Now: jwsTestNow, Leeway: 10 * time.Second},
		{Now: jwsTestNow, Leeway: -10 * time.Second},
		{Now: jwsTestNow, Issuer: "iss1"},
		{Now: jwsTestNow, Audience: "api"},
		{Now: jwsTestNow, Issuer: "iss1", Audience: "api"},
	}
	n := 0
	for _, h := range headers {
		for _, p := range payloads {
			good := jwsSign(t, h, p)
			i := strings.LastIndexByte(good, '.')
			bad := jwsEnc(h) + ".!" + jwsEnc(p) // not base64url: refused by shape
			toks := []string{
				good,
				good[:i+1],                               // empty signature
				good[:i+1] + "AAAA" + good[i+5:],         // wrong signature
				good[:i+1] + good[i+1:len(good)-1] + "B", // trailing bits, or wrong
				good[:i+1] + "A",                         // not base64url
				jwsResign(jwsEnc(h) + "." + jwsEnc(p) + "A."), // payload with trailing bits or bad length, signed
				bad + good[i:],
			}
			for _, tok := range toks {
				for _, o := range opts {
					jwsCompare(t, r, tok, o)
					n++
				}
			}
		}
	}
	t.Logf("%d verifications agree", n)
}

// TestVerifyDifferences shows each class of jwsException on a signed
// token, so that a change in either path that removes one is noticed.
func TestVerifyDifferences(t *testing.T) {
	r := jwsTestRing(t)
	o := VerifyOptions{Now: jwsTestNow}
	claims := fmt.Sprintf(`{"sub":"a","exp":%d}`, jwsTestNow.Unix()+60)
	tests := []struct {
		name          string
		tok           string
		legacy, latch error // nil: accepted
		class         string
	}{
		{"only KID", jwsSign(t, `{"alg":"HS256","KID":"k1"}`, claims), nil, errJWTNoKid, jwsExCaseVariant},
		{"only ALG", jwsSign(t, `{"ALG":"HS256","kid":"k1"}`, claims), ErrSignature, errJWTAlg, jwsExCaseVariant}, // the same kind: golang-jwt found no "alg"
		{"ALG none after alg", jwsSign(t, `{"alg":"HS256","ALG":"none","kid":"k1"}`, claims), errJWTAlg, nil, jwsExCaseVariant},
		{"CRIT", jwsSign(t, `{"alg":"HS256","kid":"k1","CRIT":["x"]}`, claims), errJWTCrit, nil, jwsExCaseVariant},
		{"kid null after k1", jwsSign(t, `{"alg":"HS256","kid":"k1","kid":null}`, claims), nil, errJWTNoKid, jwsExNullAfterString},
		{"alg null after HS256", jwsSign(t, `{"alg":"HS256","alg":null,"kid":"k1"}`, `{`), errJWTEncoding, errJWTAlg, jwsExNullAfterString},
		{"invalid UTF-8 sub", jwsSign(t, `{"alg":"HS256","kid":"k1"}`, "{\"sub\":\"a\xff\",\"exp\":2000000000}"), nil, errJWTUTF8, jwsExUTF8},
		{"crit and claims array", jwsSign(t, `{"alg":"HS256","kid":"k1","crit":["x"]}`, `[]`), errJWTNotObject, errJWTCrit, jwsExCrit},
		{"header 1e400", jwsSign(t, `{"alg":"HS256","kid":"k1","x":1e400}`, claims), errJWTEncoding, nil, jwsExHeaderNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, legacyErr := legacyVerify(r, tt.tok, o)
			_, err := r.Verify(tt.tok, o)
			if legacyErr != tt.legacy || err != tt.latch {
				t.Fatalf("golang-jwt said %v (want %v), Verify %v (want %v)", legacyErr, tt.legacy, err, tt.latch)
			}
			if got := jwsException(tt.tok, err, legacyErr); got != tt.class {
				t.Fatalf("jwsException = %q, want %q", got, tt.class)
			}
		})
	}
}

// jwsFuzzOptions derives VerifyOptions from fuzzed bytes: an issuer and an
// audience from small sets the corpus payloads use, a leeway of -128 to
// 127 seconds, and a verification time up to ±2^31 s from jwsTestNow.
func jwsFuzzOptions(b []byte) VerifyOptions {
	var x [7]byte
	copy(x[:], b)
	o := VerifyOptions{
		Now:      jwsTestNow.Add(time.Duration(int32(binary.BigEndian.Uint32(x[3:]))) * time.Second),
		Leeway:   time.Duration(int8(x[2])) * time.Second,
		Issuer:   [...]string{"", "iss1", "other", ""}[x[0]%4],
		Audience: [...]string{"", "api", "web", ""}[x[1]%4],
	}
	return o
}

// FuzzVerifyMatchesGolangJWT runs arbitrary tokens, and the same tokens
// re-signed with the ring's secret, through Verify and legacyVerify, with
// options made from the fuzzed bytes opts (jwsFuzzOptions).
func FuzzVerifyMatchesGolangJWT(f *testing.F) {
	r := jwsTestRing(f)
	for _, s := range []string{
		jwsSign(f, `{"alg":"HS256","kid":"k1"}`, `{"sub":"a","exp":1900000000}`),
		jwsSign(f, `{"ALG":"none","alg":"HS256","kid":"k1"}`, `{"sub":"a","exp":1900000000,"aud":["x"]}`),
		jwsSign(f, `{"alg":"RS256","ALG":"HS256","kid":"k1"}`, `[]`),
		jwsSign(f, `{"alg":"HS256","kid":"k1","crit":1}`, `{"sub":"a","exp":1e9,"nbf":1.9e9}`),
		"e30.e30.", "..", "a.b.c",
	} {
		f.Add(s, []byte{0, 0, 1, 0, 0, 0, 0})
	}
	f.Fuzz(func(t *testing.T, tok string, opts []byte) {
		o := jwsFuzzOptions(opts)
		jwsCompare(t, r, tok, o)
		if strings.Contains(tok, ".") {
			jwsCompare(t, r, jwsResign(tok), o)
		}
	})
}

// TestForgedPayloadNotDecoded: a forged token's payload is never decoded,
// so refusing it costs the same, in allocations, whatever its size.
func TestForgedPayloadNotDecoded(t *testing.T) {
	r := jwsTestRing(t)
	o := VerifyOptions{Now: jwsTestNow}
	forge := func(members int) string {
		var b strings.Builder
		b.WriteString(`{"sub":"a","exp":2000000000`)
		for i := range members {
			fmt.Fprintf(&b, `,"%x":0`, i)
		}
		b.WriteString("}")
		tok := jwsSign(t, `{"alg":"HS256","kid":"k1"}`, b.String())
		return jwsBreak(tok)
	}
	small, huge := forge(0), forge(700)
	if len(huge) < 7000 || len(huge) > jwsMaxSize-100 {
		t.Fatalf("the huge token is %d bytes", len(huge))
	}
	allocs := func(tok string) float64 {
		return testing.AllocsPerRun(50, func() {
			if _, err := r.Verify(tok, o); err != ErrSignature {
				t.Fatalf("err = %v, want ErrSignature", err)
			}
		})
	}
	a0, a700 := allocs(small), allocs(huge)
	t.Logf("forged token: %v allocations with no extra member, %v with 700", a0, a700)
	if a0 != a700 {
		t.Errorf("a forged token with 700 members made %v allocations, one with none %v: its payload was decoded", a700, a0)
	}
}

// jwsBreak changes the first character of tok's signature.
func jwsBreak(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 1
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// TestReadHeader covers jwsReadHeader: exact, case-sensitive member
// names; alg and kid strings or null; crit present in any form.
func TestReadHeader(t *testing.T) {
	tests := []struct {
		header   string
		alg, kid string
		crit     bool
		ok       bool
	}{
		{`{"alg":"HS256","kid":"k"}`, "HS256", "k", false, true},
		{` {"alg":"HS256"} `, "HS256", "", false, true},
		{`{"ALG":"HS256","Kid":"k","CRIT":[]}`, "", "", false, true},
		{`{"\u0061lg":"a","k\u0069d":"\u006b"}`, "a", "k", false, true},
		{`{"alg":"a","alg":"b"}`, "b", "", false, true},
		{`{"alg":"a","alg":null}`, "", "", false, true},
		{`{"alg":null,"kid":null}`, "", "", false, true},
		{`{"crit":null}`, "", "", true, true},
		{`{"crit":{}}`, "", "", true, true},
		{`{"x":1e400,"alg":"a"}`, "a", "", false, true},
		{`{"alg":1}`, "", "", false, false},
		{`{"kid":1}`, "", "", false, false},
		{`{"kid":[]}`, "", "", false, false},
		{`{"kid":false}`, "", "", false, false},
		{`{"alg":{}}`, "", "", false, false},
		{`{"alg":"a"}x`, "", "", false, false},
		{`{"alg":"a"`, "", "", false, false},
		{`null`, "", "", false, false},
		{`[]`, "", "", false, false},
		{``, "", "", false, false},
		{` `, "", "", false, false},
	}
	for _, tt := range tests {
		j, err := jwsReadHeader(jwsEnc(tt.header))
		if (err == nil) != tt.ok || err != nil && err != errJWTHeader {
			t.Errorf("%q: err %v, want ok %v", tt.header, err, tt.ok)
			continue
		}
		if tt.ok && (j.alg != tt.alg || j.kid != tt.kid || j.crit != tt.crit) {
			t.Errorf("%q: alg %q kid %q crit %v, want %q %q %v", tt.header, j.alg, j.kid, j.crit, tt.alg, tt.kid, tt.crit)
		}
	}
	if _, err := jwsReadHeader("e30="); err != errJWTHeader { // padded: not strict base64url
		t.Errorf("padded header: err %v", err)
	}
}

// TestPSSSaltLength: PS256/384/512 verify only salts as long as the hash
// (RFC 7518 §3.5), which is what Sign writes; golang-jwt's Verify takes
// any salt length.
func TestPSSSaltLength(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{"PS256", "PS384", "PS512"} {
		t.Run(alg, func(t *testing.T) {
			k, err := NewSigningKey("pss", alg, priv)
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewKeyring(k)
			if err != nil {
				t.Fatal(err)
			}
			exp := time.Now().Add(time.Hour)
			tok, err := r.Sign(&Claims{Subject: "a", ExpiresAt: exp})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Verify(tok, VerifyOptions{}); err != nil {
				t.Fatalf("Sign's own token: %v", err)
			}
			m := keyMethods[alg].(*jwt.SigningMethodRSAPSS)
			input := tok[:strings.LastIndexByte(tok, '.')]
			for _, salt := range []int{0, 20, m.Hash.Size() + 1, rsa.PSSSaltLengthAuto} {
				h := m.Hash.New()
				h.Write([]byte(input))
				sig, err := rsa.SignPSS(rand.Reader, priv, m.Hash, h.Sum(nil), &rsa.PSSOptions{SaltLength: salt})
				if err != nil {
					t.Fatal(err)
				}
				other := input + "." + base64.RawURLEncoding.EncodeToString(sig)
				if m.Verify(input, sig, &priv.PublicKey) != nil {
					t.Fatalf("salt %d: golang-jwt refuses it; the test means to show it accepts it", salt)
				}
				if _, err := r.Verify(other, VerifyOptions{}); err != ErrSignature {
					t.Errorf("salt length %d: err %v, want ErrSignature", salt, err)
				}
			}
		})
	}
}

// TestKnownHeaders: the headers a keyring knows without decoding are the
// ones Sign writes, one per key, each read exactly as jwsReadHeader reads
// it, so looking one up gives Verify what decoding it would.
func TestKnownHeaders(t *testing.T) {
	hs, err := NewHMACKey("h", "HS256", jwsTestSecret)
	if err != nil {
		t.Fatal(err)
	}
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := NewSigningKey("e", "", edPriv)
	if err != nil {
		t.Fatal(err)
	}
	for _, keys := range [][]*Key{{hs, ed}, {ed, hs}} {
		r, err := NewKeyring(keys...)
		if err != nil {
			t.Fatal(err)
		}
		s := r.snap.Load()
		if len(s.headers) != len(keys) {
			t.Fatalf("%d known headers for %d keys", len(s.headers), len(keys))
		}
		for b64, h := range s.headers {
			if got, err := jwsReadHeader(b64); err != nil || got != h {
				t.Errorf("known header %q is %+v; jwsReadHeader reads %+v, %v", b64, h, got, err)
			}
		}
		tok, err := r.Sign(&Claims{Subject: "a", ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		h, ok := s.headers[tok[:strings.IndexByte(tok, '.')]]
		if !ok || h.kid != keys[0].id || h.alg != keys[0].alg || h.crit {
			t.Errorf("the header Sign wrote is known %v as %+v", ok, h)
		}
	}
}
