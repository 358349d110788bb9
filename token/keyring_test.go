package token_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/latchauth/latch/token"
)

func TestKeyringRotation(t *testing.T) {
	k1 := jtHMAC(t, "", jtSecret(32))
	k2 := jtSigner(t, "", jtEC(t, elliptic.P256()))
	r := jtRing(t, k1)

	old, _ := r.Sign(jtClaims())
	if jtKidOf(old) != k1.ID() {
		t.Fatalf("signed by %q, want %q", jtKidOf(old), k1.ID())
	}
	if err := r.Add(k2); err != nil {
		t.Fatal(err)
	}
	fresh, _ := r.Sign(jtClaims())
	if jtKidOf(fresh) != k2.ID() {
		t.Fatalf("after Add, signed by %q, want %q", jtKidOf(fresh), k2.ID())
	}
	for _, tok := range []string{old, fresh} {
		if _, err := r.Verify(tok, jtOpts()); err != nil {
			t.Fatalf("before Remove: %v", err)
		}
	}
	if err := r.Remove(k1.ID()); err != nil {
		t.Fatal(err)
	}
	_, err := r.Verify(old, jtOpts())
	jtWantErr(t, err, token.ErrUnknownKey)
	if _, err := r.Verify(fresh, jtOpts()); err != nil {
		t.Fatal(err)
	}

	if err := r.Remove(k2.ID()); err == nil {
		t.Fatal("removed the last signing key")
	}
	if err := r.Remove("no-such-key"); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("Remove unknown: %v", err)
	}
	if err := r.Add(k2); err == nil {
		t.Fatal("Add accepted a duplicate id")
	}
	pub := jtMust[*token.Key](t)(token.NewVerifyKey("", "", jtEd(t).Public()))
	if err := r.Add(pub); err == nil {
		t.Fatal("Add accepted a verify-only key")
	}
	if _, err := r.Verify(fresh, jtOpts()); err != nil {
		t.Fatalf("failed Adds changed the ring: %v", err)
	}
}

func TestKeyringSignerSkipsVerifyOnlyKeys(t *testing.T) {
	a := jtHMAC(t, "", jtSecret(32))
	b := jtHMAC(t, "", jtSecret(32))
	pub := jtMust[*token.Key](t)(token.NewVerifyKey("", "", jtEd(t).Public()))
	r := jtRing(t, a, pub, b)
	if err := r.Remove(a.ID()); err != nil {
		t.Fatal(err)
	}
	tok, err := r.Sign(jtClaims())
	if err != nil {
		t.Fatal(err)
	}
	if jtKidOf(tok) != b.ID() {
		t.Fatalf("signed by %q, want the older signing key %q", jtKidOf(tok), b.ID())
	}
	if r.Remove(b.ID()) == nil {
		t.Fatal("removed the last signing key while a verify-only key remains")
	}
	if _, err := r.Verify(tok, jtOpts()); err != nil {
		t.Fatal(err)
	}
}

func TestNewKeyring(t *testing.T) {
	k := jtHMAC(t, "", jtSecret(32))
	same, _ := token.NewHMACKey(k.ID(), "HS256", jtSecret(32))
	pub := jtMust[*token.Key](t)(token.NewVerifyKey("", "", jtEd(t).Public()))
	tests := []struct {
		name string
		keys []*token.Key
		ok   bool
	}{
		{"one key", []*token.Key{k}, true},
		{"signer then verifier", []*token.Key{k, pub}, true},
		{"none", nil, false},
		{"duplicate id", []*token.Key{k, same}, false},
		{"same key twice", []*token.Key{k, k}, false},
		{"verifier first", []*token.Key{pub, k}, false},
		{"verifier only", []*token.Key{pub}, false},
		{"nil", []*token.Key{nil}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := token.NewKeyring(tt.keys...)
			if (err == nil) != tt.ok || (r != nil) != tt.ok {
				t.Fatalf("NewKeyring = %v, %v; want ok %v", r, err, tt.ok)
			}
		})
	}
}

func TestZeroKeyring(t *testing.T) {
	var r token.Keyring
	if _, err := r.Sign(jtClaims()); err == nil {
		t.Fatal("empty ring signed")
	}
	other := jtRing(t, jtHMAC(t, "", jtSecret(32)))
	tok, _ := other.Sign(jtClaims())
	_, err := r.Verify(tok, jtOpts())
	jtWantErr(t, err, token.ErrUnknownKey)
	if r.Remove("x") == nil {
		t.Fatal("Remove on an empty ring")
	}
	if doc := string(r.JWKS()); doc != `{"keys":[]}` {
		t.Fatalf("JWKS = %s", doc)
	}
	if err := r.Add(jtHMAC(t, "", jtSecret(32))); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Sign(jtClaims()); err != nil {
		t.Fatal(err)
	}
}

// jtJWK is a JWK as the JWKS handler writes it.
type jtJWK struct {
	Kty, Use, Alg, Kid, Crv, X, Y, N, E, K, D string
}

// jtPublicKey rebuilds a public key from a JWK, as a relying party would.
func jtPublicKey(t *testing.T, j jtJWK) crypto.PublicKey {
	t.Helper()
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if err != nil || len(b) == 0 {
			t.Fatalf("bad base64url %q", s)
		}
		return b
	}
	switch j.Kty {
	case "RSA":
		return &rsa.PublicKey{N: new(big.Int).SetBytes(dec(j.N)), E: int(new(big.Int).SetBytes(dec(j.E)).Int64())}
	case "EC":
		curve, size := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}[j.Crv],
			map[string]int{"P-256": 32, "P-384": 48, "P-521": 66}[j.Crv]
		x, y := dec(j.X), dec(j.Y)
		if len(x) != size || len(y) != size {
			t.Fatalf("%s coordinates of %d and %d bytes, want %d", j.Crv, len(x), len(y), size)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			t.Fatal(err)
		}
		return pub
	case "OKP":
		if j.Crv != "Ed25519" {
			t.Fatalf("crv %q", j.Crv)
		}
		return ed25519.PublicKey(dec(j.X))
	}
	t.Fatalf("kty %q", j.Kty)
	return nil
}

// jtThumbprint computes an RFC 7638 thumbprint from a parsed JWK.
func jtThumbprint(j jtJWK) string {
	var m map[string]string
	switch j.Kty {
	case "RSA":
		m = map[string]string{"e": j.E, "kty": j.Kty, "n": j.N}
	case "EC":
		m = map[string]string{"crv": j.Crv, "kty": j.Kty, "x": j.X, "y": j.Y}
	case "OKP":
		m = map[string]string{"crv": j.Crv, "kty": j.Kty, "x": j.X}
	}
	b, _ := json.Marshal(m) // sorted keys, no whitespace
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestJWKS(t *testing.T) {
	signers := []*token.Key{
		jtSigner(t, "", jtEd(t)),
		jtSigner(t, "PS256", jtRSA()),
		jtSigner(t, "", jtEC(t, elliptic.P256())),
		jtSigner(t, "", jtEC(t, elliptic.P384())),
		jtSigner(t, "", jtEC(t, elliptic.P521())),
	}
	hmacKey := jtHMAC(t, "", jtSecret(32))
	// Tokens from each key, signed while it is the newest.
	r := jtRing(t, hmacKey)
	var toks []string
	for _, k := range signers {
		if err := r.Add(k); err != nil {
			t.Fatal(err)
		}
		tok, err := r.Sign(jtClaims())
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	var doc struct{ Keys []jtJWK }
	if err := json.Unmarshal(r.JWKS(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Keys) != len(signers) {
		t.Fatalf("%d keys published, want %d (no HMAC key)", len(doc.Keys), len(signers))
	}
	verifiers := []*token.Key{jtHMAC(t, "", jtSecret(32))} // a signer for the ring
	for i, j := range doc.Keys {
		want := signers[len(signers)-1-i] // newest first
		if j.Kid != want.ID() || j.Alg != want.Alg() || j.Use != "sig" {
			t.Errorf("key %d: kid %q alg %q use %q, want %q %q sig", i, j.Kid, j.Alg, j.Use, want.ID(), want.Alg())
		}
		if j.K != "" || j.D != "" || j.Kty == "oct" {
			t.Errorf("key %d publishes secret material", i)
		}
		if jtThumbprint(j) != j.Kid {
			t.Errorf("key %d: kid is not the RFC 7638 thumbprint", i)
		}
		v, err := token.NewVerifyKey(j.Kid, j.Alg, jtPublicKey(t, j))
		if err != nil {
			t.Fatal(err)
		}
		verifiers = append(verifiers, v)
	}
	relying := jtRing(t, verifiers...)
	for i, tok := range toks {
		if _, err := relying.Verify(tok, jtOpts()); err != nil {
			t.Errorf("token %d does not verify with the published keys: %v", i, err)
		}
	}
	hmacTok := jtRaw(t, jtHeader("HS256", hmacKey.ID(), nil), jtPayload(nil), nil, nil)
	if _, err := relying.Verify(hmacTok, jtOpts()); !errors.Is(err, token.ErrUnknownKey) {
		t.Errorf("HMAC key reachable through the JWKS: %v", err)
	}

	t.Run("removed keys disappear", func(t *testing.T) {
		if err := r.Remove(signers[0].ID()); err != nil {
			t.Fatal(err)
		}
		doc := string(r.JWKS())
		if strings.Contains(doc, signers[0].ID()) || !strings.Contains(doc, signers[1].ID()) {
			t.Errorf("JWKS after Remove: %s", doc)
		}
	})
	t.Run("HMAC-only ring", func(t *testing.T) {
		if doc := string(jtRing(t, hmacKey).JWKS()); doc != `{"keys":[]}` {
			t.Errorf("JWKS = %s", doc)
		}
	})
}

func TestKeyringConcurrent(t *testing.T) {
	first := jtHMAC(t, "", jtSecret(32))
	r := jtRing(t, first)
	const workers, rounds, rotations = 4, 200, 50

	// Keys are made before the race, so the rotator only rotates.
	keys := make([]*token.Key, rotations)
	for i := range keys {
		if i%2 == 0 {
			keys[i] = jtHMAC(t, "", jtSecret(32))
		} else {
			keys[i] = jtSigner(t, "", jtEC(t, elliptic.P256()))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		prev := first.ID()
		for _, k := range keys {
			if err := r.Add(k); err != nil {
				errs <- err
				return
			}
			if err := r.Remove(prev); err != nil {
				errs <- err
				return
			}
			prev = k.ID()
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				c := jtClaims()
				c.ID = fmt.Sprint(w, "-", i)
				tok, err := r.Sign(c)
				if err != nil {
					errs <- err
					return
				}
				got, err := r.Verify(tok, jtOpts())
				switch {
				case errors.Is(err, token.ErrUnknownKey): // rotated out in between
				case err != nil:
					errs <- err
					return
				case got.ID != c.ID:
					errs <- fmt.Errorf("claims mixed up: %q != %q", got.ID, c.ID)
					return
				}
				if i%20 == 0 {
					if doc := r.JWKS(); !json.Valid(doc) {
						errs <- fmt.Errorf("JWKS not JSON: %s", doc)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	tok, err := r.Sign(jtClaims())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Verify(tok, jtOpts()); err != nil {
		t.Fatal(err)
	}
}
