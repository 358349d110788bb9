package token

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math/big"
	"testing"
)

// TestROCASubgroups pins the primes the ROCA check uses: the 70 odd
// primes among the first 71, 3 to 353, each with the powers of 65537.
func TestROCASubgroups(t *testing.T) {
	var want []int64
	for r := int64(3); r <= 353; r += 2 {
		if big.NewInt(r).ProbablyPrime(0) {
			want = append(want, r)
		}
	}
	if len(want) != 70 || len(rocaSubgroups) != 70 {
		t.Fatalf("%d primes, %d subgroups; want 70", len(want), len(rocaSubgroups))
	}
	for _, r := range want {
		in := rocaSubgroups[r]
		if int64(len(in)) != r {
			t.Fatalf("prime %d: table of %d entries", r, len(in))
		}
		powers := map[int64]bool{}
		for y, i := big.NewInt(1), int64(0); i < r; i++ {
			powers[y.Int64()] = true
			y.Mul(y, big.NewInt(65537)).Mod(y, big.NewInt(r))
		}
		for x := range r {
			if in[x] != powers[x] {
				t.Fatalf("prime %d: %d marked %v", r, x, in[x])
			}
		}
	}
}

// rocaPrime returns a prime of about bits bits with RSALib's structure:
// k·M + (65537^a mod M), M the product of the first 71 primes.
func rocaPrime(t *testing.T, bits int) *big.Int {
	t.Helper()
	m := big.NewInt(2)
	for r := range rocaSubgroups {
		m.Mul(m, big.NewInt(r))
	}
	for range 100000 {
		a, _ := rand.Int(rand.Reader, m)
		k, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits-m.BitLen())))
		p := new(big.Int).Exp(big.NewInt(65537), a, m)
		p.Add(p, k.Mul(k, m))
		if p.BitLen() == bits && p.ProbablyPrime(20) {
			return p
		}
	}
	t.Fatal("no ROCA-structured prime found")
	return nil
}

// TestROCARefused: a modulus of two RSALib-structured primes is refused
// as weak, whatever the public exponent; moduli of random primes are not,
// nor is one whose only difference is one prime factor.
func TestROCARefused(t *testing.T) {
	p, q := rocaPrime(t, 1024), rocaPrime(t, 1024)
	n := new(big.Int).Mul(p, q)
	if !rocaFingerprint(n) {
		t.Fatal("a modulus of RSALib-structured primes has no fingerprint")
	}
	for _, e := range []int{65537, 3} {
		if _, err := NewVerifyKey("roca", "RS256", &rsa.PublicKey{N: n, E: e}); !errors.Is(err, ErrWeakKey) {
			t.Errorf("e=%d: NewVerifyKey = %v, want ErrWeakKey", e, err)
		}
	}
	random, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	mixed := new(big.Int).Mul(p, random.Primes[0])
	for name, n := range map[string]*big.Int{"random primes": random.N, "one random prime": mixed} {
		if rocaFingerprint(n) {
			t.Errorf("%s: flagged as ROCA", name)
		}
	}
	if _, err := NewSigningKey("ok", "RS256", random); err != nil {
		t.Errorf("a random 2048-bit key: %v", err)
	}
}
