// Package base62 encodes byte strings as fixed-width base62 text
// (0-9A-Za-z), the alphabet of latch's session ids and opaque tokens:
// double-click selectable, URL and header safe, no padding.
package base62

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Width returns the number of base62 digits that can hold any n-byte value.
func Width(n int) int {
	// log(256)/log(62) = 1.3435...; computed exactly for the sizes latch uses.
	w, max := 0, 1.0
	for i := 0; i < n; i++ {
		max *= 256
	}
	for p := 1.0; p < max; p *= 62 {
		w++
	}
	return w
}

// Encode writes b as big-endian base62 into dst, left-padded with '0'.
// dst must be at least Width(len(b)) long; every byte of dst is written.
func Encode(dst []byte, b []byte) {
	num := make([]byte, len(b))
	copy(num, b)
	for i := len(dst) - 1; i >= 0; i-- {
		var rem uint
		for j := range num {
			acc := rem<<8 | uint(num[j])
			num[j] = byte(acc / 62)
			rem = acc % 62
		}
		dst[i] = alphabet[rem]
	}
}

// Valid reports whether every byte of s is in the base62 alphabet.
// It looks each byte up in a table, without a branch per byte: three
// range checks branch unpredictably on random text.
func Valid(s string) bool {
	var bad byte
	for i := 0; i < len(s); i++ {
		bad |= outside[s[i]]
	}
	return bad == 0
}

// outside is 1 at the bytes that are not in alphabet, 0 at those that are.
var outside = func() (t [256]byte) {
	for i := range t {
		t[i] = 1
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = 0
	}
	return t
}()
