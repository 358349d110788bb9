// Package b64token checks the alphabet of a token's text, for the core
// and the HTTP adapter alike: RFC 6750's b64token, which holds both
// base64 alphabets, padding and JWT dots.
package b64token

import (
	"fmt"
	"strings"
)

// Valid reports whether every byte of s is in the b64token alphabet. It
// does not check the length.
func Valid(s string) bool {
	for i := 0; i < len(s); i++ {
		if !IsChar(s[i]) {
			return false
		}
	}
	return true
}

// IsChar reports whether c is in the b64token alphabet.
func IsChar(c byte) bool { return alphabet[c] }

// alphabet holds, for each byte, whether it is in the b64token alphabet:
// one load a byte where Valid is called on every request.
var alphabet = func() (a [256]bool) {
	for c := range a {
		a[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/=", byte(c)) >= 0
	}
	return a
}()

// MaxLen bounds a presented token (latch.MaxTokenLen); longer is
// malformed.
const MaxLen = 8192

// Problem says why tok is not a token any of latch's formats could
// accept ("" when it could be one): empty, over MaxLen bytes, or a
// character outside the alphabet. It never quotes tok.
func Problem(tok string) string {
	switch {
	case tok == "" || len(tok) > MaxLen:
		return fmt.Sprintf("empty or over %d bytes", MaxLen)
	case !Valid(tok):
		return "character outside the token alphabet"
	}
	return ""
}
