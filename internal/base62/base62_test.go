package base62

import (
	"bytes"
	"math/big"
	"testing"
)

func TestWidth(t *testing.T) {
	for n, want := range map[int]int{4: 6, 16: 22, 32: 43} {
		if got := Width(n); got != want {
			t.Errorf("Width(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestEncodeMatchesBigInt(t *testing.T) {
	cases := [][]byte{
		{0, 0, 0, 0},
		{0xff, 0xff, 0xff, 0xff},
		bytes.Repeat([]byte{0xff}, 32),
		{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
	}
	for _, b := range cases {
		dst := make([]byte, Width(len(b)))
		Encode(dst, b)
		want := new(big.Int).SetBytes(b).Text(62)
		// big.Int uses 0-9a-zA-Z; map to our 0-9A-Za-z order.
		swapped := []byte(want)
		for i, c := range swapped {
			switch {
			case 'a' <= c && c <= 'z':
				swapped[i] = c - 'a' + 'A'
			case 'A' <= c && c <= 'Z':
				swapped[i] = c - 'A' + 'a'
			}
		}
		padded := string(bytes.Repeat([]byte{'0'}, len(dst)-len(swapped))) + string(swapped)
		if string(dst) != padded {
			t.Errorf("Encode(%x) = %s, want %s", b, dst, padded)
		}
		if !Valid(string(dst)) {
			t.Errorf("Valid(%s) = false", dst)
		}
	}
	if Valid("abc_") || Valid("é") {
		t.Error("Valid accepted a character outside the alphabet")
	}
}
