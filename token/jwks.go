package token

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
)

// keyJWK is the public RFC 7517 JSON Web Key of an asymmetric key.
type keyJWK struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// thumbprint returns the RFC 7638 JWK thumbprint: base64url SHA-256 of the
// required members in lexicographic order, without whitespace. The values
// are base64url or fixed names, so they need no JSON escaping.
func (j *keyJWK) thumbprint() string {
	var canonical string
	switch j.Kty {
	case "RSA":
		canonical = `{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`
	case "EC":
		canonical = `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	case "OKP":
		canonical = `{"crv":"` + j.Crv + `","kty":"OKP","x":"` + j.X + `"}`
	}
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// keyJWKS returns the JWKS document of the asymmetric keys among keys.
// HMAC keys are secrets and never appear.
func keyJWKS(keys []*Key) []byte {
	doc := struct {
		Keys []*keyJWK `json:"keys"`
	}{Keys: []*keyJWK{}}
	for _, k := range keys {
		if k.jwk != nil {
			doc.Keys = append(doc.Keys, k.jwk)
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic("token: cannot encode JWKS: " + err.Error()) // strings only: cannot happen
	}
	return b
}

var keyEmptyJWKS = []byte(`{"keys":[]}`)

// JWKS returns the ring's public keys as an RFC 7517 JWK Set document,
// {"keys":[...]}, newest first: RSA (n, e), EC (crv, x, y) and Ed25519
// (OKP crv, x) keys, each with kid, alg and use "sig". HMAC keys are never
// published. It reflects the ring as it is now, rotations included; the
// caller owns the slice. latchhttp.JWKSHandler serves it.
func (r *Keyring) JWKS() []byte {
	if s := r.snap.Load(); s != nil {
		return bytes.Clone(s.jwks)
	}
	return bytes.Clone(keyEmptyJWKS)
}
