package e2e

import (
	"strings"
	"testing"

	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/store"
)

// testAttackOpaque: opaque tokens that are not what the server issued.
// Anything whose shape, prefix or checksum is wrong is refused before the
// store is called; a token with a valid checksum costs exactly one Get
// and gets the answer of an ended session, whether its id is unknown or
// its secret wrong. Access tokens are tried at /protected (opaque mode),
// refresh tokens at /refresh (opaque and hybrid modes).
func testAttackOpaque(t *testing.T, routes Routes) {
	parts := func(tok string) (prefix, id, secret string) {
		return tok[:4], tok[4 : 4+store.IDLen], opaqueSecret(tok)
	}
	other := func(prefix string) string {
		if prefix == opaque.PrefixAccess {
			return opaque.PrefixRefresh
		}
		return opaque.PrefixAccess
	}
	cases := []struct {
		name  string
		forge func(tok, peer string) string
		want  want
	}{
		{"bad checksum", func(tok, _ string) string {
			c := byte('0')
			if tok[len(tok)-1] == '0' {
				c = '1'
			}
			return tok[:len(tok)-1] + string(c)
		}, refusedMalformed},
		{"checksum of batman's token", func(tok, peer string) string { return tok[:len(tok)-6] + peer[len(peer)-6:] }, refusedMalformed},
		{"secret changed, checksum kept", func(tok, _ string) string {
			p, id, secret := parts(tok)
			c := "A"
			if secret[0] == 'A' {
				c = "B"
			}
			return p + id + c + secret[1:] + tok[len(tok)-6:]
		}, refusedMalformed},
		{"unknown prefix", func(tok, _ string) string {
			_, id, secret := parts(tok)
			return opaque.Format("ltx_", id, secret)
		}, refusedMalformed},
		{"prefix in upper case", func(tok, _ string) string {
			p, id, secret := parts(tok)
			return opaque.Format(strings.ToUpper(p), id, secret)
		}, refusedMalformed},
		{"prefix of the other type", func(tok, _ string) string {
			p, id, secret := parts(tok)
			return opaque.Format(other(p), id, secret)
		}, refusedWrongType},
		{"prefix stripped", func(tok, _ string) string { return tok[4:] }, refusedMalformed},
		{"truncated by one", func(tok, _ string) string { return tok[:len(tok)-1] }, refusedMalformed},
		{"truncated to prefix and id", func(tok, _ string) string { return tok[:4+store.IDLen] }, refusedMalformed},
		{"padded with =", func(tok, _ string) string { return tok + "=" }, refusedMalformed},
		{"padded with ==", func(tok, _ string) string { return tok + "==" }, refusedMalformed},
		{"padded with a base62 character", func(tok, _ string) string { return tok + "A" }, refusedMalformed},
		{"doubled", func(tok, _ string) string { return tok + tok }, refusedMalformed},
		{"id with a non-base62 character", func(tok, _ string) string { return tok[:4] + "-" + tok[5:] }, refusedMalformed},
		{"valid checksum, unknown id", func(tok, _ string) string {
			p, _, secret := parts(tok)
			return opaque.Format(p, store.NewID(), secret)
		}, refusedEnded},
		{"valid checksum, all-zero id", func(tok, _ string) string {
			p, _, secret := parts(tok)
			return opaque.Format(p, strings.Repeat("0", store.IDLen), secret)
		}, refusedEnded},
		{"valid checksum, batman's id", func(tok, peer string) string {
			p, _, secret := parts(tok)
			_, id, _ := parts(peer)
			return opaque.Format(p, id, secret)
		}, refusedEnded},
		{"valid checksum, right id, random secret", func(tok, _ string) string {
			p, id, _ := parts(tok)
			return newOpaque(p, id)
		}, refusedEnded},
	}
	for _, s := range []attackSetup{setupOpaque, setupHybrid} {
		t.Run(s.name, func(t *testing.T) {
			a := newAttackHarness(t, routes, s, nil)
			tk, bat := a.login(t, "test", "laptop"), a.login(t, "batman", "batcave")
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					if !s.jwtAccess() {
						t.Run("access", func(t *testing.T) {
							a.expectRefusal(t, request{method: "GET", path: "/protected", token: c.forge(tk.AccessToken, bat.AccessToken)}, c.want)
						})
					}
					t.Run("refresh", func(t *testing.T) {
						a.expectRefusal(t, request{method: "POST", path: "/refresh", token: c.forge(tk.RefreshToken, bat.RefreshToken)}, c.want)
					})
				})
			}
			t.Run("the real tokens still work", func(t *testing.T) {
				a.get(t, "/protected", tk.AccessToken).check(t, servedTest)
				a.decodeTokens(t, a.refresh(t, tk.RefreshToken))
			})
		})
	}
}
