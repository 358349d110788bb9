// Package opaque is latch's opaque token format: a readable prefix (lta_
// access, ltr_ refresh), the session id, a 256-bit secret from
// crypto/rand, and a CRC32 checksum, all base62:
//
//	lta_<22: session id><43: secret><6: checksum>      75 characters
//
// A store keeps only the SHA-256 of the secret. The checksum refuses
// typos, truncations and tokens of the other type before any store
// access, and lets secret scanners confirm a match of
// lt[ar]_[0-9A-Za-z]{71}.
package opaque

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash/crc32"

	"github.com/latchauth/latch/internal/base62"
)

// Prefixes of opaque tokens: readable, so a person or a secret scanner can
// tell what leaked, and distinct per type, so a refresh token presented as
// an access token is refused before any store access.
const (
	PrefixAccess  = "lta_"
	PrefixRefresh = "ltr_"
)

// Opaque token layout: prefix, session id, secret, checksum.
const (
	idLen       = 22 // store.IDLen: 128 bits, base62
	secretBytes = 32 // 256 bits from crypto/rand
	secretLen   = 43 // base62 digits of 32 bytes
	sumLen      = 6  // base62 digits of a CRC32
	prefixLen   = 4
	// Len is the length of every opaque token.
	Len = prefixLen + idLen + secretLen + sumLen
)

// Errors of the opaque format, checked before any store access.
var (
	ErrMalformed = errors.New("opaque: malformed token")
	ErrChecksum  = errors.New("opaque: checksum mismatch")
	ErrWrongType = errors.New("opaque: wrong token type")
)

// NewSecret returns a fresh 256-bit secret from crypto/rand as base62 text,
// and its SHA-256: the only part a store may keep. Login makes the secret
// before the store assigns the session id; Format then joins them.
func NewSecret() (secret string, hash []byte) {
	var raw [secretBytes]byte
	rand.Read(raw[:]) // never fails (crypto/rand, Go 1.24+)
	b := make([]byte, secretLen)
	base62.Encode(b, raw[:])
	return string(b), HashSecret(string(b))
}

// Derive returns the secret that succeeds spent in session id under key,
// for the purpose named by label, and its SHA-256: HMAC-SHA256(key, label
// ‖ 0 ‖ id ‖ 0 ‖ spent) as base62 text, the shape of NewSecret's. The same
// spent secret always has the same successor, so a refresh that is
// retried gets the tokens it already got; without key, neither a spent
// secret nor a store's hashes reveal it.
func Derive(key []byte, label, id, spent string) (secret string, hash []byte) {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write([]byte(id))
	m.Write([]byte{0})
	m.Write([]byte(spent))
	b := make([]byte, secretLen)
	base62.Encode(b, m.Sum(nil))
	return string(b), HashSecret(string(b))
}

// SecretOf returns the secret part of tok, a token Parse accepted.
func SecretOf(tok string) string { return tok[prefixLen+idLen : Len-sumLen] }

// Format joins prefix, session id and a secret from NewSecret into a
// token and appends its checksum. It panics on parts of the wrong shape,
// which only a programming error can produce.
func Format(prefix, id, secret string) string {
	if len(prefix) != prefixLen || len(id) != idLen || !base62.Valid(id) ||
		len(secret) != secretLen || !base62.Valid(secret) {
		panic("opaque: Format with a malformed prefix, session id or secret")
	}
	b := make([]byte, Len)
	n := copy(b, prefix)
	n += copy(b[n:], id)
	n += copy(b[n:], secret)
	c := crc(b[:n])
	base62.Encode(b[n:], c[:])
	return string(b)
}

// New returns a fresh opaque token for session id with the given
// prefix, and the SHA-256 of its secret.
func New(prefix, id string) (tok string, hash []byte) {
	secret, hash := NewSecret()
	return Format(prefix, id, secret), hash
}

// Parse checks tok's shape, prefix and checksum, and returns the
// session id it names and the SHA-256 of its secret. It reads nothing but
// tok: a typo, garbage or a token of the other type costs no store access.
//
// A wrong prefix of the other latch type is ErrWrongType; anything else
// that is not a well-formed token of this shape is ErrMalformed or
// ErrChecksum.
func Parse(tok, prefix string) (id string, hash []byte, err error) {
	if len(tok) != Len || !base62.Valid(tok[prefixLen:]) {
		return "", nil, ErrMalformed
	}
	if tok[:prefixLen] != prefix {
		if tok[:prefixLen] == PrefixAccess || tok[:prefixLen] == PrefixRefresh {
			return "", nil, ErrWrongType
		}
		return "", nil, ErrMalformed
	}
	// A copy on the stack: the checksum and the hash read bytes, and
	// converting the string would put each copy on the heap.
	var b [Len]byte
	copy(b[:], tok)
	defer clear(b[:])
	var sum [sumLen]byte
	c := crc(b[:Len-sumLen])
	base62.Encode(sum[:], c[:])
	if string(sum[:]) != tok[Len-sumLen:] {
		// The checksum is public (anyone can compute it), so this
		// comparison needs no constant time.
		return "", nil, ErrChecksum
	}
	h := sha256.Sum256(b[prefixLen+idLen : Len-sumLen])
	return tok[prefixLen : prefixLen+idLen], h[:], nil
}

// Is reports whether tok looks like a latch opaque token (either
// type), without verifying its checksum.
func Is(tok string) bool {
	return len(tok) == Len && (tok[:prefixLen] == PrefixAccess || tok[:prefixLen] == PrefixRefresh)
}

// HashSecret returns the SHA-256 of a secret: what stores keep instead of
// the secret. Secrets carry 128 bits or more from crypto/rand, so a fast
// hash is enough; a slow password hash would only slow every request.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func crc(b []byte) [4]byte {
	c := crc32.ChecksumIEEE(b)
	return [4]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)}
}
