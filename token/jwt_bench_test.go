package token_test

import (
	"crypto/elliptic"
	"strings"
	"testing"

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
