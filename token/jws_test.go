package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestForgedPayloadNotDecoded: a forged token's payload is never decoded,
// so refusing it costs about the same, in allocations, whatever its size.
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
	// Decoding 700 members would cost hundreds of allocations. The counts
	// themselves may differ by one or two: the pool of HMAC states refills
	// after a garbage collection, and under the race detector sync.Pool
	// drops a share of what it is given on purpose.
	if a700 > a0+5 {
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
