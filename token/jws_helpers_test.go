package token

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

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
