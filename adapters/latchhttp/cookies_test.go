package latchhttp_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

func TestCookiesAndCSRF(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, locations(latchhttp.InHeader, latchhttp.InCookie))
			tk := e.Login(t, users["1"], "browser")
			w := httptest.NewRecorder()
			e.web.SetCookies(w, tk)
			cookies := map[string]*http.Cookie{}
			for _, c := range w.Result().Cookies() {
				cookies[c.Name] = c
			}
			access, csrf := cookies["__Host-latch_access"], cookies["__Host-latch_csrf_access"]
			if access == nil || csrf == nil || cookies["__Host-latch_refresh"] == nil {
				t.Fatalf("cookies set: %v", w.Header()["Set-Cookie"])
			}
			if !access.HttpOnly || !access.Secure || access.SameSite != http.SameSiteLaxMode || access.Path != "/" || access.Domain != "" {
				t.Errorf("access cookie flags: %+v", access)
			}
			if csrf.HttpOnly || csrf.Value != latchhttp.CSRFToken(tk.AccessToken) {
				t.Errorf("csrf cookie: %+v", csrf)
			}
			send := func(method string, hdr map[string]string) *httptest.ResponseRecorder {
				r := httptest.NewRequest(method, "/protected", nil)
				r.AddCookie(access)
				r.AddCookie(csrf)
				for k, v := range hdr {
					r.Header.Set(k, v)
				}
				rec := httptest.NewRecorder()
				e.handler().ServeHTTP(rec, r)
				return rec
			}
			cases := []struct {
				name   string
				method string
				hdr    map[string]string
				status int
			}{
				{"GET without CSRF header", "GET", nil, 200},
				{"POST without CSRF header", "POST", nil, 403},
				{"POST with wrong CSRF header", "POST", map[string]string{"X-CSRF-Token": "nope"}, 403},
				{"POST with the CSRF of another token", "POST", map[string]string{"X-CSRF-Token": latchhttp.CSRFToken(tk.RefreshToken)}, 403},
				{"POST with CSRF header", "POST", map[string]string{"X-CSRF-Token": csrf.Value}, 200},
				{"DELETE with CSRF header", "DELETE", map[string]string{"X-CSRF-Token": csrf.Value}, 200},
				// The header location comes first and needs no CSRF token.
				{"POST with bearer header", "POST", map[string]string{"Authorization": "Bearer " + tk.AccessToken}, 200},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					rec := send(c.method, c.hdr)
					if rec.Code != c.status {
						t.Errorf("status = %d, want %d (%s)", rec.Code, c.status, rec.Body)
					}
					if c.status == 403 {
						if h := rec.Header().Get("WWW-Authenticate"); h != "" {
							t.Errorf("CSRF refusal sent WWW-Authenticate %q", h)
						}
						if !strings.Contains(rec.Body.String(), "CSRF token missing or incorrect") {
							t.Errorf("body = %s", rec.Body)
						}
					}
				})
			}

			// Refresh through cookies: the CSRF check applies, new cookies come back.
			r := httptest.NewRequest("POST", "/refresh", nil)
			r.AddCookie(cookies["__Host-latch_refresh"])
			rec := httptest.NewRecorder()
			e.handler().ServeHTTP(rec, r)
			if rec.Code != 403 {
				t.Errorf("cookie refresh without CSRF: %d, want 403", rec.Code)
			}
			r = httptest.NewRequest("POST", "/refresh", nil)
			r.AddCookie(cookies["__Host-latch_refresh"])
			r.Header.Set("X-CSRF-Token", cookies["__Host-latch_csrf_refresh"].Value)
			rec = httptest.NewRecorder()
			e.handler().ServeHTTP(rec, r)
			if rec.Code != 200 || len(rec.Result().Cookies()) != 4 {
				t.Errorf("cookie refresh: %d, %d cookies set (%s)", rec.Code, len(rec.Result().Cookies()), rec.Body)
			}
			// Tokens kept in HttpOnly cookies never appear in a body a
			// script could read.
			if b := rec.Body.String(); strings.Contains(b, "token\":\"") || !strings.Contains(b, `"expires_in"`) {
				t.Errorf("cookie refresh body = %s, want only token_type and expires_in", b)
			}
			// A refresh cookie needs the CSRF header even on GET, and the
			// endpoint takes POST only.
			r = httptest.NewRequest("GET", "/refresh-only", nil)
			r.AddCookie(cookies["__Host-latch_refresh"])
			rec = httptest.NewRecorder()
			e.handler().ServeHTTP(rec, r)
			if rec.Code != 403 {
				t.Errorf("refresh cookie on GET without CSRF: %d, want 403", rec.Code)
			}
			rec = httptest.NewRecorder()
			e.web.RefreshHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/refresh", nil))
			if rec.Code != 405 || rec.Header().Get("Allow") != "POST" {
				t.Errorf("GET /refresh: %d Allow=%q, want 405 POST", rec.Code, rec.Header().Get("Allow"))
			}

			w = httptest.NewRecorder()
			e.web.ClearCookies(w)
			for _, c := range w.Result().Cookies() {
				if c.MaxAge >= 0 || c.Value != "" {
					t.Errorf("ClearCookies left %s=%q max-age %d", c.Name, c.Value, c.MaxAge)
				}
			}
		})
	}
}

func TestGarbageCookies(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, locations(latchhttp.InCookie))
	for _, v := range []string{"", "x", strings.Repeat("a", 9000), "lta_" + strings.Repeat("0", 71), "%00%ff", "a.b.c"} {
		r := httptest.NewRequest("GET", "/protected", nil)
		r.Header.Set("Cookie", "latch_access="+v)
		rec := httptest.NewRecorder()
		e.handler().ServeHTTP(rec, r)
		if rec.Code != 401 {
			t.Errorf("cookie %.20q: status %d, want 401", v, rec.Code)
		}
	}
}

func TestCookieNamesAndPaths(t *testing.T) {
	cases := []struct {
		name string
		edit func(*latchhttp.CookieConfig)
		want map[string]string // cookie name -> path
	}{
		{"default: __Host- everywhere", nil, map[string]string{
			"__Host-latch_access": "/", "__Host-latch_csrf_access": "/", "__Host-latch_refresh": "/", "__Host-latch_csrf_refresh": "/"}},
		{"refresh on its own path", func(c *latchhttp.CookieConfig) { c.RefreshPath = "/auth" }, map[string]string{
			"__Host-latch_access": "/", "__Host-latch_csrf_access": "/", "latch_refresh": "/auth", "__Host-latch_csrf_refresh": "/"}},
		{"plain-HTTP development", func(c *latchhttp.CookieConfig) { c.Insecure = true }, map[string]string{
			"latch_access": "/", "latch_csrf_access": "/", "latch_refresh": "/", "latch_csrf_refresh": "/"}},
		{"shared domain", func(c *latchhttp.CookieConfig) { c.Domain = "example.com" }, map[string]string{
			"latch_access": "/", "latch_csrf_access": "/", "latch_refresh": "/", "latch_csrf_refresh": "/"}},
		{"opted out", func(c *latchhttp.CookieConfig) { c.NoHostPrefix = true }, map[string]string{
			"latch_access": "/", "latch_csrf_access": "/", "latch_refresh": "/", "latch_csrf_refresh": "/"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, latch.ModeOpaque, func(_ *latch.Config, h *latchhttp.Config) {
				h.Locations = []latchhttp.Location{latchhttp.InCookie}
				if c.edit != nil {
					c.edit(&h.Cookie)
				}
			})
			tk := e.Login(t, users["1"], "b")
			w := httptest.NewRecorder()
			e.web.SetCookies(w, tk)
			got := map[string]string{}
			for _, ck := range w.Result().Cookies() {
				got[ck.Name] = ck.Path
				if ck.Secure == e.web.Config().Cookie.Insecure {
					t.Errorf("%s: Secure=%v with insecure=%v", ck.Name, ck.Secure, e.web.Config().Cookie.Insecure)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("cookies = %v, want %v", got, c.want)
			}
			for name, path := range c.want {
				if got[name] != path {
					t.Errorf("cookie %s at %q, want %q (all: %v)", name, got[name], path, got)
				}
			}
			// The middleware reads the cookie under the same name.
			r := httptest.NewRequest("GET", "/protected", nil)
			for _, ck := range w.Result().Cookies() {
				r.AddCookie(ck)
			}
			rec := httptest.NewRecorder()
			e.handler().ServeHTTP(rec, r)
			if rec.Code != 200 {
				t.Errorf("request with the cookies set: %d %s", rec.Code, rec.Body)
			}
		})
	}
}
