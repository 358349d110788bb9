package token

import (
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
// it handed tokens to golang-jwt's ParseWithClaims: legacyVerify (in
// jws_legacy_test.go) is that code, kept as an oracle. The two check in
// different orders (latch verifies the signature before it reads the
// payload; golang-jwt decoded the payload first), so jwsCompare holds
// them to this:
//
//   - a token legacyVerify accepts, Verify accepts with the same claims;
//   - a token whose signature is valid gets the same error from both;
//   - a forged token gets what legacyVerify said when that was decided
//     before any key was used (size, shape, header, kid), else
//     ErrSignature, or ErrMalformed for a signature that is not base64url;
//
// except for the classes jwsException lists, where latch is stricter or
// reads the header differently on purpose.

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
