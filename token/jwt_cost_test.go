package token_test

import (
	"strings"
	"testing"

	"github.com/latchauth/latch/token"
)

func TestBoundedWork(t *testing.T) {
	r := jtRing(t, jtHMAC(t, "", jtSecret(32)))
	tests := []struct {
		name string
		tok  string
	}{
		{"100,000 dots", strings.Repeat(".", 100_000)},
		{"8,192 dots", strings.Repeat(".", 8192)},
		{"1 MB of base64url", strings.Repeat("A", 1<<20)},
		{"many segments under the limit", strings.Repeat("a.", 4000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			allocs := testing.AllocsPerRun(100, func() { _, err = r.Verify(tt.tok, jtOpts()) })
			jtWantErr(t, err, token.ErrMalformed)
			if allocs > 5 {
				t.Errorf("%v allocations, want at most 5", allocs)
			}
		})
	}
}

func TestVerifyAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	r := jtRing(t, jtHMAC(t, "", jtSecret(32)))
	tok, _ := r.Sign(jtClaims())
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := r.Verify(tok, jtOpts()); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("Verify HS256: %v allocations", allocs)
	// 28 with Go 1.26 (golang-jwt's own Parse makes 59): 14 for the
	// claims (encoding/json's map), 7 in golang-jwt's HMAC. The header of
	// a token the ring signed is not decoded (keySnapshot.headers); one
	// that must be costs about 17 more.
	if allocs > 40 {
		t.Errorf("Verify HS256 made %v allocations, want at most 40", allocs)
	}
}
