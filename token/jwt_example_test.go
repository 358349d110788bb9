package token_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchauth/latch/token"
)

func ExampleKeyring_Sign() {
	// In production the secret comes from configuration, made with
	// openssl rand -base64 32.
	secret, err := token.DecodeSecret("uLRTKmjvWa/ki1C77QClO35vYSU1yVBgSDwuj3QuXlM=")
	if err != nil {
		panic(err)
	}
	key, err := token.NewHMACKey("2026-01", "HS256", secret)
	if err != nil {
		panic(err)
	}
	ring, err := token.NewKeyring(key)
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tok, err := ring.Sign(&token.Claims{
		Subject:   "user-42",
		IssuedAt:  now,
		ExpiresAt: now.Add(15 * time.Minute),
		Type:      "access",
	})
	if err != nil {
		panic(err)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	fmt.Println(string(header))

	c, err := ring.Verify(tok, token.VerifyOptions{Now: now.Add(time.Minute)})
	fmt.Println(c.Subject, c.Type, c.ExpiresAt.Format(time.RFC3339), err)

	_, err = ring.Verify(tok, token.VerifyOptions{Now: now.Add(time.Hour)})
	fmt.Println(errors.Is(err, token.ErrExpired), err)
	// Output:
	// {"alg":"HS256","kid":"2026-01","typ":"JWT"}
	// user-42 access 2026-01-01T12:15:00Z <nil>
	// true token: expired
}

func ExampleNewHMACKey() {
	_, err := token.NewHMACKey("", "HS256", []byte("super-secret"))
	fmt.Println(err)
	_, err = token.NewHMACKey("", "HS256", []byte("0123456789"))
	fmt.Println(errors.Is(err, token.ErrWeakKey))
	// Output:
	// token: key refused: HMAC secret is a well-known default from tutorials or examples; generate one with: openssl rand -base64 32
	// true
}

func ExampleKeyring_Add() {
	old, _ := token.NewHMACKey("old", "", jtMustSecret("uLRTKmjvWa/ki1C77QClO35vYSU1yVBgSDwuj3QuXlM="))
	ring, _ := token.NewKeyring(old)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	claims := &token.Claims{Subject: "user-42", ExpiresAt: now.Add(time.Hour)}
	before, _ := ring.Sign(claims)

	// Rotate: the new key signs at once, the old one still verifies.
	next, _ := token.NewHMACKey("new", "", jtMustSecret("GmPD0Z2UgyDJk7l6xyIBpr6X0zaVKiuPykn2Bol7kTg="))
	ring.Add(next)
	_, err := ring.Verify(before, token.VerifyOptions{Now: now})
	fmt.Println(err)

	// Once tokens of the old key have expired, remove it.
	ring.Remove("old")
	_, err = ring.Verify(before, token.VerifyOptions{Now: now})
	fmt.Println(err)
	// Output:
	// <nil>
	// token: unknown key: kid names no key of the keyring
}

func jtMustSecret(s string) []byte {
	b, err := token.DecodeSecret(s)
	if err != nil {
		panic(err)
	}
	return b
}

func ExampleKeyring_JWKS() {
	seed := make([]byte, ed25519.SeedSize) // a real key comes from crypto/rand
	key, _ := token.NewSigningKey("", "", ed25519.NewKeyFromSeed(seed))
	ring, _ := token.NewKeyring(key)

	fmt.Println(string(ring.JWKS())) // latchhttp.JWKSHandler serves it
	// Output:
	// {"keys":[{"kty":"OKP","use":"sig","alg":"EdDSA","kid":"9ZP03Nu8GrXPAUkbKNxHOKBzxPX83SShgFkRNK-f2lw","crv":"Ed25519","x":"O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik"}]}
}
