package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/latchauth/latch/adapters/latchhttp"
)

// cookieHarness starts s with the cookie location on and the default,
// secure cookie settings, edited by edit.
func cookieHarness(t *testing.T, routes Routes, s attackSetup, edit func(*latchhttp.CookieConfig)) *attackHarness {
	return newAttackHarness(t, routes, s, func(c *config) {
		c.HTTP.Locations = []latchhttp.Location{latchhttp.InHeader, latchhttp.InCookie}
		if edit != nil {
			edit(&c.HTTP.Cookie)
		}
	})
}

// cookieLogin logs username in and returns the cookies the answer set
// (do has registered their values for the log scan).
func (a *attackHarness) cookieLogin(t *testing.T, username string) map[string]*http.Cookie {
	t.Helper()
	r := a.do(t, request{method: "POST", path: "/login", body: `{"username":"` + username + `","password":"` + username + `"}`})
	r.check(t, want{200, "", `{"expires_in":900,"token_type":"Bearer"}`})
	return setCookies(r)
}

// cookieHeader is a Cookie header carrying the named cookies of cs.
func cookieHeader(cs map[string]*http.Cookie, names ...string) string {
	var parts []string
	for _, n := range names {
		parts = append(parts, n+"="+cs[n].Value)
	}
	return strings.Join(parts, "; ")
}

// testAttackCSRF: with tokens in cookies, every unsafe request needs the
// double-submit header, matching the very cookie used: missing, empty,
// random, another cookie's or another user's value is a 403 before any
// session is read. A cookie without the __Host- prefix, as a sibling
// subdomain could plant, is no token at all.
func testAttackCSRF(t *testing.T, routes Routes) {
	const (
		access, refresh         = "__Host-latch_access", "__Host-latch_refresh"
		csrfAccess, csrfRefresh = "__Host-latch_csrf_access", "__Host-latch_csrf_refresh"
	)
	for _, s := range allSetups {
		t.Run(s.name, func(t *testing.T) {
			a := cookieHarness(t, routes, s, nil)
			cs, bat := a.cookieLogin(t, "test"), a.cookieLogin(t, "batman")
			for _, n := range []string{access, refresh, csrfAccess, csrfRefresh} {
				if cs[n] == nil {
					t.Fatalf("login set no cookie %s", n)
				}
			}
			sid := sessionOf(t, cs[access].Value)
			jar := cookieHeader(cs, access, refresh, csrfAccess, csrfRefresh)
			right, rightRefresh := cs[csrfAccess].Value, cs[csrfRefresh].Value
			for _, c := range []struct {
				name, method, path string
				csrf               *string
			}{
				{"logout without the header", "POST", "/logout", nil},
				{"logout with an empty header", "POST", "/logout", ptr("")},
				{"logout with a random value", "POST", "/logout", ptr("bm90IHRoZSBjc3JmIHRva2VuIGF0IGFsbA")},
				{"logout with the refresh cookie's value", "POST", "/logout", ptr(cs[csrfRefresh].Value)},
				{"logout with batman's value", "POST", "/logout", ptr(bat[csrfAccess].Value)},
				{"logout with the value in upper case", "POST", "/logout", ptr(strings.ToUpper(cs[csrfAccess].Value))},
				{"logout with the token itself", "POST", "/logout", ptr(cs[access].Value)},
				// Near misses: a check that compares only part of the value,
				// or stops at the shorter one, lets these through.
				{"logout with the last character changed", "POST", "/logout", ptr(flipLast(right))},
				{"logout with a character added", "POST", "/logout", ptr(right + "A")},
				{"logout with the last character cut", "POST", "/logout", ptr(right[:len(right)-1])},
				{"logout with a prefix", "POST", "/logout", ptr("A" + right)},
				{"logout with the first character changed", "POST", "/logout", ptr(flipFirst(right))},
				{"refresh with the last character changed", "POST", "/refresh", ptr(flipLast(rightRefresh))},
				{"refresh with a character added", "POST", "/refresh", ptr(rightRefresh + "A")},
				{"refresh with the last character cut", "POST", "/refresh", ptr(rightRefresh[:len(rightRefresh)-1])},
				{"logout_all without the header", "POST", "/logout_all", nil},
				{"delete session without the header", "DELETE", "/sessions/" + sid, nil},
				{"refresh without the header", "POST", "/refresh", nil},
				{"refresh with the access cookie's value", "POST", "/refresh", ptr(cs[csrfAccess].Value)},
				{"refresh with batman's value", "POST", "/refresh", ptr(bat[csrfRefresh].Value)},
			} {
				t.Run(c.name, func(t *testing.T) {
					hdr := map[string]string{"Cookie": jar}
					if c.csrf != nil {
						hdr["X-CSRF-Token"] = *c.csrf
					}
					a.untouched(t, request{method: c.method, path: c.path, header: hdr}, refusedCSRF)
				})
			}
			t.Run("unprefixed cookie", func(t *testing.T) {
				hdr := map[string]string{"Cookie": "latch_access=" + cs[access].Value}
				a.untouched(t, request{method: "GET", path: "/protected", header: hdr}, refusedNoToken)
			})
			t.Run("safe methods need no header", func(t *testing.T) {
				a.refused(t, request{method: "GET", path: "/protected", header: map[string]string{"Cookie": jar}}, servedTest)
			})
			a.session(t, sid)
		})
	}
}

func ptr(s string) *string { return &s }

// flipLast and flipFirst return s with its last or first character
// replaced by another of the base64url alphabet.
func flipLast(s string) string { return s[:len(s)-1] + other(s[len(s)-1]) }

func flipFirst(s string) string { return other(s[0]) + s[1:] }

func other(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// testAttackCookieFlags: the cookies of a login, and of a logout that
// clears them: token cookies HttpOnly, every cookie Secure and SameSite,
// named __Host- whenever browsers allow it (Secure, no Domain, Path=/).
func testAttackCookieFlags(t *testing.T, routes Routes) {
	type flags struct {
		name     string
		httpOnly bool
		secure   bool
		sameSite http.SameSite
		path     string
		domain   string
	}
	lax, strict := http.SameSiteLaxMode, http.SameSiteStrictMode
	configs := []struct {
		name string
		edit func(*latchhttp.CookieConfig)
		want []flags
	}{
		{"default", nil, []flags{
			{"__Host-latch_access", true, true, lax, "/", ""},
			{"__Host-latch_refresh", true, true, lax, "/", ""},
			{"__Host-latch_csrf_access", false, true, lax, "/", ""},
			{"__Host-latch_csrf_refresh", false, true, lax, "/", ""},
		}},
		{"refresh path", func(c *latchhttp.CookieConfig) { c.RefreshPath = "/refresh" }, []flags{
			{"__Host-latch_access", true, true, lax, "/", ""},
			{"latch_refresh", true, true, lax, "/refresh", ""},
			{"__Host-latch_csrf_access", false, true, lax, "/", ""},
			{"__Host-latch_csrf_refresh", false, true, lax, "/", ""},
		}},
		{"strict", func(c *latchhttp.CookieConfig) { c.SameSite = "strict" }, []flags{
			{"__Host-latch_access", true, true, strict, "/", ""},
			{"__Host-latch_refresh", true, true, strict, "/", ""},
			{"__Host-latch_csrf_access", false, true, strict, "/", ""},
			{"__Host-latch_csrf_refresh", false, true, strict, "/", ""},
		}},
		{"domain", func(c *latchhttp.CookieConfig) { c.Domain = "latch.example" }, []flags{
			{"latch_access", true, true, lax, "/", "latch.example"},
			{"latch_refresh", true, true, lax, "/", "latch.example"},
			{"latch_csrf_access", false, true, lax, "/", "latch.example"},
			{"latch_csrf_refresh", false, true, lax, "/", "latch.example"},
		}},
		{"insecure, for plain HTTP development", func(c *latchhttp.CookieConfig) { c.Insecure = true }, []flags{
			{"latch_access", true, false, lax, "/", ""},
			{"latch_refresh", true, false, lax, "/", ""},
			{"latch_csrf_access", false, false, lax, "/", ""},
			{"latch_csrf_refresh", false, false, lax, "/", ""},
		}},
	}
	checkFlags := func(t *testing.T, cs map[string]*http.Cookie, want []flags, cleared bool) {
		t.Helper()
		if len(cs) != len(want) {
			t.Errorf("%d cookies set, want %d", len(cs), len(want))
		}
		for _, w := range want {
			c := cs[w.name]
			if c == nil {
				t.Errorf("no cookie %s", w.name)
				continue
			}
			got := flags{c.Name, c.HttpOnly, c.Secure, c.SameSite, c.Path, c.Domain}
			if got != w {
				t.Errorf("cookie %s: %+v, want %+v", w.name, got, w)
			}
			if cleared != (c.MaxAge < 0) || cleared != (c.Value == "") {
				t.Errorf("cookie %s: Max-Age %d, value set %v; cleared: %v", w.name, c.MaxAge, c.Value != "", cleared)
			}
		}
	}
	for _, s := range allSetups {
		t.Run(s.name, func(t *testing.T) {
			for _, cfg := range configs {
				t.Run(cfg.name, func(t *testing.T) {
					a := cookieHarness(t, routes, s, cfg.edit)
					cs := a.cookieLogin(t, "test")
					t.Run("login", func(t *testing.T) { checkFlags(t, cs, cfg.want, false) })
					t.Run("logout", func(t *testing.T) {
						access, csrf := cfg.want[0].name, cfg.want[2].name
						r := a.do(t, request{method: "POST", path: "/logout",
							header: map[string]string{"Cookie": cookieHeader(cs, access, csrf), "X-CSRF-Token": cs[csrf].Value}})
						r.check(t, want{200, "", `{"msg":"Logged out"}`})
						checkFlags(t, setCookies(r), cfg.want, true)
					})
				})
			}
		})
	}
}
