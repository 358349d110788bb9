package e2e

import (
	"crypto/elliptic"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
)

const b64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// respellings returns tok with its signature written in the other
// base64url spellings that lenient decoders (golang-jwt's default among
// them) read as the same bytes: non-zero trailing bits, padding, the
// standard alphabet. The signature must hold a '-' or '_' (see
// loginRespellable), so that the standard alphabet changes it.
func respellings(t *testing.T, tok string) map[string]string {
	t.Helper()
	dot := strings.LastIndexByte(tok, '.')
	head, sig := tok[:dot+1], tok[dot+1:]
	if len(sig)*6%8 == 0 {
		t.Fatalf("a %d-character signature has no trailing bits", len(sig))
	}
	last := strings.IndexByte(b64URLAlphabet, sig[len(sig)-1])
	trailing := sig[:len(sig)-1] + string(b64URLAlphabet[last^1]) // the lowest bit is a trailing bit
	pad := strings.Repeat("=", (4-len(sig)%4)%4)
	std := strings.NewReplacer("-", "+", "_", "/").Replace(sig)
	if std == sig {
		t.Fatal("the signature holds no '-' or '_'")
	}
	return map[string]string{
		"trailing bits":                  head + trailing,
		"padding":                        head + sig + pad,
		"standard alphabet":              head + std,
		"standard alphabet with padding": head + std + pad,
		"trailing bits and padding":      head + trailing + pad,
	}
}

// malleate returns an ES256 token with its signature (r, s) replaced by
// (r, n-s): another valid signature of the same header and claims.
func malleate(t *testing.T, tok string) string {
	t.Helper()
	dot := strings.LastIndexByte(tok, '.')
	sig, err := b64.DecodeString(tok[dot+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("not an ES256 signature (%d bytes): %v", len(sig), err)
	}
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(elliptic.P256().Params().N, s)
	s.FillBytes(sig[32:])
	return tok[:dot+1] + b64.EncodeToString(sig)
}

// respellable reports whether tok's signature holds a '-' or '_'.
func respellable(tok string) bool {
	return strings.ContainsAny(tok[strings.LastIndexByte(tok, '.')+1:], "-_")
}

// loginRespellable logs test in until the JWTs it gets have signatures
// that the standard alphabet spells differently; about one login in
// three or four needs another.
func (a *attackHarness) loginRespellable(t *testing.T) tokens {
	t.Helper()
	for range 100 {
		tk := a.login(t, "test", "laptop")
		if respellable(tk.AccessToken) && (!a.setup.jwtRefresh() || respellable(tk.RefreshToken)) {
			return tk
		}
	}
	t.Fatal("no signature with '-' or '_' in 100 logins")
	return tokens{}
}

// testAttackSpellings: one token, many spellings. After logout, the token
// is refused in every alternative base64url spelling as malformed (latch
// decodes strictly, before any session is read), and, with ES256, with
// the malleated signature (r, n-s), which is a valid signature, as a
// session that ended: revocation keys on the session (sid), and refresh
// reuse on the jti, never on the token's text. In jwt mode with
// SessionCheck access tokens are tried at /protected; in hybrid mode,
// where access JWTs are stateless, at /sessions, a route that checks the
// session.
func testAttackSpellings(t *testing.T, routes Routes) {
	setups := []attackSetup{setupJWTCheck, setupJWTCheck.withAlg("ES256"), setupHybrid, setupHybrid.withAlg("ES256")}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			a := newAttackHarness(t, routes, s, nil)
			route := "/protected"
			served := servedTest
			if !s.sessionCheck {
				route, served = "/sessions", want{status: 200}
			}
			tk := a.loginRespellable(t)
			sid := sessionOf(t, tk.AccessToken)
			es256 := s.alg == "ES256"
			if es256 {
				t.Run("the malleated signature is valid while the session lives", func(t *testing.T) {
					a.refused(t, request{method: "GET", path: route, token: malleate(t, tk.AccessToken)}, served)
				})
			}
			a.post(t, "/logout", tk.AccessToken).check(t, want{200, "", `{"msg":"Logged out"}`})
			a.gone(t, sid)
			present := func(t *testing.T, tok string, refresh bool) {
				req := request{method: "GET", path: route}
				if refresh {
					req = request{method: "POST", path: "/refresh"}
				}
				t.Run("as issued", func(t *testing.T) {
					req.token = tok
					if c := a.refused(t, req, refusedEnded); c.Get != 1 {
						t.Errorf("Get called %d times, want once", c.Get)
					}
				})
				for name, spelled := range respellings(t, tok) {
					t.Run(name, func(t *testing.T) {
						req.token = spelled
						a.untouched(t, req, refusedMalformed)
					})
				}
				if es256 {
					t.Run("malleated", func(t *testing.T) {
						req.token = malleate(t, tok)
						if c := a.refused(t, req, refusedEnded); c.Get != 1 {
							t.Errorf("Get called %d times, want once", c.Get)
						}
					})
				}
			}
			t.Run("access", func(t *testing.T) { present(t, tk.AccessToken, false) })
			if s.jwtRefresh() {
				t.Run("refresh", func(t *testing.T) { present(t, tk.RefreshToken, true) })
				t.Run("spent refresh", func(t *testing.T) { spentRespelled(t, a) })
			}
		})
	}
}

// spentRespelled: a refresh JWT that was spent comes back past the reuse
// grace respelled (refused as malformed: the session lives on, nothing is
// written) and, with ES256, malleated: the jti is the spent one, so reuse
// detection ends the session.
func spentRespelled(t *testing.T, a *attackHarness) {
	tk := a.loginRespellable(t)
	sid := sessionOf(t, tk.AccessToken)
	a.decodeTokens(t, a.refresh(t, tk.RefreshToken))
	a.clock.Add(latch.DefaultReuseGrace + time.Second)
	for name, spelled := range respellings(t, tk.RefreshToken) {
		t.Run(name, func(t *testing.T) {
			a.untouched(t, request{method: "POST", path: "/refresh", token: spelled}, refusedMalformed)
			a.session(t, sid) // still live
		})
	}
	if a.setup.alg != "ES256" {
		return
	}
	t.Run("malleated", func(t *testing.T) {
		c := a.attempt(t, request{method: "POST", path: "/refresh", token: malleate(t, tk.RefreshToken)}, refusedEnded)
		if c.Writes() != 1 || c.Revoke != 1 {
			t.Errorf("store calls %+v, want the one Revoke of reuse detection", c)
		}
		a.gone(t, sid)
	})
}
