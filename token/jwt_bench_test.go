package token_test

import (
	"crypto/elliptic"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchauth/latch/token"
)

func jtBenchVerify(b *testing.B, k *token.Key) {
	r := jtRing(b, k)
	tok, err := r.Sign(jtClaims())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Verify(tok, jtOpts()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignHS256(b *testing.B) {
	r := jtRing(b, jtHMAC(b, "", jtSecret(32)))
	c := jtClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyHS256(b *testing.B) { jtBenchVerify(b, jtHMAC(b, "", jtSecret(32))) }

func BenchmarkVerifyES256(b *testing.B) {
	jtBenchVerify(b, jtSigner(b, "", jtEC(b, elliptic.P256())))
}

func BenchmarkVerifyEdDSA(b *testing.B) { jtBenchVerify(b, jtSigner(b, "", jtEd(b))) }

func BenchmarkVerifyRejectDots(b *testing.B) {
	r := jtRing(b, jtHMAC(b, "", jtSecret(32)))
	tok := strings.Repeat(".", 100_000)
	b.ReportAllocs()
	for b.Loop() {
		r.Verify(tok, jtOpts())
	}
}

// BenchmarkVerifyHS256Baseline is golang-jwt on its own with the same
// token and the same checks latch asks of it (MapClaims, one allowed
// method, exp required, strict decoding). BenchmarkVerifyHS256 does
// more (the header pre-check, typed claim checks, crit) with its own
// signature layer, and should not cost more than this.
func BenchmarkVerifyHS256Baseline(b *testing.B) {
	secret := jtSecret(32)
	r := jtRing(b, jtHMAC(b, "", secret))
	tok, err := r.Sign(jtClaims())
	if err != nil {
		b.Fatal(err)
	}
	o := jtOpts()
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(),
		jwt.WithStrictDecoding(), jwt.WithIssuedAt(), jwt.WithTimeFunc(func() time.Time { return o.Now }))
	keyFunc := func(*jwt.Token) (any, error) { return secret, nil }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(tok, keyFunc); err != nil {
			b.Fatal(err)
		}
	}
}
