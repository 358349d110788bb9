package e2e

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
)

// testAttackTimeClaims: exp, nbf and iat at and just past their edges,
// without leeway and with 30s of it, and claims of the wrong type or out
// of range, all signed with the app's own key. The clock sits on a whole
// second, so each edge is exact.
func testAttackTimeClaims(t *testing.T, routes Routes) {
	type edit func(c map[string]any, now, leeway int64)
	set := func(name string, at func(now, leeway int64) any) edit {
		return func(c map[string]any, now, leeway int64) { c[name] = at(now, leeway) }
	}
	cases := []struct {
		name string
		edit edit
		// answers without and with leeway
		noLeeway, leeway want
	}{
		{"exp one second ahead", set("exp", func(now, _ int64) any { return now + 1 }), servedTest, servedTest},
		{"exp now", set("exp", func(now, _ int64) any { return now }), refusedExpired, servedTest},
		{"exp one leeway ago", set("exp", func(now, l int64) any { return now - l }), refusedExpired, refusedExpired},
		{"exp one second inside the leeway", set("exp", func(now, l int64) any { return now - l + 1 }), servedTest, servedTest},
		{"exp an hour ago", set("exp", func(now, _ int64) any { return now - 3600 }), refusedExpired, refusedExpired},
		{"nbf one leeway ahead", set("nbf", func(now, l int64) any { return now + l }), servedTest, servedTest},
		{"nbf past the leeway", set("nbf", func(now, l int64) any { return now + l + 1 }), refusedInvalid, refusedInvalid},
		{"iat one leeway ahead", set("iat", func(now, l int64) any { return now + l }), servedTest, servedTest},
		{"iat past the leeway", set("iat", func(now, l int64) any { return now + l + 1 }), refusedInvalid, refusedInvalid},
		{"iat a year ahead", set("iat", func(now, _ int64) any { return now + 365*24*3600 }), refusedInvalid, refusedInvalid},
		{"exp missing", func(c map[string]any, _, _ int64) { delete(c, "exp") }, refusedMalformed, refusedMalformed},
		{"exp null", set("exp", func(int64, int64) any { return nil }), refusedMalformed, refusedMalformed},
		{"exp as a string", set("exp", func(now, _ int64) any { return strconv.FormatInt(now+60, 10) }), refusedMalformed, refusedMalformed},
		{"exp as a date string", set("exp", func(now, _ int64) any { return time.Unix(now+60, 0).UTC().Format(time.RFC3339) }), refusedMalformed, refusedMalformed},
		{"exp 1e20", set("exp", func(int64, int64) any { return json.Number("1e20") }), refusedMalformed, refusedMalformed},
		{"exp past year 9999", set("exp", func(int64, int64) any { return json.Number("253402300800") }), refusedMalformed, refusedMalformed},
		{"exp negative", set("exp", func(int64, int64) any { return -1 }), refusedMalformed, refusedMalformed},
		{"exp a boolean", set("exp", func(int64, int64) any { return true }), refusedMalformed, refusedMalformed},
		{"nbf as a string", set("nbf", func(now, _ int64) any { return strconv.FormatInt(now, 10) }), refusedMalformed, refusedMalformed},
		{"iat as a string", set("iat", func(now, _ int64) any { return strconv.FormatInt(now, 10) }), refusedMalformed, refusedMalformed},
		{"iat 1e20", set("iat", func(int64, int64) any { return json.Number("1e20") }), refusedMalformed, refusedMalformed},
	}
	for _, s := range append(jwtSetups, setupJWT.withAlg("ES256")) {
		t.Run(s.name, func(t *testing.T) {
			for _, leeway := range []time.Duration{0, 30 * time.Second} {
				t.Run("leeway="+leeway.String(), func(t *testing.T) {
					a := newAttackHarness(t, routes, s, func(c *config) { c.JWT.Leeway = latch.Duration(leeway) })
					a.clock.set(a.clock.Now().Truncate(time.Second))
					tk := a.login(t, "test", "laptop")
					now, l := a.clock.Now().Unix(), int64(leeway/time.Second)
					for _, c := range cases {
						t.Run(c.name, func(t *testing.T) {
							w := c.noLeeway
							if leeway > 0 {
								w = c.leeway
							}
							tok := a.key.reforge(t, tk.AccessToken, func(_, claims map[string]any) { c.edit(claims, now, l) })
							req := request{method: "GET", path: "/protected", token: tok}
							if w.status == 200 {
								a.refused(t, req, w) // served, and nothing written
								return
							}
							a.untouched(t, req, w)
						})
					}
				})
			}
		})
	}
}

// testAttackIssuerAudience: with an issuer and an audience configured, a
// token signed with the app's own key must carry both.
func testAttackIssuerAudience(t *testing.T, routes Routes) {
	const iss, aud = "https://auth.latch.example", "seed-api"
	claim := func(name string, v any) func(*testing.T, *attackHarness, string, string) string {
		return func(t *testing.T, a *attackHarness, tok, _ string) string {
			return a.key.reforge(t, tok, func(_, c map[string]any) {
				if c[name] == nil {
					t.Fatalf("the issued token has no %s", name)
				}
				if v == nil {
					delete(c, name)
				} else {
					c[name] = v
				}
			})
		}
	}
	cases := []forgery{
		{"as issued", func(t *testing.T, a *attackHarness, tok, _ string) string {
			return a.key.reforge(t, tok, func(_, c map[string]any) {
				if c["iss"] != iss || c["aud"] != aud {
					t.Errorf("issued with iss %v, aud %v", c["iss"], c["aud"])
				}
			})
		}, servedTest},
		{"iss of another issuer", claim("iss", "https://attacker.example"), refusedInvalid},
		{"iss absent", claim("iss", nil), refusedInvalid},
		{"iss empty", claim("iss", ""), refusedInvalid},
		{"iss in upper case", claim("iss", strings.ToUpper(iss)), refusedInvalid},
		{"iss with a trailing slash", claim("iss", iss+"/"), refusedInvalid},
		{"iss a list", claim("iss", []string{iss}), refusedMalformed},
		{"iss a number", claim("iss", 1), refusedMalformed},
		{"aud of another audience", claim("aud", "other-api"), refusedInvalid},
		{"aud absent", claim("aud", nil), refusedInvalid},
		{"aud empty", claim("aud", ""), refusedInvalid},
		{"aud an empty list", claim("aud", []string{}), refusedInvalid},
		{"aud a list without it", claim("aud", []string{"other-api", "more-api"}), refusedInvalid},
		{"aud a list with it", claim("aud", []string{"other-api", aud}), servedTest},
		{"aud a number", claim("aud", 1), refusedMalformed},
		{"aud a list holding a number", claim("aud", []any{aud, 1}), refusedMalformed},
	}
	runForgeries(t, routes, append(jwtSetups, setupJWT.withAlg("ES256")), func(c *config) {
		c.JWT.Issuer, c.JWT.Audience = iss, aud
	}, cases)
}

// testAttackSubject: sub and sid that are empty, absent, not strings or
// not what latch ever issues, signed with the app's own key.
func testAttackSubject(t *testing.T, routes Routes) {
	claim := func(name string, v any) func(*testing.T, *attackHarness, string, string) string {
		return func(t *testing.T, a *attackHarness, tok, _ string) string {
			return a.key.reforge(t, tok, func(_, c map[string]any) {
				if v == nil {
					delete(c, name)
				} else {
					c[name] = v
				}
			})
		}
	}
	cases := []forgery{
		{"sub empty", claim("sub", ""), refusedMalformed},
		{"sub absent", claim("sub", nil), refusedMalformed},
		{"sub null", claim("sub", json.RawMessage("null")), refusedMalformed},
		{"sub a number", claim("sub", 1), refusedMalformed},
		{"sub a list", claim("sub", []string{"1"}), refusedMalformed},
		{"sub an object", claim("sub", map[string]any{"id": "1"}), refusedMalformed},
		{"sub with a NUL", claim("sub", "1\x00"), refusedMalformed},
		{"sub over 1024 bytes", claim("sub", strings.Repeat("1", 1025)), refusedMalformed},
		{"sid absent", claim("sid", nil), refusedMalformed},
		{"sid path traversal", claim("sid", "../../../etc/passwd"), refusedMalformed},
		{"sid SQL", claim("sid", "' OR 1=1--"), refusedMalformed},
		{"sid a number", claim("sid", 1), refusedMalformed},
	}
	runForgeries(t, routes, append(jwtSetups, setupJWT.withAlg("ES256")), nil, cases)
}
