package token_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchauth/latch/token"
)

func TestTamperingAndEncoding(t *testing.T) {
	secret := jtSecret(32)
	k := jtHMAC(t, "", secret)
	r := jtRing(t, k)
	good, err := r.Sign(jtClaims())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	other := jtClaims()
	other.Subject = "admin"
	otherTok, _ := r.Sign(other)
	otherParts := strings.Split(otherTok, ".")

	// A payload whose encoding has trailing bits, signed as spelled.
	body := jtPayload(nil)
	for len(body)%3 == 0 {
		body = jtPayload(map[string]any{"pad": strings.Repeat("x", len(body)%7+1)})
	}
	hdr := jtB64(jtHeader("HS256", k.ID(), nil))
	loosePayload := hdr + "." + jtNonCanonical(t, jtB64(body))
	sig, _ := jwt.SigningMethodHS256.Sign(loosePayload, secret)
	loosePayload += "." + base64.RawURLEncoding.EncodeToString(sig)

	tests := []struct {
		name string
		tok  string
		want error
	}{
		{"control", good, nil},
		{"payload swapped", parts[0] + "." + otherParts[1] + "." + parts[2], token.ErrSignature},
		{"signature swapped", parts[0] + "." + parts[1] + "." + otherParts[2], token.ErrSignature},
		{"payload edited", parts[0] + "." + jtB64(strings.Replace(jtPayload(nil), "user-1", "admin", 1)) + "." + parts[2], token.ErrSignature},
		{"signature stripped", parts[0] + "." + parts[1] + ".", token.ErrSignature},
		{"signature bit flipped", jtBreakSig(good), token.ErrSignature},
		{"signature trailing bits", parts[0] + "." + parts[1] + "." + jtNonCanonical(t, parts[2]), token.ErrMalformed},
		{"payload trailing bits", loosePayload, token.ErrMalformed},
		// The signature is checked before the payload is decoded, so a
		// forged token is ErrSignature however its payload is spelled
		// (golang-jwt decoded the payload first: ErrMalformed).
		{"payload trailing bits, forged", jtBreakSig(loosePayload), token.ErrSignature},
		{"payload not base64url JSON, forged", parts[0] + "." + jtB64("{") + "." + parts[2], token.ErrSignature},
		{"signature padded", good + "=", token.ErrMalformed},
		{"newline in signature", parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:], token.ErrMalformed},
		{"CR in header", parts[0][:5] + "\r" + parts[0][5:] + "." + parts[1] + "." + parts[2], token.ErrMalformed},
		{"standard alphabet", parts[0] + "." + parts[1] + "." + "+/" + parts[2][2:], token.ErrMalformed},
		{"leading space", " " + good, token.ErrMalformed},
		{"two segments", parts[0] + "." + parts[1], token.ErrMalformed},
		{"four segments", good + ".x", token.ErrMalformed},
		{"empty", "", token.ErrMalformed},
		{"dots only", "..", token.ErrMalformed},
		{"junk segments", "a.b.c", token.ErrMalformed},
		{"header array", jtB64("[]") + "." + parts[1] + "." + parts[2], token.ErrMalformed},
		{"header null", jtB64("null") + "." + parts[1] + "." + parts[2], token.ErrMalformed},
		{"header string", jtB64(`"x"`) + "." + parts[1] + "." + parts[2], token.ErrMalformed},
		{"header bad JSON", jtB64(`{"alg":`) + "." + parts[1] + "." + parts[2], token.ErrMalformed},
		{"oversized", parts[0] + "." + parts[1] + strings.Repeat("A", 8192) + "." + parts[2], token.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := r.Verify(tt.tok, jtOpts())
			jtWantErr(t, err, tt.want)
			if err != nil {
				if c != nil {
					t.Error("claims returned with an error")
				}
				if strings.Contains(err.Error(), parts[2]) || strings.Contains(err.Error(), parts[1]) {
					t.Errorf("error quotes the token: %v", err)
				}
			}
		})
	}
}

func TestSignatureCheckedFirst(t *testing.T) {
	secret := jtSecret(32)
	k := jtHMAC(t, "", secret)
	r := jtRing(t, k)
	hdr := jtHeader("HS256", k.ID(), nil)
	tests := []struct {
		name string
		hdr  string
		body string
		opts token.VerifyOptions
		// what a correctly signed token gets; a forged one is always ErrSignature
		signed error
	}{
		{"expired", hdr, jtPayload(map[string]any{"exp": jtNow.Add(-time.Hour).Unix()}), jtOpts(), token.ErrExpired},
		{"not yet valid", hdr, jtPayload(map[string]any{"nbf": jtNow.Add(time.Hour).Unix()}), jtOpts(), token.ErrNotYetValid},
		{"issued in the future", hdr, jtPayload(map[string]any{"iat": jtNow.Add(time.Hour).Unix()}), jtOpts(), token.ErrNotYetValid},
		{"wrong issuer", hdr, jtPayload(map[string]any{"iss": "evil"}), token.VerifyOptions{Now: jtNow, Issuer: "latch"}, token.ErrClaims},
		{"wrong audience", hdr, jtPayload(map[string]any{"aud": "evil"}), token.VerifyOptions{Now: jtNow, Audience: "api"}, token.ErrClaims},
		{"string exp", hdr, jtPayload(map[string]any{"exp": "2000000000"}), jtOpts(), token.ErrMalformed},
		{"missing exp", hdr, jtPayload(map[string]any{"exp": nil}), jtOpts(), token.ErrMalformed},
		{"missing sub", hdr, jtPayload(map[string]any{"sub": nil}), jtOpts(), token.ErrMalformed},
		{"claims not an object", hdr, "[]", jtOpts(), token.ErrMalformed},
		// Verify decodes nothing of the payload before the signature
		// verified (golang-jwt did, and reported these as ErrMalformed
		// whatever the signature): forged, they are ErrSignature.
		{"claims bad JSON", hdr, `{"sub":`, jtOpts(), token.ErrMalformed},
		{"claims trailing data", hdr, jtPayload(nil) + "{}", jtOpts(), token.ErrMalformed},
		{"claims invalid UTF-8", hdr, "{\"sub\":\"\xff\",\"exp\":9999999999}", jtOpts(), token.ErrMalformed},
		{"crit", jtHeader("HS256", k.ID(), map[string]any{"crit": []string{"x"}}), jtPayload(nil), jtOpts(), token.ErrClaims},
		{"expired and wrong issuer", hdr, jtPayload(map[string]any{"exp": jtNow.Add(-time.Hour).Unix(), "iss": "evil"}), token.VerifyOptions{Now: jtNow, Issuer: "latch"}, token.ErrClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := jtRaw(t, tt.hdr, tt.body, jwt.SigningMethodHS256, secret)
			_, err := r.Verify(tok, tt.opts)
			jtWantErr(t, err, tt.signed)
			_, err = r.Verify(jtBreakSig(tok), tt.opts)
			jtWantErr(t, err, token.ErrSignature)
			for _, e := range []error{token.ErrExpired, token.ErrNotYetValid, token.ErrClaims, token.ErrMalformed} {
				if errors.Is(err, e) {
					t.Errorf("forged token also reported as %v", e)
				}
			}
		})
	}
}
