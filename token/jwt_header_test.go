package token_test

import (
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchauth/latch/token"
)

func TestAlgorithmBoundToKey(t *testing.T) {
	secret := jtSecret(32)
	hs := jtHMAC(t, "HS256", secret)
	rs := jtSigner(t, "RS256", jtRSA())
	es := jtSigner(t, "ES256", jtEC(t, elliptic.P256()))
	edPriv := jtEd(t)
	ed := jtSigner(t, "EdDSA", edPriv)
	r := jtRing(t, hs, rs, es, ed)

	pubDER, err := x509.MarshalPKIXPublicKey(&jtRSA().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	body := jtPayload(nil)

	tests := []struct {
		name string
		tok  string
		want error
	}{
		{"control HS256", jtRaw(t, jtHeader("HS256", hs.ID(), nil), body, jwt.SigningMethodHS256, secret), nil},
		{"control RS256", jtRaw(t, jtHeader("RS256", rs.ID(), nil), body, jwt.SigningMethodRS256, jtRSA()), nil},
		{"alg none", jtRaw(t, jtHeader("none", hs.ID(), nil), body, nil, nil), token.ErrSignature},
		{"alg None", jtRaw(t, jtHeader("None", hs.ID(), nil), body, nil, nil), token.ErrSignature},
		{"alg NONE", jtRaw(t, jtHeader("NONE", rs.ID(), nil), body, nil, nil), token.ErrSignature},
		{"alg empty", jtRaw(t, jtHeader("", es.ID(), nil), body, nil, nil), token.ErrSignature},
		{"alg absent", jtRaw(t, jtHeader("", ed.ID(), map[string]any{"alg": nil}), body, nil, nil), token.ErrSignature},
		{"alg none with HMAC signature", jtRaw(t, jtHeader("none", hs.ID(), nil), body, jwt.SigningMethodHS256, secret), token.ErrSignature},
		{"alg lower case", jtRaw(t, jtHeader("hs256", hs.ID(), nil), body, jwt.SigningMethodHS256, secret), token.ErrSignature},
		{"alg not a string", jtRaw(t, `{"alg":256,"kid":"`+hs.ID()+`"}`, body, jwt.SigningMethodHS256, secret), token.ErrMalformed},
		{"HS512 with the HS256 key's secret", jtRaw(t, jtHeader("HS512", hs.ID(), nil), body, jwt.SigningMethodHS512, secret), token.ErrSignature},
		{"HS256 keyed with RSA public key PEM", jtRaw(t, jtHeader("HS256", rs.ID(), nil), body, jwt.SigningMethodHS256, pubPEM), token.ErrSignature},
		{"HS256 keyed with RSA public key DER", jtRaw(t, jtHeader("HS256", rs.ID(), nil), body, jwt.SigningMethodHS256, pubDER), token.ErrSignature},
		{"PS256 with the RS256 key", jtRaw(t, jtHeader("PS256", rs.ID(), nil), body, jwt.SigningMethodPS256, jtRSA()), token.ErrSignature},
		{"RS256 naming the HMAC key", jtRaw(t, jtHeader("RS256", hs.ID(), nil), body, jwt.SigningMethodRS256, jtRSA()), token.ErrSignature},
		{"EdDSA naming the ES256 key", jtRaw(t, jtHeader("EdDSA", es.ID(), nil), body, jwt.SigningMethodEdDSA, edPriv), token.ErrSignature},
		{"ES384 naming the ES256 key", jtRaw(t, jtHeader("ES384", es.ID(), nil), body, jwt.SigningMethodES384, jtEC(t, elliptic.P384())), token.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Verify(tt.tok, jtOpts())
			jtWantErr(t, err, tt.want)
		})
	}

	// An HMAC key made from the PEM is a different key with its own kid:
	// it cannot stand in for the RSA key.
	t.Run("PEM as HMAC secret is its own key", func(t *testing.T) {
		hk, err := token.NewHMACKey(rs.ID(), "HS256", pubPEM)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := token.NewKeyring(hk, rs); err == nil {
			t.Fatal("ring accepted an HMAC key with the RSA key's id")
		}
		forged := jtRaw(t, jtHeader("HS256", rs.ID(), nil), body, jwt.SigningMethodHS256, pubPEM)
		_, err = jtRing(t, rs).Verify(forged, jtOpts())
		jtWantErr(t, err, token.ErrSignature)
	})
}

func TestKid(t *testing.T) {
	secret := jtSecret(32)
	r := jtRing(t, jtHMAC(t, "", secret))
	body := jtPayload(nil)
	tests := []struct {
		name   string
		header string
		want   error
	}{
		{"absent", jtHeader("HS256", "", map[string]any{"kid": nil}), token.ErrUnknownKey},
		{"empty", jtHeader("HS256", "", nil), token.ErrUnknownKey},
		{"unknown", jtHeader("HS256", "no-such-key", nil), token.ErrUnknownKey},
		{"path traversal", jtHeader("HS256", "../../etc/passwd", nil), token.ErrUnknownKey},
		{"SQL", jtHeader("HS256", "' OR '1'='1'; DROP TABLE keys; --", nil), token.ErrUnknownKey},
		{"NUL byte", jtHeader("HS256", "k\x00", nil), token.ErrUnknownKey},
		{"number", jtHeader("HS256", "", map[string]any{"kid": 1}), token.ErrMalformed},
		{"array", jtHeader("HS256", "", map[string]any{"kid": []string{"a"}}), token.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := jtRaw(t, tt.header, body, jwt.SigningMethodHS256, secret)
			_, err := r.Verify(tok, jtOpts())
			jtWantErr(t, err, tt.want)
			if err != nil && strings.Contains(err.Error(), "passwd") {
				t.Errorf("error quotes the kid: %v", err)
			}
		})
	}
}

func TestCrit(t *testing.T) {
	secret := jtSecret(32)
	k := jtHMAC(t, "", secret)
	r := jtRing(t, k)
	tests := []struct {
		name string
		crit any
		body string
		sign bool
		want error
	}{
		{"names exp", []string{"exp"}, jtPayload(nil), true, token.ErrClaims},
		{"names b64", []string{"b64"}, jtPayload(nil), true, token.ErrClaims},
		{"empty list", []string{}, jtPayload(nil), true, token.ErrClaims},
		{"string", "exp", jtPayload(nil), true, token.ErrClaims},
		{"null", json.RawMessage("null"), jtPayload(nil), true, token.ErrClaims},
		{"and expired", []string{"exp"}, jtPayload(map[string]any{"exp": jtNow.Add(-time.Hour).Unix()}), true, token.ErrClaims},
		{"with a bad signature", []string{"exp"}, jtPayload(nil), false, token.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := jtHeader("HS256", k.ID(), map[string]any{"crit": tt.crit})
			tok := jtRaw(t, h, tt.body, jwt.SigningMethodHS256, secret)
			if !tt.sign {
				tok = jtBreakSig(tok)
			}
			_, err := r.Verify(tok, jtOpts())
			jtWantErr(t, err, tt.want)
		})
	}
}

func TestKeyHeadersIgnored(t *testing.T) {
	ringPriv := jtEC(t, elliptic.P256())
	ringKey := jtSigner(t, "ES256", ringPriv)
	r := jtRing(t, ringKey)
	attacker := jtEC(t, elliptic.P256())
	attackerKey := jtSigner(t, "ES256", attacker)
	pt, _ := attacker.PublicKey.Bytes()
	attackerJWK := map[string]any{
		"kty": "EC", "crv": "P-256",
		"x": base64.RawURLEncoding.EncodeToString(pt[1:33]),
		"y": base64.RawURLEncoding.EncodeToString(pt[33:]),
	}
	der, _ := x509.MarshalPKIXPublicKey(&attacker.PublicKey)
	extra := map[string]any{
		"jwk": attackerJWK,
		"jku": "https://attacker.example/jwks.json",
		"x5u": "https://attacker.example/cert.pem",
		"x5c": []string{base64.StdEncoding.EncodeToString(der)},
	}
	body := jtPayload(nil)
	hsSecret := jtSecret(32)
	hs := jtHMAC(t, "", hsSecret)
	hsRing := jtRing(t, hs)
	attackerSecret := jtSecret(32)
	octJWK := map[string]any{"jwk": map[string]any{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString(attackerSecret)}}

	tests := []struct {
		name string
		ring *token.Keyring
		tok  string
		want error
	}{
		{"signed by ring key", r, jtRaw(t, jtHeader("ES256", ringKey.ID(), extra), body, jwt.SigningMethodES256, ringPriv), nil},
		{"signed by embedded key, ring kid", r, jtRaw(t, jtHeader("ES256", ringKey.ID(), extra), body, jwt.SigningMethodES256, attacker), token.ErrSignature},
		{"signed by embedded key, its kid", r, jtRaw(t, jtHeader("ES256", attackerKey.ID(), extra), body, jwt.SigningMethodES256, attacker), token.ErrUnknownKey},
		{"embedded key without kid", r, jtRaw(t, jtHeader("ES256", "", extra), body, jwt.SigningMethodES256, attacker), token.ErrUnknownKey},
		{"embedded oct key", hsRing, jtRaw(t, jtHeader("HS256", hs.ID(), octJWK), body, jwt.SigningMethodHS256, attackerSecret), token.ErrSignature},
		{"oct header, ring secret", hsRing, jtRaw(t, jtHeader("HS256", hs.ID(), octJWK), body, jwt.SigningMethodHS256, hsSecret), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.ring.Verify(tt.tok, jtOpts())
			jtWantErr(t, err, tt.want)
		})
	}
}
