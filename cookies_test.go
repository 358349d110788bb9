package latch_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchauth/latch"
)

func TestCookiesAndCSRF(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) {
				c.HTTP.Locations = []latch.Location{latch.InHeader, latch.InCookie}
				c.HTTP.Cookie.HostPrefix = true
			})
			tk := e.login(t, users["1"], "browser")
			w := httptest.NewRecorder()
			e.auth.SetCookies(w, tk)
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
			if csrf.HttpOnly || csrf.Value != latch.CSRFToken(tk.AccessToken) {
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
				{"POST with the CSRF of another token", "POST", map[string]string{"X-CSRF-Token": latch.CSRFToken(tk.RefreshToken)}, 403},
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

			w = httptest.NewRecorder()
			e.auth.ClearCookies(w)
			for _, c := range w.Result().Cookies() {
				if c.MaxAge >= 0 || c.Value != "" {
					t.Errorf("ClearCookies left %s=%q max-age %d", c.Name, c.Value, c.MaxAge)
				}
			}
		})
	}
}

func TestGarbageCookies(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, func(c *latch.Config) { c.HTTP.Locations = []latch.Location{latch.InCookie} })
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
