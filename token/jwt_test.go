package token_test

import (
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/token"
)

func TestRoundTripEveryAlgorithm(t *testing.T) {
	ec256, ec384, ec521 := jtEC(t, elliptic.P256()), jtEC(t, elliptic.P384()), jtEC(t, elliptic.P521())
	ed := jtEd(t)
	tests := []struct {
		alg string
		key func(t *testing.T) *token.Key
	}{
		{"HS256", func(t *testing.T) *token.Key { return jtHMAC(t, "HS256", jtSecret(32)) }},
		{"HS384", func(t *testing.T) *token.Key { return jtHMAC(t, "HS384", jtSecret(48)) }},
		{"HS512", func(t *testing.T) *token.Key { return jtHMAC(t, "HS512", jtSecret(64)) }},
		{"RS256", func(t *testing.T) *token.Key { return jtSigner(t, "RS256", jtRSA()) }},
		{"RS384", func(t *testing.T) *token.Key { return jtSigner(t, "RS384", jtRSA()) }},
		{"RS512", func(t *testing.T) *token.Key { return jtSigner(t, "RS512", jtRSA()) }},
		{"PS256", func(t *testing.T) *token.Key { return jtSigner(t, "PS256", jtRSA()) }},
		{"PS384", func(t *testing.T) *token.Key { return jtSigner(t, "PS384", jtRSA()) }},
		{"PS512", func(t *testing.T) *token.Key { return jtSigner(t, "PS512", jtRSA()) }},
		{"ES256", func(t *testing.T) *token.Key { return jtSigner(t, "ES256", ec256) }},
		{"ES384", func(t *testing.T) *token.Key { return jtSigner(t, "ES384", ec384) }},
		{"ES512", func(t *testing.T) *token.Key { return jtSigner(t, "ES512", ec521) }},
		{"EdDSA", func(t *testing.T) *token.Key { return jtSigner(t, "EdDSA", ed) }},
	}
	in := &token.Claims{
		Subject:   "user-1",
		IssuedAt:  jtNow.Add(-time.Minute),
		NotBefore: jtNow.Add(-time.Minute),
		ExpiresAt: jtNow.Add(time.Hour),
		ID:        "jti-1",
		Type:      "refresh",
		Fresh:     true,
		SessionID: "sess-1",
		Issuer:    "https://latch.example",
		Audience:  []string{"api"},
		Extra:     map[string]any{"role": "admin", "n": 3.0, "tags": []any{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			k := tt.key(t)
			if k.Alg() != tt.alg || !k.CanSign() || k.ID() == "" {
				t.Fatalf("key: alg %q, can sign %v, id %q", k.Alg(), k.CanSign(), k.ID())
			}
			r := jtRing(t, k)
			tok, err := r.Sign(in)
			if err != nil {
				t.Fatal(err)
			}
			hdr, _ := base64.RawURLEncoding.DecodeString(tok[:strings.IndexByte(tok, '.')])
			want := `{"alg":"` + tt.alg + `","kid":"` + k.ID() + `","typ":"JWT"}`
			if string(hdr) != want {
				t.Errorf("header = %s, want %s", hdr, want)
			}
			got, err := r.Verify(tok, token.VerifyOptions{Now: jtNow, Issuer: in.Issuer, Audience: "api"})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, in) {
				t.Errorf("claims = %+v\nwant %+v", got, in)
			}
		})
	}
}

func TestSignHeaderAndClaimsEncoding(t *testing.T) {
	r := jtRing(t, jtHMAC(t, "", jtSecret(32)))
	c := jtClaims()
	c.Audience = []string{"a", "b"}
	c.FreshUntil = jtNow.Add(10 * time.Minute)
	tok, err := r.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	if m["fresh"] != float64(jtNow.Add(10*time.Minute).Unix()) {
		t.Errorf("fresh = %v, want the deadline", m["fresh"])
	}
	if !reflect.DeepEqual(m["aud"], []any{"a", "b"}) {
		t.Errorf("aud = %v", m["aud"])
	}
	c.Audience = []string{"a"}
	c.FreshUntil = time.Time{}
	tok, _ = r.Sign(c)
	payload, _ = base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	m = nil
	json.Unmarshal(payload, &m)
	if m["aud"] != "a" || m["fresh"] != false {
		t.Errorf("aud = %v, fresh = %v; want \"a\", false", m["aud"], m["fresh"])
	}
}

func TestSignErrors(t *testing.T) {
	r := jtRing(t, jtHMAC(t, "", jtSecret(32)))
	mod := func(f func(c *token.Claims)) *token.Claims { c := jtClaims(); f(c); return c }
	tests := []struct {
		name string
		c    *token.Claims
	}{
		{"nil", nil},
		{"no exp", mod(func(c *token.Claims) { c.ExpiresAt = time.Time{} })},
		{"no subject", mod(func(c *token.Claims) { c.Subject = "" })},
		{"exp before 1970", mod(func(c *token.Claims) { c.ExpiresAt = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"exp after 9999", mod(func(c *token.Claims) { c.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"iat before 1970", mod(func(c *token.Claims) { c.IssuedAt = time.Unix(-1, 0) })},
		{"fresh deadline after 9999", mod(func(c *token.Claims) { c.FreshUntil = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"extra not JSON", mod(func(c *token.Claims) { c.Extra = map[string]any{"ch": make(chan int)} })},
		{"too long", mod(func(c *token.Claims) { c.Extra = map[string]any{"big": strings.Repeat("x", 7000)} })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := r.Sign(tt.c)
			if !errors.Is(err, token.ErrMalformed) || tok != "" {
				t.Fatalf("Sign = %q, %v; want ErrMalformed", tok, err)
			}
		})
	}
}

func TestVerifyOnlyKeyVerifies(t *testing.T) {
	priv := jtEd(t)
	signer := jtRing(t, jtSigner(t, "", priv))
	pub, err := token.NewVerifyKey("", "", priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	if pub.CanSign() || pub.Alg() != "EdDSA" {
		t.Fatalf("verify key: can sign %v, alg %q", pub.CanSign(), pub.Alg())
	}
	verifier := jtRing(t, jtHMAC(t, "", jtSecret(32)), pub)
	tok, _ := signer.Sign(jtClaims())
	if _, err := verifier.Verify(tok, jtOpts()); err != nil {
		t.Fatal(err)
	}
	// The verifier signs with its HMAC key, never with pub.
	own, _ := verifier.Sign(jtClaims())
	if _, err := signer.Verify(own, jtOpts()); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
}
