package token_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchauth/latch/token"
)

// jtNow is the verification time of most tests.
var jtNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func jtOpts() token.VerifyOptions { return token.VerifyOptions{Now: jtNow} }

// RSA keys are slow to generate: one per test binary.
var jtRSA = sync.OnceValue(jtGenRSA)

func jtGenRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func jtEC(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func jtEd(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func jtSecret(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func jtMust[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func jtHMAC(t testing.TB, alg string, secret []byte) *token.Key {
	t.Helper()
	return jtMust[*token.Key](t)(token.NewHMACKey("", alg, secret))
}

func jtSigner(t testing.TB, alg string, priv any) *token.Key {
	t.Helper()
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		return jtMust[*token.Key](t)(token.NewSigningKey("", alg, p))
	case *ecdsa.PrivateKey:
		return jtMust[*token.Key](t)(token.NewSigningKey("", alg, p))
	case ed25519.PrivateKey:
		return jtMust[*token.Key](t)(token.NewSigningKey("", alg, p))
	}
	t.Fatalf("jtSigner: %T", priv)
	return nil
}

func jtRing(t testing.TB, keys ...*token.Key) *token.Keyring {
	t.Helper()
	return jtMust[*token.Keyring](t)(token.NewKeyring(keys...))
}

// jtClaims are valid at jtNow.
func jtClaims() *token.Claims {
	return &token.Claims{
		Subject:   "user-1",
		IssuedAt:  jtNow.Add(-time.Minute),
		ExpiresAt: jtNow.Add(time.Hour),
		Type:      "access",
	}
}

func jtB64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// jtJSON encodes v, panicking on error.
func jtJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// jtHeader is a header with alg and kid; a nil value removes a member.
func jtHeader(alg, kid string, more map[string]any) string {
	h := map[string]any{"alg": alg, "kid": kid, "typ": "JWT"}
	for k, v := range more {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	return jtJSON(h)
}

// jtPayload is a claims object valid at jtNow, changed by more: a nil
// value removes a member, a json.RawMessage is written as it is.
func jtPayload(more map[string]any) string {
	c := map[string]any{
		"sub": "user-1",
		"iat": jtNow.Add(-time.Minute).Unix(),
		"exp": jtNow.Add(time.Hour).Unix(),
	}
	for k, v := range more {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return jtJSON(c)
}

// jtRaw returns header.claims signed with method and key, spelled exactly
// as given; method nil leaves the signature empty.
func jtRaw(t testing.TB, header, claims string, method jwt.SigningMethod, key any) string {
	t.Helper()
	s := jtB64(header) + "." + jtB64(claims)
	if method == nil {
		return s + "."
	}
	sig, err := method.Sign(s, key)
	if err != nil {
		t.Fatal(err)
	}
	return s + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// jtBreakSig flips a bit of tok's signature.
func jtBreakSig(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 1
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// jtNonCanonical respells the last character of a base64url segment with a
// non-zero trailing bit: the same bytes to a lenient decoder.
func jtNonCanonical(t testing.TB, seg string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(seg)%4 == 0 {
		t.Fatalf("segment of length %d has no trailing bits", len(seg))
	}
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	if last&1 != 0 {
		t.Fatal("last character already has its low bit set")
	}
	out := seg[:len(seg)-1] + string(alphabet[last|1])
	lenient, err := base64.RawURLEncoding.DecodeString(out)
	want, _ := base64.RawURLEncoding.DecodeString(seg)
	if err != nil || string(lenient) != string(want) {
		t.Fatal("respelled segment does not decode to the same bytes")
	}
	return out
}

// jtSentinels are the errors Verify may return.
var jtSentinels = []error{
	token.ErrMalformed, token.ErrUnknownKey, token.ErrSignature, token.ErrExpired,
	token.ErrNotYetValid, token.ErrClaims,
}

func jtIsSentinel(err error) bool {
	for _, s := range jtSentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// jtWantErr fails t unless err matches want (nil: no error).
func jtWantErr(t testing.TB, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

// jtResign returns what Sign should write back for c: Extra without
// reserved names, nil when empty.
func jtResignExpect(c token.Claims) token.Claims {
	if c.Extra != nil {
		extra := maps.Clone(c.Extra)
		for k := range extra {
			for _, r := range []string{"sub", "iat", "nbf", "exp", "jti", "type", "fresh", "sid", "iss", "aud", "csrf", "act"} {
				if strings.EqualFold(k, r) {
					delete(extra, k)
				}
			}
		}
		if len(extra) == 0 {
			extra = nil
		}
		c.Extra = extra
	}
	return c
}

// jtKidOf returns the kid header of tok.
func jtKidOf(tok string) string {
	h, _ := base64.RawURLEncoding.DecodeString(tok[:strings.IndexByte(tok, '.')])
	var v struct{ Kid string }
	json.Unmarshal(h, &v)
	return v.Kid
}
