package latchhttp

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/latchauth/latch"
)

// cookieName returns the name of typ's token cookie, or of its CSRF cookie.
func (a *Auth) cookieName(typ latch.TokenType, csrf bool) string {
	c := a.cfg.Cookie
	name := c.AccessName
	switch {
	case typ == latch.Refresh && csrf:
		name = c.CSRFRefreshName
	case typ == latch.Refresh:
		name = c.RefreshName
	case csrf:
		name = c.CSRFAccessName
	}
	path := c.Path
	if typ == latch.Refresh && !csrf {
		path = c.RefreshPath
	}
	if csrf {
		path = "/"
	}
	if a.hostPrefix(path) {
		return "__Host-" + name
	}
	return name
}

// hostPrefix reports whether a cookie at path gets the __Host- prefix:
// by default whenever browsers allow it (Secure, no Domain, Path=/), so no
// sibling subdomain can plant or shadow latch's cookies.
func (a *Auth) hostPrefix(path string) bool {
	c := a.cfg.Cookie
	return !c.NoHostPrefix && !c.Insecure && c.Domain == "" && path == "/"
}

// CSRFToken returns the double-submit value that goes with a token: it is
// derived from the token, so it needs no storage, works in every mode, and
// a cookie planted by another site cannot match it.
func CSRFToken(tok string) string {
	h := sha256.Sum256([]byte("latch-csrf\x00" + tok))
	return base64.RawURLEncoding.EncodeToString(h[:24])
}

// checkCSRF enforces the double-submit check on a cookie-borne token: the
// CSRF header must equal CSRFToken(tok), compared in constant time. Access
// tokens are checked on unsafe methods; refresh tokens on every method,
// since using one changes state.
func (a *Auth) checkCSRF(r *http.Request, tok string, typ latch.TokenType) error {
	if a.cfg.Cookie.DisableCSRF {
		return nil
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		if typ != latch.Refresh {
			return nil
		}
	}
	got := r.Header.Get(a.cfg.Cookie.CSRFHeader)
	want := CSRFToken(tok)
	if secretCompare([]byte(got), []byte(want)) != 1 {
		return latch.ErrCSRF
	}
	return nil
}

// SetCookies writes t's tokens as cookies: HttpOnly token cookies and
// script-readable CSRF cookies whose value a browser client echoes in the
// CSRF header. Secure and SameSite=Lax by default; see CookieConfig. The
// refresh cookie expires with the session (its absolute end), the access
// cookie with the access token; the cookies of an ephemeral login
// (t.Ephemeral: it set LoginOptions.IdleTimeout, "remember me" unchecked)
// are browser-session cookies, with no expiry, which the browser drops
// when it closes. The session still ends at its deadlines either way.
// An empty t.AccessToken (a step-up in opaque mode) leaves the access
// cookie as it is.
func (a *Auth) SetCookies(w http.ResponseWriter, t *latch.Tokens) {
	c := a.cfg.Cookie
	access, refresh := t.AccessExpiresAt, t.RefreshExpiresAt
	if t.Ephemeral {
		access, refresh = time.Time{}, time.Time{}
	}
	if t.AccessToken != "" {
		a.setPair(w, latch.Access, t.AccessToken, c.Path, access)
	}
	if t.RefreshToken != "" {
		a.setPair(w, latch.Refresh, t.RefreshToken, c.RefreshPath, refresh)
	}
}

// ClearCookies expires every cookie SetCookies writes.
func (a *Auth) ClearCookies(w http.ResponseWriter) {
	c := a.cfg.Cookie
	a.setPair(w, latch.Access, "", c.Path, time.Time{})
	a.setPair(w, latch.Refresh, "", c.RefreshPath, time.Time{})
}

func (a *Auth) setPair(w http.ResponseWriter, typ latch.TokenType, tok, path string, exp time.Time) {
	csrf := ""
	if tok != "" {
		csrf = CSRFToken(tok)
	}
	http.SetCookie(w, a.cookie(a.cookieName(typ, false), tok, path, exp, true))
	// CSRF cookies live at "/" so page scripts can read them wherever the
	// token cookie's path points.
	http.SetCookie(w, a.cookie(a.cookieName(typ, true), csrf, "/", exp, false))
}

func (a *Auth) cookie(name, value, path string, exp time.Time, httpOnly bool) *http.Cookie {
	c := a.cfg.Cookie
	ck := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		Domain:   c.Domain,
		Secure:   !c.Insecure,
		HttpOnly: httpOnly,
	}
	switch strings.ToLower(c.SameSite) {
	case "strict":
		ck.SameSite = http.SameSiteStrictMode
	case "none":
		ck.SameSite = http.SameSiteNoneMode
	default:
		ck.SameSite = http.SameSiteLaxMode
	}
	switch d := exp.Sub(a.core.Now()); {
	case value == "":
		ck.MaxAge = -1
	case exp.IsZero():
		// A browser-session cookie: no Expires, no Max-Age.
	case d > 0:
		ck.Expires = exp.UTC()
		ck.MaxAge = int(d / time.Second)
	}
	return ck
}
