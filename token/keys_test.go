package token_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/latchauth/latch/token"
)

func TestHMACKeyRules(t *testing.T) {
	// n bytes cycling through d distinct values, in a scrambled order.
	distinct := func(n, d int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte((i%d)*37 + 11)
		}
		return b
	}
	tests := []struct {
		name    string
		alg     string
		secret  []byte
		wantErr string // substring of the error; "" means accepted
	}{
		{"super-secret", "HS256", []byte("super-secret"), "well-known"},
		{"SUPER-SECRET", "HS256", []byte("SUPER-SECRET"), "well-known"},
		{"secret", "HS256", []byte("secret"), "well-known"},
		{"your-256-bit-secret", "HS256", []byte("your-256-bit-secret"), "well-known"},
		{"jwt.io default", "HS256", []byte("a-string-secret-at-least-256-bits-long"), "well-known"},
		{"jwt.io default, mixed case", "HS256", []byte("A-String-Secret-At-Least-256-Bits-Long"), "well-known"},
		{"supabase default", "HS256", []byte("super-secret-jwt-token-with-at-least-32-characters-long"), "well-known"},
		{"changeme", "HS256", []byte("changeme"), "well-known"},
		{"password", "HS512", []byte("Password"), "well-known"},
		{"empty", "HS256", nil, "empty"},
		{"HS256 31 bytes", "HS256", jtSecret(31), "shorter than 32 bytes"},
		{"HS256 32 bytes", "HS256", jtSecret(32), ""},
		{"HS384 47 bytes", "HS384", jtSecret(47), "shorter than 48 bytes"},
		{"HS384 48 bytes", "HS384", jtSecret(48), ""},
		{"HS512 63 bytes", "HS512", jtSecret(63), "shorter than 64 bytes"},
		{"HS512 32 bytes", "HS512", jtSecret(32), "shorter than 64 bytes"},
		{"HS512 64 bytes", "HS512", jtSecret(64), ""},
		{"default alg 32 bytes", "", jtSecret(32), ""},
		{"15 distinct values", "HS256", distinct(32, 15), "distinct"},
		{"16 distinct values", "HS256", distinct(32, 16), ""},
		{"repeated word", "HS256", []byte(strings.Repeat("secret", 6)), "distinct"},
		{"zeros", "HS512", make([]byte, 64), "distinct"},
		{"alg RS256", "RS256", jtSecret(32), "not an HMAC algorithm"},
		{"alg none", "none", jtSecret(32), "not an HMAC algorithm"},
		{"alg lower case", "hs256", jtSecret(32), "not an HMAC algorithm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := token.NewHMACKey("", tt.alg, tt.secret)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !k.CanSign() || k.Alg() == "" {
					t.Fatalf("key: can sign %v, alg %q", k.CanSign(), k.Alg())
				}
				return
			}
			if !errors.Is(err, token.ErrWeakKey) || k != nil {
				t.Fatalf("err = %v, want ErrWeakKey", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not say %q", err, tt.wantErr)
			}
			if len(tt.secret) >= 12 && bytes.Contains([]byte(strings.ToLower(err.Error())), bytes.ToLower(tt.secret)) {
				t.Errorf("error quotes the secret: %v", err)
			}
		})
	}
}

func TestHMACKeyID(t *testing.T) {
	secret := jtSecret(32)
	k := jtHMAC(t, "", secret)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("latch-kid"))
	want := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
	if k.ID() != want {
		t.Errorf("ID = %q, want %q", k.ID(), want)
	}
	plain := sha256.Sum256(secret)
	if k.ID() == base64.RawURLEncoding.EncodeToString(plain[:16]) {
		t.Error("ID is a plain hash of the secret")
	}
	if k.Alg() != "HS256" {
		t.Errorf("Alg = %q, want HS256", k.Alg())
	}
	named, err := token.NewHMACKey("2026-01", "HS384", jtSecret(48))
	if err != nil || named.ID() != "2026-01" {
		t.Fatalf("named key: %v, %v", named.ID(), err)
	}
	// The key keeps its own copy of the secret.
	r := jtRing(t, k)
	tok, _ := r.Sign(jtClaims())
	clear(secret)
	if _, err := r.Verify(tok, jtOpts()); err != nil {
		t.Fatalf("secret not copied: %v", err)
	}
}

func TestZeroAndNilKeys(t *testing.T) {
	var nilKey *token.Key
	if nilKey.ID() != "" || nilKey.Alg() != "" || nilKey.CanSign() {
		t.Error("nil key has attributes")
	}
	zero := &token.Key{}
	if zero.CanSign() {
		t.Error("zero key can sign")
	}
	for _, keys := range [][]*token.Key{{zero}, {nil}, {jtHMAC(t, "", jtSecret(32)), zero}, {jtHMAC(t, "", jtSecret(32)), nil}} {
		if _, err := token.NewKeyring(keys...); err == nil {
			t.Errorf("NewKeyring(%v) accepted a key without key material", keys)
		}
	}
	r := jtRing(t, jtHMAC(t, "", jtSecret(32)))
	if r.Add(zero) == nil || r.Add(nil) == nil {
		t.Error("Add accepted a key without key material")
	}
}

func TestAsymmetricKeyRules(t *testing.T) {
	rsaKey := jtRSA()
	p224 := jtEC(t, elliptic.P224())
	p256 := jtEC(t, elliptic.P256())
	p384 := jtEC(t, elliptic.P384())
	p521 := jtEC(t, elliptic.P521())
	ed := jtEd(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	badEd := append(ed25519.PrivateKey(nil), ed...)
	badEd[63] ^= 1 // public half no longer the seed's
	e3 := &rsa.PublicKey{N: rsaKey.N, E: 1}

	type newFunc func() (*token.Key, error)
	sign := func(alg string, k crypto.Signer) newFunc {
		return func() (*token.Key, error) { return token.NewSigningKey("", alg, k) }
	}
	verify := func(alg string, k crypto.PublicKey) newFunc {
		return func() (*token.Key, error) { return token.NewVerifyKey("", alg, k) }
	}
	tests := []struct {
		name    string
		new     newFunc
		wantAlg string // "" means refused
		canSign bool
	}{
		{"RSA default", sign("", rsaKey), "RS256", true},
		{"RSA PS512", sign("PS512", rsaKey), "PS512", true},
		{"RSA public default", verify("", &rsaKey.PublicKey), "RS256", false},
		{"RSA ES256", sign("ES256", rsaKey), "", false},
		{"RSA HS256", sign("HS256", rsaKey), "", false},
		{"RSA none", verify("none", &rsaKey.PublicKey), "", false},
		{"RSA 1024 bits", sign("", small), "", false},
		{"RSA public 1024 bits", verify("RS256", &small.PublicKey), "", false},
		{"RSA exponent 1", verify("RS256", e3), "", false},
		{"P-256 default", sign("", p256), "ES256", true},
		{"P-384 default", sign("", p384), "ES384", true},
		{"P-521 default", sign("", p521), "ES512", true},
		{"P-521 public", verify("ES512", &p521.PublicKey), "ES512", false},
		{"P-256 as ES384", sign("ES384", p256), "", false},
		{"P-384 as ES256", verify("ES256", &p384.PublicKey), "", false},
		{"P-224", sign("", p224), "", false},
		{"P-224 public", verify("", &p224.PublicKey), "", false},
		{"Ed25519 default", sign("", ed), "EdDSA", true},
		{"Ed25519 public", verify("EdDSA", ed.Public()), "EdDSA", false},
		{"Ed25519 as ES256", sign("ES256", ed), "", false},
		{"Ed25519 short", sign("", ed[:40]), "", false},
		{"Ed25519 inconsistent", sign("", badEd), "", false},
		{"Ed25519 public short", verify("", ed25519.PublicKey(ed[:8])), "", false},
		{"nil signer", sign("", nil), "", false},
		{"nil RSA", sign("", (*rsa.PrivateKey)(nil)), "", false},
		{"nil ECDSA public", verify("", (*ecdsa.PublicKey)(nil)), "", false},
		{"nil public", verify("", nil), "", false},
		{"bytes as public key", verify("HS256", jtSecret(32)), "", false},
		{"private key as public key", verify("", rsaKey), "", false},
		{"RSA public by value", verify("", rsaKey.PublicKey), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := tt.new()
			if tt.wantAlg == "" {
				if !errors.Is(err, token.ErrWeakKey) {
					t.Fatalf("err = %v, want ErrWeakKey", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Alg() != tt.wantAlg || k.CanSign() != tt.canSign || len(k.ID()) != 43 {
				t.Errorf("alg %q, can sign %v, id %q", k.Alg(), k.CanSign(), k.ID())
			}
		})
	}
}

func TestThumbprintKeyID(t *testing.T) {
	// RFC 7638 §3.1.
	n, _ := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	k, err := token.NewVerifyKey("", "RS256", &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537})
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; k.ID() != want {
		t.Errorf("ID = %q, want %q", k.ID(), want)
	}
	// The private and the public half get the same id.
	ed := jtEd(t)
	a, b := jtSigner(t, "", ed), jtMust[*token.Key](t)(token.NewVerifyKey("", "", ed.Public()))
	if a.ID() != b.ID() {
		t.Errorf("ids differ: %q, %q", a.ID(), b.ID())
	}
}

func TestParsePEMKey(t *testing.T) {
	rsaKey := jtRSA()
	ec := jtEC(t, elliptic.P384())
	ed := jtEd(t)
	block := func(typ string, der []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	}
	pkcs8 := func(k any) []byte { d, err := x509.MarshalPKCS8PrivateKey(k); return block("PRIVATE KEY", d, err) }
	pkix := func(k any) []byte { d, err := x509.MarshalPKIXPublicKey(k); return block("PUBLIC KEY", d, err) }
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	ecParams := []byte("-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n")

	tests := []struct {
		name    string
		pem     []byte
		wantAlg string // "" means refused
		canSign bool
		sameAs  crypto.PublicKey
	}{
		{"RSA PKCS#8", pkcs8(rsaKey), "RS256", true, &rsaKey.PublicKey},
		{"RSA PKCS#1", block("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), nil), "RS256", true, &rsaKey.PublicKey},
		{"RSA public", pkix(&rsaKey.PublicKey), "RS256", false, &rsaKey.PublicKey},
		{"EC SEC 1", block("EC PRIVATE KEY", sec1, nil), "ES384", true, &ec.PublicKey},
		{"EC SEC 1 after EC PARAMETERS", append(ecParams, block("EC PRIVATE KEY", sec1, nil)...), "ES384", true, &ec.PublicKey},
		{"EC PKCS#8", pkcs8(ec), "ES384", true, &ec.PublicKey},
		{"EC public", pkix(&ec.PublicKey), "ES384", false, &ec.PublicKey},
		{"Ed25519 PKCS#8", pkcs8(ed), "EdDSA", true, ed.Public()},
		{"Ed25519 public", pkix(ed.Public()), "EdDSA", false, ed.Public()},
		{"empty", nil, "", false, nil},
		{"not PEM", []byte("hello"), "", false, nil},
		{"certificate", block("CERTIFICATE", []byte{1, 2, 3}, nil), "", false, nil},
		{"corrupt DER", block("PRIVATE KEY", []byte("definitely-not-der-secret-material"), nil), "", false, nil},
		{"two keys", append(pkcs8(ec), pkcs8(ed)...), "", false, nil},
		{"SEC 1 labelled PKCS#1", block("RSA PRIVATE KEY", sec1, nil), "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := token.ParsePEMKey("", "", tt.pem)
			if tt.wantAlg == "" {
				if !errors.Is(err, token.ErrWeakKey) {
					t.Fatalf("err = %v, want ErrWeakKey", err)
				}
				if strings.Contains(err.Error(), "secret-material") || strings.Contains(err.Error(), "MII") {
					t.Errorf("error quotes the input: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Alg() != tt.wantAlg || k.CanSign() != tt.canSign {
				t.Errorf("alg %q, can sign %v", k.Alg(), k.CanSign())
			}
			ref := jtMust[*token.Key](t)(token.NewVerifyKey("", "", tt.sameAs))
			if k.ID() != ref.ID() {
				t.Errorf("id %q, want the thumbprint %q", k.ID(), ref.ID())
			}
		})
	}
	t.Run("alg and id given", func(t *testing.T) {
		k, err := token.ParsePEMKey("mine", "PS384", pkcs8(rsaKey))
		if err != nil || k.ID() != "mine" || k.Alg() != "PS384" {
			t.Fatalf("key %q %q, err %v", k.ID(), k.Alg(), err)
		}
		if _, err := token.ParsePEMKey("", "ES256", pkcs8(rsaKey)); !errors.Is(err, token.ErrWeakKey) {
			t.Fatalf("err = %v, want ErrWeakKey", err)
		}
	})
	t.Run("public PEM verifies what private PEM signs", func(t *testing.T) {
		priv := jtMust[*token.Key](t)(token.ParsePEMKey("", "", pkcs8(ec)))
		pub := jtMust[*token.Key](t)(token.ParsePEMKey("", "", pkix(&ec.PublicKey)))
		tok, err := jtRing(t, priv).Sign(jtClaims())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jtRing(t, jtHMAC(t, "", jtSecret(32)), pub).Verify(tok, jtOpts()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDecodeSecret(t *testing.T) {
	secret := []byte{0xfb, 0xff, 0xbf}
	secret = append(secret, jtSecret(45)...) // 48 bytes, starting with bytes that need + / - _
	std := base64.StdEncoding.EncodeToString(secret)
	url := base64.URLEncoding.EncodeToString(secret)
	if !strings.ContainsAny(std, "+/") || !strings.ContainsAny(url, "-_") {
		t.Fatal("test secret does not exercise the alphabets")
	}
	short := base64.StdEncoding.EncodeToString(jtSecret(31))
	ok := []struct{ name, in string }{
		{"standard", std},
		{"standard unpadded", base64.RawStdEncoding.EncodeToString(secret)},
		{"URL", url},
		{"URL unpadded", base64.RawURLEncoding.EncodeToString(secret)},
		{"whitespace around", " \t\n" + std + "\r\n "},
		{"wrapped like openssl", std[:32] + "\n" + std[32:] + "\n"},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			got, err := token.DecodeSecret(tt.in)
			if err != nil || !bytes.Equal(got, secret) {
				t.Fatalf("DecodeSecret = %x, %v", got, err)
			}
		})
	}
	bad := []struct{ name, in string }{
		{"empty", ""},
		{"blank", " \n\t"},
		{"garbage", "not base64 at all!"},
		{"passphrase", "correct-horse-battery-staple"},
		{"too short", short},
		{"mixed alphabets", "+" + url[1:]},
		{"trailing bits", jtNonCanonical(t, base64.RawURLEncoding.EncodeToString(jtSecret(32)))},
		{"inner space", std[:10] + " " + std[10:]},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			got, err := token.DecodeSecret(tt.in)
			if !errors.Is(err, token.ErrWeakKey) || got != nil {
				t.Fatalf("DecodeSecret = %x, %v; want ErrWeakKey", got, err)
			}
			if !strings.Contains(err.Error(), "generate one with: openssl rand -base64 32") {
				t.Errorf("error %q does not say how to make a secret", err)
			}
			if len(strings.TrimSpace(tt.in)) > 4 && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
				t.Errorf("error quotes the input: %v", err)
			}
		})
	}
}
