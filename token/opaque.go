package token

import (
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
	// OpaqueLen is the length of every opaque token.
	OpaqueLen = prefixLen + idLen + secretLen + sumLen
)

// Errors of the opaque format, checked before any store access.
var (
	ErrChecksum  = errors.New("token: checksum mismatch")
	ErrWrongType = errors.New("token: wrong token type")
)

// NewSecret returns a fresh 256-bit secret from crypto/rand as base62 text,
// and its SHA-256: the only part a store may keep. Login makes the secret
// before the store assigns the session id; FormatOpaque then joins them.
func NewSecret() (secret string, hash []byte) {
	var raw [secretBytes]byte
	rand.Read(raw[:]) // never fails (crypto/rand, Go 1.24+)
	b := make([]byte, secretLen)
	base62.Encode(b, raw[:])
	return string(b), HashSecret(string(b))
}

// FormatOpaque joins prefix, session id and a secret from NewSecret into a
// token and appends its checksum. It panics on parts of the wrong shape,
// which only a programming error can produce.
func FormatOpaque(prefix, id, secret string) string {
	if len(prefix) != prefixLen || len(id) != idLen || !base62.Valid(id) ||
		len(secret) != secretLen || !base62.Valid(secret) {
		panic("token: FormatOpaque with a malformed prefix, session id or secret")
	}
	b := make([]byte, OpaqueLen)
	n := copy(b, prefix)
	n += copy(b[n:], id)
	n += copy(b[n:], secret)
	base62.Encode(b[n:], crc(b[:n]))
	return string(b)
}

// NewOpaque returns a fresh opaque token for session id with the given
// prefix, and the SHA-256 of its secret.
func NewOpaque(prefix, id string) (tok string, hash []byte) {
	secret, hash := NewSecret()
	return FormatOpaque(prefix, id, secret), hash
}

// ParseOpaque checks tok's shape, prefix and checksum, and returns the
// session id it names and the SHA-256 of its secret. It reads nothing but
// tok: a typo, garbage or a token of the other type costs no store access.
//
// A wrong prefix of the other latch type is ErrWrongType; anything else
// that is not a well-formed token of this shape is ErrMalformed or
// ErrChecksum.
func ParseOpaque(tok, prefix string) (id string, hash []byte, err error) {
	if len(tok) != OpaqueLen || !base62.Valid(tok[prefixLen:]) {
		return "", nil, ErrMalformed
	}
	if tok[:prefixLen] != prefix {
		if tok[:prefixLen] == PrefixAccess || tok[:prefixLen] == PrefixRefresh {
			return "", nil, ErrWrongType
		}
		return "", nil, ErrMalformed
	}
	var sum [sumLen]byte
	base62.Encode(sum[:], crc([]byte(tok[:OpaqueLen-sumLen])))
	if string(sum[:]) != tok[OpaqueLen-sumLen:] {
		// The checksum is public (anyone can compute it), so this
		// comparison needs no constant time.
		return "", nil, ErrChecksum
	}
	id = tok[prefixLen : prefixLen+idLen]
	return id, HashSecret(tok[prefixLen+idLen : OpaqueLen-sumLen]), nil
}

// IsOpaque reports whether tok looks like a latch opaque token (either
// type), without verifying its checksum.
func IsOpaque(tok string) bool {
	return len(tok) == OpaqueLen && (tok[:prefixLen] == PrefixAccess || tok[:prefixLen] == PrefixRefresh)
}

// HashSecret returns the SHA-256 of a secret: what stores keep instead of
// the secret. Secrets carry 128 bits or more from crypto/rand, so a fast
// hash is enough; a slow password hash would only slow every request.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func crc(b []byte) []byte {
	c := crc32.ChecksumIEEE(b)
	return []byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)}
}
