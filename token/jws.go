package token

import (
	"bytes"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"io"

	"github.com/golang-jwt/jwt/v5"
)

// The signature layer: a compact JWS (RFC 7515 §7.1) checked against one
// Key, which alone fixes the algorithm. It knows nothing about claims:
// Keyring.Verify builds JWTs on it, and the Wycheproof tests run JWS,
// HMAC and ECDSA vectors through it. golang-jwt does the cryptography
// (SigningMethod.Verify), except for PS256/384/512, whose salt length
// latch checks itself (jwsVerifyPSS).

// jwsMaxSize bounds the work an unauthenticated token can cause.
const jwsMaxSize = 8192

// jwsSigBuf is the size of verifyJWS's buffer for a signature, on its
// stack: an HMAC tag (64 bytes at most) or an ES512 signature (132)
// fits; a longer RSA signature gets the heap.
const jwsSigBuf = 132

// jwsB64 decodes base64url strictly: no padding, zero trailing bits.
var jwsB64 = base64.RawURLEncoding.Strict()

// jwsHeader is what Verify reads from a header, with exact member names
// (RFC 7515 §4). jku, x5u, x5c and jwk are never read: keys come from
// the keyring.
type jwsHeader struct {
	alg  string // "" when absent or null
	kid  string // "" when absent or null
	crit bool   // a "crit" member, of any value, null included
}

// jws is a compact JWS whose size, shape and header were checked. No key
// has been used on it yet, so nothing in it is authentic. Its payload and
// signature are still base64url: verifyJWS decodes them, the signature
// first.
type jws struct {
	signingInput string // header.payload, what the signature covers
	payload      string // base64url
	sig          string // base64url
	jwsHeader
}

// jwsCheckShape checks that tok is base64url characters with exactly two
// dots, and returns their indexes. It allocates nothing and stops at the
// first bad byte, so garbage costs O(1) after parse's length check.
// Refusing every other byte also refuses padding, the standard alphabet
// and the CR/LF that Go's base64 decoder skips, so one token has one
// spelling.
func jwsCheckShape(tok string) (dot1, dot2 int, err error) {
	dots := 0
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.':
			switch dots++; dots {
			case 1:
				dot1 = i
			case 2:
				dot2 = i
			default:
				return 0, 0, errJWTShape
			}
		default:
			return 0, 0, errJWTShape
		}
	}
	if dots != 2 {
		return 0, 0, errJWTShape
	}
	return dot1, dot2, nil
}

// parse sets j to the compact JWS tok after checking its size and shape
// and reading its header. known holds headers already read, by their
// base64url (the keyring's, see keySnapshot.headers); nil is none. Errors
// are ErrMalformed.
func (j *jws) parse(tok string, known map[string]jwsHeader) error {
	if len(tok) > jwsMaxSize {
		return errJWTTooLong
	}
	dot1, dot2, err := jwsCheckShape(tok)
	if err != nil {
		return err
	}
	j.signingInput, j.payload, j.sig = tok[:dot2], tok[dot1+1:dot2], tok[dot2+1:]
	if h, ok := known[tok[:dot1]]; ok {
		j.jwsHeader = h
		return nil
	}
	j.jwsHeader, err = jwsReadHeader(tok[:dot1])
	return err
}

// jwsReadHeader decodes the base64url header b64, a JSON object, and
// reads the members named exactly "alg", "kid" and "crit" (member names
// are case-sensitive, RFC 7515 §4; "ALG" is some other member). alg and
// kid must be strings or null; null is the same as absent. Of duplicate
// members the last counts, as encoding/json keeps it.
func jwsReadHeader(b64 string) (jwsHeader, error) {
	raw, err := jwsB64.DecodeString(b64)
	if err != nil {
		return jwsHeader{}, errJWTHeader
	}
	if trimmed := bytes.TrimLeft(raw, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return jwsHeader{}, errJWTHeader // so that m below is never nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return jwsHeader{}, errJWTHeader
	}
	var h jwsHeader
	var algOK, kidOK bool
	h.alg, algOK = jwsString(m["alg"])
	h.kid, kidOK = jwsString(m["kid"])
	if !algOK || !kidOK {
		return jwsHeader{}, errJWTHeader
	}
	_, h.crit = m["crit"]
	return h, nil
}

// jwsString returns the string the JSON value raw holds: "" for none
// (nil) or null, false for any other type.
func jwsString(raw json.RawMessage) (string, bool) {
	if raw == nil || string(raw) == "null" {
		return "", true
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// verifyJWS checks j with k and returns j's payload appended to dst,
// which need not be JSON: Keyring.Verify and the Wycheproof tests both call it. The checks
// run in this order, and nothing of j but its alg header is used before
// the signature verified:
//
//   - the alg header must be k's algorithm (else ErrSignature; "none"
//     included), as j's kid selected k or the caller chose it;
//   - the signature must be strict base64url (else ErrMalformed) and
//     verify over the signing input with k (else ErrSignature);
//   - a crit header, of any value, is ErrClaims: latch implements no JWS
//     extension (RFC 7515 §4.1.11);
//   - the payload must be strict base64url (else ErrMalformed).
//
// The kid header is not read: k is the key.
func (k *Key) verifyJWS(j *jws, dst []byte) ([]byte, error) {
	if j.alg != k.alg {
		return nil, errJWTAlg
	}
	var buf [jwsSigBuf]byte
	sig, err := jwsB64.AppendDecode(buf[:0], []byte(j.sig))
	if err != nil {
		return nil, errJWTSigEncoding
	}
	if err := k.checkSignature(j.signingInput, sig); err != nil {
		return nil, err
	}
	if j.crit {
		return nil, errJWTCrit
	}
	payload, err := jwsB64.AppendDecode(dst, []byte(j.payload))
	if err != nil {
		return nil, errJWTEncoding
	}
	return payload, nil
}

// checkSignature checks sig over signingInput with k's key and algorithm:
// the cryptography alone, errors are ErrSignature. A signature must be
// complete: HMAC tags are compared in full, ECDSA signatures are r||s of
// the curve's size (RFC 7518 §3.4), RSASSA-PSS salts are the hash size
// (RFC 7518 §3.5).
func (k *Key) checkSignature(signingInput string, sig []byte) error {
	m, isMAC := k.method.(*jwt.SigningMethodHMAC)
	if isMAC {
		return k.checkMAC(m, signingInput, sig)
	}
	// Passed on to an interface, sig would be moved to the heap in every
	// call, and verifyJWS's buffer with it: copy it here instead, where
	// the cryptography costs far more than the copy.
	own := bytes.Clone(sig)
	if pss, ok := k.method.(*jwt.SigningMethodRSAPSS); ok {
		return jwsVerifyPSS(pss, k.verifyKey, signingInput, own)
	}
	if k.method.Verify(signingInput, own, k.verifyKey) != nil {
		return ErrSignature
	}
	return nil
}

// jwsMAC is an HMAC state of one key, kept in the key's pool (Key.macs)
// between verifications: reset, it holds the key's padded-key state, so
// a verification hashes only the signing input, and allocates nothing.
type jwsMAC struct {
	h   hash.Hash
	in  []byte            // the signing input: hash.Hash writes bytes
	tag [sha512.Size]byte // the tag computed, cleared after use
}

// checkMAC checks the HMAC tag sig over signingInput, as golang-jwt's
// SigningMethodHMAC.Verify does (the full tag, compared in constant
// time), with a reused state of k's.
func (k *Key) checkMAC(m *jwt.SigningMethodHMAC, signingInput string, sig []byte) error {
	secret, ok := k.verifyKey.([]byte)
	if !ok || !m.Hash.Available() {
		return ErrSignature
	}
	mac, _ := k.macs.Get().(*jwsMAC)
	if mac == nil {
		mac = &jwsMAC{h: hmac.New(m.Hash.New, secret)}
	}
	mac.in = append(mac.in[:0], signingInput...)
	mac.h.Write(mac.in)
	ok = hmac.Equal(sig, mac.h.Sum(mac.tag[:0]))
	mac.h.Reset()
	clear(mac.tag[:])
	k.macs.Put(mac)
	if !ok {
		return ErrSignature
	}
	return nil
}

// jwsVerifyPSS verifies an RSASSA-PSS signature whose salt is as long as
// the hash, the only length RFC 7518 §3.5 allows; golang-jwt's Verify
// accepts any salt length (rsa.PSSSaltLengthAuto). golang-jwt signs with
// PSSSaltLengthEqualsHash, so every token latch signs verifies.
func jwsVerifyPSS(m *jwt.SigningMethodRSAPSS, key any, signingInput string, sig []byte) error {
	pub, ok := key.(*rsa.PublicKey)
	if !ok || !m.Hash.Available() {
		return ErrSignature
	}
	h := m.Hash.New()
	io.WriteString(h, signingInput)
	opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: m.Hash}
	if rsa.VerifyPSS(pub, m.Hash, h.Sum(nil), sig, opts) != nil {
		return ErrSignature
	}
	return nil
}
