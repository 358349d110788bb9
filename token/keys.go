package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// Key is one JWT key with exactly one algorithm. A token naming the key's
// id is verified with this key and this algorithm only, whatever its alg
// header says. Keys are immutable; make them with NewHMACKey,
// NewSigningKey, NewVerifyKey or ParsePEMKey. A zero Key has no key
// material: keyrings refuse it and it never verifies anything.
type Key struct {
	id        string
	alg       string
	method    jwt.SigningMethod
	signKey   any       // []byte, *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey; nil: verify only
	verifyKey any       // []byte, *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey
	jwk       *keyJWK   // public JWK; nil for HMAC keys, which are never published
	macs      sync.Pool // of *jwsMAC, for HMAC keys: see checkMAC
}

// ID returns the key id, the JWT "kid" header of the tokens it signs.
func (k *Key) ID() string {
	if k == nil {
		return ""
	}
	return k.id
}

// Alg returns the key's only algorithm, such as "HS256" or "EdDSA".
func (k *Key) Alg() string {
	if k == nil {
		return ""
	}
	return k.alg
}

// CanSign reports whether k holds a private key or secret.
func (k *Key) CanSign() bool {
	return k.usable() && k.signKey != nil
}

// usable reports whether k has an algorithm and verification key material.
func (k *Key) usable() bool {
	if k == nil || k.method == nil || k.id == "" {
		return false
	}
	switch v := k.verifyKey.(type) {
	case []byte:
		return len(v) > 0
	case *rsa.PublicKey:
		return v != nil && v.N != nil
	case *ecdsa.PublicKey:
		return v != nil
	case ed25519.PublicKey:
		return len(v) == ed25519.PublicKeySize
	}
	return false
}

// keyMethods are golang-jwt's signing methods by JWA name, taken from its
// package variables: its registry (jwt.GetSigningMethod) is global, and
// any package may replace an entry with jwt.RegisterSigningMethod.
var keyMethods = map[string]jwt.SigningMethod{
	"HS256": jwt.SigningMethodHS256, "HS384": jwt.SigningMethodHS384, "HS512": jwt.SigningMethodHS512,
	"RS256": jwt.SigningMethodRS256, "RS384": jwt.SigningMethodRS384, "RS512": jwt.SigningMethodRS512,
	"PS256": jwt.SigningMethodPS256, "PS384": jwt.SigningMethodPS384, "PS512": jwt.SigningMethodPS512,
	"ES256": jwt.SigningMethodES256, "ES384": jwt.SigningMethodES384, "ES512": jwt.SigningMethodES512,
	"EdDSA": jwt.SigningMethodEdDSA,
}

// keyHMACMin is the minimum secret length per HMAC algorithm: the hash
// size, as RFC 7518 §3.2 requires.
var keyHMACMin = map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}

// keyMinDistinct is the fewest distinct byte values an HMAC secret may
// have. A random 32-byte secret has about 30 (256·(1-(255/256)^32) ≈ 30.1),
// and one with fewer than 16 essentially never occurs; a secret below that
// is a repeated word or a padded passphrase, not random bytes.
const keyMinDistinct = 16

// keyWeakSecrets are well-known secrets from JWT tutorials, library READMEs
// and framework defaults, lower case. Most are also too short; listing them
// gives a clearer error and catches the long ones.
var keyWeakSecrets = []string{
	"secret", "super-secret", "supersecret", "super_secret", "super-secret-key",
	"your-256-bit-secret", "your-384-bit-secret", "your-512-bit-secret",
	"a-string-secret-at-least-256-bits-long",
	"super-secret-jwt-token-with-at-least-32-characters-long",
	"changeme", "change-me", "changeit", "change-this", "password",
	"secretkey", "secret-key", "secret_key", "mysecret", "my-secret", "my_secret",
	"jwt-secret", "jwt_secret", "jwtsecret", "your-secret-key", "your_secret_key",
	"your_jwt_secret", "your-jwt-secret", "shhhhh", "keyboard cat", "s3cr3t",
}

const keyHowTo = "generate one with: openssl rand -base64 32"

// NewHMACKey returns an HMAC key for alg HS256, HS384 or HS512 ("" means
// HS256). The secret is copied. It is refused (ErrWeakKey) if it is
// shorter than the hash (32, 48 or 64 bytes), is a well-known default such
// as "super-secret", or has fewer than 16 distinct byte values. When id is
// "" it is derived from the secret with HMAC, so the kid reveals nothing.
func NewHMACKey(id, alg string, secret []byte) (*Key, error) {
	if alg == "" {
		alg = "HS256"
	}
	minLen, ok := keyHMACMin[alg]
	if !ok {
		return nil, fmt.Errorf("%w: %q is not an HMAC algorithm (HS256, HS384 or HS512)", ErrWeakKey, alg)
	}
	if err := keyCheckSecret(alg, minLen, secret); err != nil {
		return nil, err
	}
	s := append([]byte(nil), secret...)
	if id == "" {
		mac := hmac.New(sha256.New, s)
		mac.Write([]byte("latch-kid"))
		id = base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
	}
	return &Key{id: id, alg: alg, method: keyMethods[alg], signKey: s, verifyKey: s}, nil
}

// keyCheckSecret applies the HMAC secret rules of NewHMACKey.
func keyCheckSecret(alg string, minLen int, secret []byte) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: empty HMAC secret; %s", ErrWeakKey, keyHowTo)
	}
	if keyIsWellKnown(secret) {
		return fmt.Errorf("%w: HMAC secret is a well-known default from tutorials or examples; %s", ErrWeakKey, keyHowTo)
	}
	if len(secret) < minLen {
		return fmt.Errorf("%w: %s secret is shorter than %d bytes (RFC 7518 §3.2); generate one with: openssl rand -base64 %d",
			ErrWeakKey, alg, minLen, minLen)
	}
	var seen [256]bool
	distinct := 0
	for _, b := range secret {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
	}
	if distinct < keyMinDistinct {
		return fmt.Errorf("%w: HMAC secret has fewer than %d distinct byte values, so it is not random; %s",
			ErrWeakKey, keyMinDistinct, keyHowTo)
	}
	return nil
}

// keyIsWellKnown reports whether secret is on keyWeakSecrets, ignoring
// ASCII case.
func keyIsWellKnown(secret []byte) bool {
	lower := make([]byte, len(secret))
	for i, b := range secret {
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		lower[i] = b
	}
	found := 0
	for _, w := range keyWeakSecrets {
		found |= subtle.ConstantTimeCompare(lower, []byte(w))
	}
	clear(lower)
	return found == 1
}

// DecodeSecret decodes an HMAC secret written as base64, in the standard
// or URL alphabet, with or without padding; surrounding whitespace is
// ignored. It refuses (ErrWeakKey) anything that is not base64 or decodes
// to fewer than 32 bytes, with a message that says how to make a secret.
func DecodeSecret(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if s == "" {
		return nil, fmt.Errorf("%w: empty secret; %s", ErrWeakKey, keyHowTo)
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.Strict().DecodeString(s)
	if err != nil {
		// The decoder's error holds an offset into the secret: not shown.
		return nil, fmt.Errorf("%w: secret is not base64; %s", ErrWeakKey, keyHowTo)
	}
	if len(b) < 32 {
		return nil, fmt.Errorf("%w: secret decodes to fewer than 32 bytes; %s", ErrWeakKey, keyHowTo)
	}
	return b, nil
}

// NewSigningKey returns a key that signs with priv and verifies with its
// public half: an *rsa.PrivateKey of 2048 bits or more, without the ROCA
// fingerprint (RS256, RS384, RS512, PS256, PS384, PS512), an *ecdsa.PrivateKey (ES256 on P-256, ES384
// on P-384, ES512 on P-521) or an ed25519.PrivateKey (EdDSA). alg "" picks
// RS256, the ES algorithm of the curve, or EdDSA. When id is "" it is the
// RFC 7638 JWK thumbprint of the public key.
func NewSigningKey(id, alg string, priv crypto.Signer) (*Key, error) {
	var pub crypto.PublicKey
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if k == nil || k.N == nil {
			return nil, fmt.Errorf("%w: nil RSA key", ErrWeakKey)
		}
		if err := keyCheckRSA(&k.PublicKey); err != nil {
			return nil, err
		}
		if k.Validate() != nil {
			return nil, fmt.Errorf("%w: invalid RSA private key", ErrWeakKey)
		}
		pub = &k.PublicKey
	case *ecdsa.PrivateKey:
		if k == nil {
			return nil, fmt.Errorf("%w: nil ECDSA key", ErrWeakKey)
		}
		if _, err := k.ECDH(); err != nil {
			return nil, fmt.Errorf("%w: invalid or unsupported ECDSA private key", ErrWeakKey)
		}
		pub = &k.PublicKey
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: Ed25519 private key is not %d bytes", ErrWeakKey, ed25519.PrivateKeySize)
		}
		// The public half is stored in the key: it must be the seed's.
		if subtle.ConstantTimeCompare(ed25519.NewKeyFromSeed(k.Seed()), k) != 1 {
			return nil, fmt.Errorf("%w: Ed25519 private key is inconsistent", ErrWeakKey)
		}
		pub = k.Public()
		priv = append(ed25519.PrivateKey(nil), k...)
	default:
		return nil, fmt.Errorf("%w: unsupported signing key type %T", ErrWeakKey, priv)
	}
	return keyNewAsym(id, alg, priv, pub)
}

// NewVerifyKey returns a verify-only key for an *rsa.PublicKey (2048 bits
// or more, without the ROCA fingerprint), *ecdsa.PublicKey or ed25519.PublicKey, with the algorithms and
// id rules of NewSigningKey. It never signs. HMAC secrets are refused:
// they go through NewHMACKey.
func NewVerifyKey(id, alg string, pub crypto.PublicKey) (*Key, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return nil, fmt.Errorf("%w: nil RSA key", ErrWeakKey)
		}
	case *ecdsa.PublicKey:
		if k == nil {
			return nil, fmt.Errorf("%w: nil ECDSA key", ErrWeakKey)
		}
	case ed25519.PublicKey:
	case []byte:
		return nil, fmt.Errorf("%w: NewVerifyKey takes public keys; use NewHMACKey for HMAC secrets", ErrWeakKey)
	default:
		return nil, fmt.Errorf("%w: unsupported public key type %T", ErrWeakKey, pub)
	}
	return keyNewAsym(id, alg, nil, pub)
}

// The algorithms RSA keys may use, and the one each EC curve must use.
var (
	keyRSAAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	keyECAlgs  = map[string]string{"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
)

func keyNewAsym(id, alg string, priv crypto.Signer, pub crypto.PublicKey) (*Key, error) {
	var jwk *keyJWK
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if err := keyCheckRSA(p); err != nil {
			return nil, err
		}
		if alg == "" {
			alg = "RS256"
		}
		if !keyContains(keyRSAAlgs, alg) {
			return nil, fmt.Errorf("%w: %q is not an RSA algorithm (RS256/384/512, PS256/384/512)", ErrWeakKey, alg)
		}
		jwk = &keyJWK{
			Kty: "RSA",
			N:   base64.RawURLEncoding.EncodeToString(p.N.Bytes()),
			E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(p.E)).Bytes()),
		}
	case *ecdsa.PublicKey:
		if p.Curve == nil {
			return nil, fmt.Errorf("%w: ECDSA key without a curve", ErrWeakKey)
		}
		crv := p.Curve.Params().Name
		want, ok := keyECAlgs[crv]
		if !ok {
			return nil, fmt.Errorf("%w: ECDSA curve %s is not P-256, P-384 or P-521", ErrWeakKey, crv)
		}
		if alg == "" {
			alg = want
		}
		if alg != want {
			return nil, fmt.Errorf("%w: %s keys sign %s, not %q", ErrWeakKey, crv, want, alg)
		}
		point, err := p.Bytes() // 0x04 || X || Y, each padded to the curve size
		if err != nil {
			return nil, fmt.Errorf("%w: invalid ECDSA public key", ErrWeakKey)
		}
		size := (len(point) - 1) / 2
		jwk = &keyJWK{
			Kty: "EC",
			Crv: crv,
			X:   base64.RawURLEncoding.EncodeToString(point[1 : 1+size]),
			Y:   base64.RawURLEncoding.EncodeToString(point[1+size:]),
		}
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: Ed25519 public key is not %d bytes", ErrWeakKey, ed25519.PublicKeySize)
		}
		if alg == "" {
			alg = "EdDSA"
		}
		if alg != "EdDSA" {
			return nil, fmt.Errorf("%w: Ed25519 keys sign EdDSA, not %q", ErrWeakKey, alg)
		}
		p = append(ed25519.PublicKey(nil), p...)
		pub = p
		jwk = &keyJWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(p)}
	}
	if id == "" {
		id = jwk.thumbprint()
	}
	jwk.Kid, jwk.Alg, jwk.Use = id, alg, "sig"
	k := &Key{id: id, alg: alg, method: keyMethods[alg], verifyKey: pub, jwk: jwk}
	if priv != nil {
		k.signKey = priv
	}
	return k, nil
}

func keyCheckRSA(p *rsa.PublicKey) error {
	if p.N.BitLen() < 2048 {
		return fmt.Errorf("%w: RSA keys must be at least 2048 bits", ErrWeakKey)
	}
	if p.E < 3 || p.E%2 == 0 {
		return fmt.Errorf("%w: RSA public exponent must be odd and at least 3", ErrWeakKey)
	}
	if rocaFingerprint(p.N) {
		return fmt.Errorf("%w: RSA modulus has the ROCA fingerprint (CVE-2017-15361): its factors can be recovered", ErrWeakKey)
	}
	return nil
}

// rocaSubgroups holds, for each odd prime r among the first 71 primes, the
// powers of 65537 modulo r: subgroup[r][x] is true when x is one.
//
// ROCA (CVE-2017-15361): Infineon's RSALib made primes p = k·M + (65537^a
// mod M), M the product of the first 39, 71, 126 or 225 primes by key
// size (71 or more from 992 bits, and latch takes 2048 or more). Each such
// prime, and so the modulus, is then a power of 65537 modulo every prime
// dividing M, which a modulus of random primes is with probability about
// 2^-83 over these 70 primes.
var rocaSubgroups = func() map[int64][]bool {
	out := map[int64][]bool{}
	for r, n := int64(3), 1; n < 71; r += 2 {
		if !big.NewInt(r).ProbablyPrime(0) {
			continue
		}
		n++
		in := make([]bool, r)
		for x := int64(1); !in[x]; x = x * (65537 % r) % r {
			in[x] = true
		}
		out[r] = in
	}
	return out
}()

// rocaFingerprint reports whether modulus n has the ROCA structure: n
// modulo each prime of rocaSubgroups is a power of 65537.
func rocaFingerprint(n *big.Int) bool {
	var rem, mod big.Int
	for r, in := range rocaSubgroups {
		if !in[rem.Mod(n, mod.SetInt64(r)).Int64()] {
			return false
		}
	}
	return true
}

func keyContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ParsePEMKey parses a PEM private key, PKCS#8 ("PRIVATE KEY"), PKCS#1
// ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY"), into a signing key as
// NewSigningKey does; a "PUBLIC KEY" (PKIX) block gives a verify-only key
// as NewVerifyKey does. An "EC PARAMETERS" block is skipped; the input must
// hold exactly one key block. Errors never quote the input.
func ParsePEMKey(id, alg string, pemBytes []byte) (*Key, error) {
	var block *pem.Block
	for rest := pemBytes; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "EC PARAMETERS" {
			continue
		}
		if block != nil {
			return nil, fmt.Errorf("%w: PEM input holds more than one key", ErrWeakKey)
		}
		block = b
	}
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM key block found", ErrWeakKey)
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted {
		return nil, fmt.Errorf("%w: encrypted PEM keys are not supported", ErrWeakKey)
	}
	var (
		parsed any
		err    error
	)
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	case "PUBLIC KEY":
		parsed, err = x509.ParsePKIXPublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: unsupported PEM block type %q", ErrWeakKey, block.Type)
	}
	if err != nil {
		// x509's messages are not shown: parsers may echo parts of the input.
		return nil, fmt.Errorf("%w: cannot parse PEM block of type %q", ErrWeakKey, block.Type)
	}
	if block.Type == "PUBLIC KEY" {
		return NewVerifyKey(id, alg, parsed)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: unsupported private key type %T", ErrWeakKey, parsed)
	}
	return NewSigningKey(id, alg, signer)
}
