package token_test

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchauth/latch/token"
)

// FuzzVerify feeds Verify arbitrary strings, and the same strings re-signed
// with the ring's secret so that mutated claims get past the signature. It
// checks that nothing panics, that errors are latch's, and that an accepted
// token verifies again to the same claims and survives Sign and Verify.
func FuzzVerify(f *testing.F) {
	secret := []byte("fuzz only: 0123456789abcdefghijklmnopqrstuvwxyz")
	k, err := token.NewHMACKey("fuzz", "HS256", secret)
	if err != nil {
		f.Fatal(err)
	}
	r, err := token.NewKeyring(k)
	if err != nil {
		f.Fatal(err)
	}
	opts := token.VerifyOptions{Now: jtNow, Leeway: time.Second}

	full := &token.Claims{
		Subject: "user-1", IssuedAt: jtNow.Add(-time.Minute), NotBefore: jtNow.Add(-time.Minute),
		ExpiresAt: jtNow.Add(time.Hour), ID: "j", Type: "access", FreshUntil: jtNow.Add(time.Minute),
		SessionID: "s", Issuer: "i", Audience: []string{"a", "b"},
		Extra: map[string]any{"x": []any{1.0, "y", nil, map[string]any{"z": true}}},
	}
	for _, c := range []*token.Claims{jtClaims(), full} {
		tok, err := r.Sign(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
		f.Add(tok[:len(tok)-1])
		f.Add(tok + "." + tok)
	}
	hdr := jtHeader("HS256", "fuzz", nil)
	for _, body := range []string{
		jtPayload(nil),
		jtPayload(map[string]any{"exp": "2000000000"}),
		jtPayload(map[string]any{"exp": json.RawMessage("1e20")}),
		jtPayload(map[string]any{"fresh": 1.5e9, "aud": "a", "nbf": 0.5}),
		jtPayload(map[string]any{"SUB": "x", "csrf": "c", "Exp": 1}),
		`{"sub":"a","exp":1e400}`, `[]`, `null`, `{`, ``,
	} {
		f.Add(jtRaw(f, hdr, body, jwt.SigningMethodHS256, secret))
	}
	for _, h := range []string{
		jtHeader("none", "fuzz", nil), jtHeader("HS512", "fuzz", nil), jtHeader("HS256", "", nil),
		jtHeader("HS256", "fuzz", map[string]any{"crit": []string{"exp"}}), `[]`, `{"alg":"HS256","kid":"fuzz","KID":"x"}`,
	} {
		f.Add(jtRaw(f, h, jtPayload(nil), jwt.SigningMethodHS256, secret))
	}
	for _, s := range []string{"", ".", "..", "...", strings.Repeat(".", 10_000), "a.b.c", "e30.e30.", "e30.e30.e30"} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, tok string) {
		jtFuzzCheck(t, r, tok, opts)
		if i := strings.LastIndexByte(tok, '.'); i > 0 {
			signing := tok[:i]
			sig, err := jwt.SigningMethodHS256.Sign(signing, secret)
			if err != nil {
				t.Fatal(err)
			}
			jtFuzzCheck(t, r, signing+"."+base64.RawURLEncoding.EncodeToString(sig), opts)
		}
	})
}

func jtFuzzCheck(t *testing.T, r *token.Keyring, tok string, opts token.VerifyOptions) {
	c, err := r.Verify(tok, opts)
	if err != nil {
		if c != nil {
			t.Fatalf("claims returned with error %v", err)
		}
		if !jtIsSentinel(err) {
			t.Fatalf("error %v is none of latch's", err)
		}
		return
	}
	if c.Subject == "" || !opts.Now.Before(c.ExpiresAt.Add(opts.Leeway)) {
		t.Fatalf("accepted claims without a subject or expired: %+v", c)
	}
	again, err := r.Verify(tok, opts)
	if err != nil || !reflect.DeepEqual(again, c) {
		t.Fatalf("second Verify = %+v, %v; first %+v", again, err, c)
	}
	re, err := r.Sign(c)
	if err != nil {
		// Sign escapes <, > and & in strings, which can outgrow the limit.
		if strings.Contains(err.Error(), "exceed") {
			return
		}
		t.Fatalf("Sign of accepted claims: %v", err)
	}
	back, err := r.Verify(re, opts)
	if want := jtResignExpect(*c); err != nil || !reflect.DeepEqual(*back, want) {
		t.Fatalf("re-signed claims = %+v, %v\nwant %+v", back, err, want)
	}
}
