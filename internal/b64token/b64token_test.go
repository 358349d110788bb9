package b64token

import (
	"strings"
	"testing"
)

// TestIsChar holds the table to RFC 6750's b64token: ALPHA, DIGIT and
// "-" "." "_" "~" "+" "/", then "=" (padding).
func TestIsChar(t *testing.T) {
	const want = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="
	for c := 0; c < 256; c++ {
		if got := IsChar(byte(c)); got != strings.Contains(want, string(rune(c))) || c >= 0x80 && got {
			t.Errorf("IsChar(%#x) = %v", c, got)
		}
	}
}
