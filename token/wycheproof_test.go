package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// Project Wycheproof vectors (testdata/wycheproof, Apache 2.0, see the
// README there) run through latch's signature layer, the code
// Keyring.Verify runs: jws.parse and verifyJWS for compact JWS (with
// Keyring.jwsKey for key sets), checkSignature for the HMAC and ECDSA
// primitives underneath.
//
// Every vector runs; none is skipped. A vector whose outcome in latch is
// not the one Wycheproof gives is an exception, listed below with its
// tcId and the reason, and its outcome is asserted too (latch accepts, or
// rejects, exactly these). The tests count vectors and exceptions, and
// fail when an exception is not used, so a changed file fails the test.
//
// Results: "valid" must be accepted, "invalid" rejected. "acceptable"
// (none in these files) would have to be rejected: latch takes the strict
// reading wherever Wycheproof allows both.

// wpResult is what latch did with a vector.
type wpResult bool

const (
	wpAccepted wpResult = true
	wpRejected wpResult = false
)

func (r wpResult) String() string {
	if r {
		return "accepted"
	}
	return "rejected"
}

// wpException is a vector latch decides differently from Wycheproof.
type wpException struct {
	reason string
	// altAlg, when set, is an algorithm with which the same key material
	// gives Wycheproof's result: the vector's key metadata is what is at
	// odds with latch, not the signature.
	altAlg string
	// err, when set, is the error a rejection must match.
	err error
}

// wpWant returns the result latch must give a vector: Wycheproof's, or
// the opposite for an exception.
func wpWant(t *testing.T, result string, excepted bool) wpResult {
	t.Helper()
	var want wpResult
	switch result {
	case "valid":
		want = wpAccepted
	case "invalid":
		want = wpRejected
	default:
		t.Fatalf("result %q: latch has no policy for it yet (acceptable would be rejected; list it)", result)
	}
	if excepted {
		want = !want
	}
	return want
}

func wpLoad(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "wycheproof", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// wpSentinel reports whether err is one of the errors the signature
// layer, or a key constructor, may return.
func wpSentinel(err error) bool {
	for _, s := range []error{ErrMalformed, ErrSignature, ErrClaims, ErrUnknownKey, ErrWeakKey} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// wpJWK is a JSON Web Key, or a key set when Keys is set. latch has no
// JWK parser (it publishes JWKs, it does not import them): the tests turn
// a JWK into the Go key an operator would hand to latch, and latch's
// constructors decide.
type wpJWK struct {
	Kty, Alg, Use, Kid, Crv string
	K, N, E, X, Y           string
	KeyOps                  []string `json:"key_ops"`
	Keys                    []wpJWK  `json:"keys"`
}

type wpJWSFile struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		Comment string          `json:"comment"`
		Private json.RawMessage `json:"private"`
		Public  json.RawMessage `json:"public"`
		Tests   []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			JWS     string   `json:"jws"`
			Result  string   `json:"result"`
			Flags   []string `json:"flags"`
		} `json:"tests"`
	} `json:"testGroups"`
}

func wpB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("bad base64url in a JWK: %v", err)
	}
	return b
}

// wpKey makes the latch verify key j describes, for algorithm alg, with
// latch's constructors: NewHMACKey for "oct", NewVerifyKey for "RSA" and
// "EC" (whose points NewVerifyKey validates). The JWK's use and key_ops
// are not read: nothing in latch would read them.
func wpKey(t *testing.T, j wpJWK, alg string) (*Key, error) {
	t.Helper()
	switch j.Kty {
	case "oct":
		return NewHMACKey(j.Kid, alg, wpB64(t, j.K))
	case "RSA":
		e := new(big.Int).SetBytes(wpB64(t, j.E))
		if !e.IsInt64() || e.Int64() > 1<<31-1 {
			return nil, fmt.Errorf("%w: test: exponent too large", ErrWeakKey)
		}
		return NewVerifyKey(j.Kid, alg, &rsa.PublicKey{N: new(big.Int).SetBytes(wpB64(t, j.N)), E: int(e.Int64())})
	case "EC":
		curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
		c, ok := curves[j.Crv]
		if !ok {
			return nil, fmt.Errorf("%w: test: curve %q", ErrWeakKey, j.Crv)
		}
		// Raw coordinates on purpose: the vectors hold points off the
		// curve, and it is latch (NewVerifyKey) that must refuse them.
		//lint:ignore SA1019 the deprecated fields are how an unchecked point is built
		pub := &ecdsa.PublicKey{Curve: c, X: new(big.Int).SetBytes(wpB64(t, j.X)), Y: new(big.Int).SetBytes(wpB64(t, j.Y))}
		return NewVerifyKey(j.Kid, alg, pub)
	}
	t.Fatalf("JWK of type %q: the test knows no such key type", j.Kty)
	return nil, nil
}

// wpJWSExceptions are the JWS vectors latch decides differently.
var wpJWSExceptions = map[int]wpException{
	// RFC 7520 figures with inconsistent key metadata.
	346: {reason: "JWK says PS256, the token PS384: the key fixes the algorithm, so latch rejects it", altAlg: "PS384", err: ErrSignature},
	350: {reason: "JWK says PS256, the token PS384: the key fixes the algorithm, so latch rejects it", altAlg: "PS384", err: ErrSignature},
	347: {reason: `JWK alg "ES521" is no JWA algorithm: NewVerifyKey refuses the key`, altAlg: "ES512", err: ErrWeakKey},
	351: {reason: `JWK alg "ES521" is no JWA algorithm: NewVerifyKey refuses the key`, altAlg: "ES512", err: ErrWeakKey},

	// Keys for encryption (use "enc", key_ops without "verify", no alg):
	// latch has no JWK import, so use and key_ops never reach it; a key
	// an operator makes a verify key verifies, with the algorithm
	// NewVerifyKey picks for it (RS256, ES256).
	353: {reason: "JWK use enc: latch reads no use member (no JWK import)"},
	354: {reason: "JWK use enc: latch reads no use member (no JWK import)"},
	355: {reason: "JWK key_ops [encrypt]: latch reads no key_ops member (no JWK import)"},
	356: {reason: "JWK key_ops [encrypt]: latch reads no key_ops member (no JWK import)"},

	// Defective vectors: the token is byte for byte tcId 357's, which is
	// valid (checked below), so nothing about padding is left in it.
	367: {reason: "defective: the JWS is tcId 357's, which is valid"},
	370: {reason: "defective: the JWS is tcId 357's, which is valid"},
	// A '?' inserted in a segment: the signature is over the text
	// without it. latch takes one spelling per token (strict base64url,
	// RFC 7515 §2), so it is ErrMalformed.
	372: {reason: "a character outside base64url: latch refuses it (strict base64url, one spelling per token)", err: ErrMalformed},
	373: {reason: "a character outside base64url: latch refuses it (strict base64url, one spelling per token)", err: ErrMalformed},
}

// wpJWSInternalKeys are the groups whose key NewHMACKey refuses as weak
// (a secret of 32 zero bytes): the test builds the Key struct directly so
// that the vectors still exercise the signature layer. In production the
// key could not exist.
var wpJWSInternalKeys = map[string]bool{"base64": true}

// wpVerifyJWS checks the compact JWS tok with key k as Keyring.Verify
// does once the kid chose k: jws.parse, then verifyJWS.
func wpVerifyJWS(k *Key, tok string) error {
	var j jws
	err := j.parse(tok, nil)
	if err == nil {
		_, err = k.verifyJWS(&j, nil)
	}
	return err
}

// TestWycheproofJWS runs the JWS vectors. PSS signatures whose salt is not
// the hash size (tcIds 281-286) are rejected, as Wycheproof says: RFC
// 7518 §3.5 fixes the salt length (jwsVerifyPSS).
func TestWycheproofJWS(t *testing.T) {
	var f wpJWSFile
	wpLoad(t, "json_web_signature_test.json", &f)
	byID := map[int]string{}
	run, excepted, internal := 0, 0, 0
	used := map[int]bool{}
	for _, g := range f.TestGroups {
		var j wpJWK
		raw := g.Public
		if raw == nil {
			raw = g.Private // symmetric keys are only "private"
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			t.Fatalf("group %s: %v", g.Comment, err)
		}
		key, keyErr := wpKey(t, j, j.Alg)
		if keyErr != nil && j.Kty == "oct" && wpJWSInternalKeys[g.Comment] {
			// NewHMACKey refuses this secret; an internal Key runs the
			// vectors anyway (see wpJWSInternalKeys).
			key = &Key{id: "wycheproof", alg: j.Alg, method: keyMethods[j.Alg], verifyKey: wpB64(t, j.K)}
			keyErr = nil
			internal += len(g.Tests)
		}
		for _, v := range g.Tests {
			run++
			byID[v.TcID] = v.JWS
			ex, isEx := wpJWSExceptions[v.TcID]
			if isEx {
				excepted++
				used[v.TcID] = true
			}
			want := wpWant(t, v.Result, isEx)
			var err error
			if err = keyErr; err == nil {
				err = wpVerifyJWS(key, v.JWS)
			}
			got := wpResult(err == nil)
			if err != nil && !wpSentinel(err) {
				t.Errorf("tcId %d (%s): error %v is none of latch's", v.TcID, v.Comment, err)
			}
			if got != want {
				t.Errorf("tcId %d (%s, %s, group %s): latch %v it (err %v), want %v; exception %q",
					v.TcID, v.Comment, v.Result, g.Comment, got, err, want, ex.reason)
			}
			if ex.err != nil && !errors.Is(err, ex.err) {
				t.Errorf("tcId %d (%s): err %v, want %v", v.TcID, v.Comment, err, ex.err)
			}
			if ex.altAlg != "" {
				k, err := wpKey(t, j, ex.altAlg)
				if err == nil {
					err = wpVerifyJWS(k, v.JWS)
				}
				if wpResult(err == nil) != wpWant(t, v.Result, false) {
					t.Errorf("tcId %d (%s): with the key as %s, err %v; want Wycheproof's result %s", v.TcID, v.Comment, ex.altAlg, err, v.Result)
				}
			}
		}
	}
	for id := range wpJWSExceptions {
		if !used[id] {
			t.Errorf("exception for tcId %d matches no vector", id)
		}
	}
	for _, id := range []int{367, 370} {
		if byID[id] != byID[357] {
			t.Errorf("tcId %d is no longer tcId 357's JWS: revisit its exception", id)
		}
	}
	t.Logf("JWS: %d vectors run, %d of them exceptions, %d with an internally built key", run, excepted, internal)
	if run != f.NumberOfTests || run != 401 || excepted != 12 || len(wpJWSExceptions) != 12 || internal != 21 {
		t.Errorf("ran %d of %d vectors (want 401), %d exceptions (want 12), %d with an internal key (want 21): the file or the table changed",
			run, f.NumberOfTests, excepted, internal)
	}
}

// wpJWKExceptions are the key-set vectors latch decides differently.
var wpJWKExceptions = map[int]wpException{
	1:  {reason: "a set mixing an HMAC and an EC key: each kid names one key with one algorithm, so a keyring may hold both (TestAlgorithmBoundToKey)"},
	21: {reason: "JWK use enc: latch reads no use member (no JWK import)"},
}

// TestWycheproofJWK runs the key-set vectors the way latch meets key
// sets: every JWK of the set through latch's constructor (NewHMACKey,
// NewVerifyKey) with its own alg, the keys into NewKeyring (behind a
// signing key of the test's own, as a ring needs one), then the token
// through the key its kid selects (keySnapshot.jwsKey) and verifyJWS. A key
// or ring latch refuses rejects the vector.
func TestWycheproofJWK(t *testing.T) {
	var f wpJWSFile
	wpLoad(t, "json_web_key_test.json", &f)
	signer, err := NewHMACKey("wycheproof-test-signer", "HS256", []byte("wycheproof test signer, 0123456789abcdefghijklmnop"))
	if err != nil {
		t.Fatal(err)
	}
	run, excepted := 0, 0
	used := map[int]bool{}
	for _, g := range f.TestGroups {
		var set wpJWK
		raw := g.Public
		if raw == nil {
			raw = g.Private
		}
		if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) == 0 {
			t.Fatalf("group %s: not a key set: %v", g.Comment, err)
		}
		keys := []*Key{signer}
		var keyErr error
		for _, j := range set.Keys {
			k, err := wpKey(t, j, j.Alg)
			if err != nil {
				keyErr = err
				break
			}
			keys = append(keys, k)
		}
		var ring *Keyring
		if keyErr == nil {
			ring, keyErr = NewKeyring(keys...)
			if keyErr != nil {
				keyErr = fmt.Errorf("%w: %v", ErrWeakKey, keyErr) // a refused set, as a refused key
			}
		}
		for _, v := range g.Tests {
			run++
			ex, isEx := wpJWKExceptions[v.TcID]
			if isEx {
				excepted++
				used[v.TcID] = true
			}
			want := wpWant(t, v.Result, isEx)
			err := keyErr
			if err == nil {
				var j jws
				var k *Key
				// As Keyring.Verify does, without its known headers.
				if err = j.parse(v.JWS, nil); err == nil {
					if k, err = ring.snap.Load().jwsKey(&j); err == nil {
						_, err = k.verifyJWS(&j, nil)
					}
				}
			}
			if err != nil && !wpSentinel(err) {
				t.Errorf("tcId %d (%s): error %v is none of latch's", v.TcID, v.Comment, err)
			}
			if got := wpResult(err == nil); got != want {
				t.Errorf("tcId %d (%s, %s, group %s): latch %v it (err %v), want %v; exception %q",
					v.TcID, v.Comment, v.Result, g.Comment, got, err, want, ex.reason)
			}
		}
	}
	for id := range wpJWKExceptions {
		if !used[id] {
			t.Errorf("exception for tcId %d matches no vector", id)
		}
	}
	t.Logf("JWK: %d vectors run, %d of them exceptions", run, excepted)
	if run != f.NumberOfTests || run != 26 || excepted != 2 || len(wpJWKExceptions) != 2 {
		t.Errorf("ran %d of %d vectors (want 26), %d exceptions (want 2): the file or the table changed", run, f.NumberOfTests, excepted)
	}
}

type wpPrimitiveFile struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		KeySize   int `json:"keySize"`
		TagSize   int `json:"tagSize"`
		PublicKey struct {
			Curve        string `json:"curve"`
			Uncompressed string `json:"uncompressed"`
		} `json:"publicKey"`
		Sha   string `json:"sha"`
		Tests []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			Key     string   `json:"key"`
			Msg     string   `json:"msg"`
			Tag     string   `json:"tag"`
			Sig     string   `json:"sig"`
			Result  string   `json:"result"`
			Flags   []string `json:"flags"`
		} `json:"tests"`
	} `json:"testGroups"`
}

func wpHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWycheproofHMAC runs the HMAC-SHA256 vectors through HS256's
// signature layer (checkSignature), the message as signing input and the tag
// as signature.
//
// Exception class, truncated tags: every vector of a group with tagSize
// below 256 must be rejected, valid ones included. latch requires the
// full 32-byte tag (a JWS HS256 signature is the whole HMAC output, RFC
// 7518 §3.2).
//
// Keys shorter than 32 bytes are refused by NewHMACKey (asserted); the
// test builds those Keys directly so that the vectors still run.
func TestWycheproofHMAC(t *testing.T) {
	var f wpPrimitiveFile
	wpLoad(t, "hmac_sha256_test.json", &f)
	run, truncated, internal := 0, 0, 0
	for _, g := range f.TestGroups {
		for _, v := range g.Tests {
			run++
			isEx := g.TagSize < 256
			if isEx {
				truncated++
			}
			want := wpWant(t, v.Result, false)
			if isEx {
				want = wpRejected
			}
			secret := wpHex(t, v.Key)
			k, err := NewHMACKey("", "HS256", secret)
			if err != nil {
				if len(secret) >= 32 || !errors.Is(err, ErrWeakKey) {
					t.Fatalf("tcId %d: NewHMACKey refused a %d-byte key: %v", v.TcID, len(secret), err)
				}
				k = &Key{id: "wycheproof", alg: "HS256", method: jwt.SigningMethodHS256, verifyKey: secret}
				internal++
			}
			err = k.checkSignature(string(wpHex(t, v.Msg)), wpHex(t, v.Tag))
			if got := wpResult(err == nil); got != want {
				t.Errorf("tcId %d (%s, %s, key %d bits, tag %d bits): latch %v it, want %v",
					v.TcID, v.Comment, v.Result, g.KeySize, g.TagSize, got, want)
			}
		}
	}
	t.Logf("HMAC: %d vectors run, %d of them truncated tags (rejected by design), %d with a key NewHMACKey refuses", run, truncated, internal)
	if run != f.NumberOfTests || run != 174 || truncated != 87 || internal != 6 {
		t.Errorf("ran %d of %d vectors (want 174), %d truncated (want 87), %d short keys (want 6): the file changed",
			run, f.NumberOfTests, truncated, internal)
	}
}

// TestWycheproofECDSA runs the ECDSA P-256 SHA-256 vectors in P1363 form
// (r||s, as JWS ES256 signatures are) through ES256's signature layer,
// with each group's key made by NewVerifyKey. No exceptions: signatures
// of any length but 64 bytes are invalid and rejected, r or s out of
// range is rejected. High-s signatures are valid in Wycheproof and
// golang-jwt accepts them: ECDSA signatures are malleable (s and n-s both
// verify), so a token can have two spellings with one meaning. That is
// why revocation and replay checks key on sid and jti, never on the
// token's bytes.
func TestWycheproofECDSA(t *testing.T) {
	var f wpPrimitiveFile
	wpLoad(t, "ecdsa_secp256r1_sha256_p1363_test.json", &f)
	run := 0
	for _, g := range f.TestGroups {
		if g.PublicKey.Curve != "secp256r1" || g.Sha != "SHA-256" {
			t.Fatalf("group for %s with %s: not P-256 and SHA-256", g.PublicKey.Curve, g.Sha)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), wpHex(t, g.PublicKey.Uncompressed))
		if err != nil {
			t.Fatal(err)
		}
		k, err := NewVerifyKey("", "ES256", pub)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range g.Tests {
			run++
			want := wpWant(t, v.Result, false)
			err := k.checkSignature(string(wpHex(t, v.Msg)), wpHex(t, v.Sig))
			if got := wpResult(err == nil); got != want {
				t.Errorf("tcId %d (%s, %s, flags %v): latch %v it, want %v", v.TcID, v.Comment, v.Result, v.Flags, got, want)
			}
		}
	}
	t.Logf("ECDSA: %d vectors run, no exceptions", run)
	if run != f.NumberOfTests || run != 262 {
		t.Errorf("ran %d of %d vectors (want 262): the file changed", run, f.NumberOfTests)
	}
}
