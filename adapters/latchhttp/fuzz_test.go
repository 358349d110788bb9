package latchhttp_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/leaktest"
)

// cookieName returns the name SetCookies gives the cookie of typ's token
// (csrf false) or of its CSRF value.
func cookieName(e *env, typ latch.TokenType, csrf bool) string {
	w := httptest.NewRecorder()
	e.web.SetCookies(w, &latch.Tokens{AccessToken: "a", RefreshToken: "r"})
	for _, c := range w.Result().Cookies() {
		want := map[bool]string{false: "a", true: latchhttp.CSRFToken("a")}[csrf]
		if typ == latch.Refresh {
			want = map[bool]string{false: "r", true: latchhttp.CSRFToken("r")}[csrf]
		}
		if c.Value == want {
			return c.Name
		}
	}
	panic("no cookie for " + string(typ))
}

// echoes reports whether s shows any run of 16 or more token characters of
// the inputs: a token, or a good part of one, echoed back. A run that
// fixed also shows (the text latch answers a neutral request with, such
// as a header name or "error_description=") is latch's own text, not an
// echo.
func echoes(s, fixed string, inputs ...string) bool {
	for _, in := range inputs {
		for _, run := range leaktest.Runs(in) {
			if len(run) >= 16 && strings.Contains(s, run) && !strings.Contains(fixed, run) {
				return true
			}
		}
	}
	return false
}

// answerEchoesNothing fails t if the answer w, headers and body, shows
// any run of 16 or more token characters of the inputs that fixed does
// not show too.
func answerEchoesNothing(t *testing.T, w *httptest.ResponseRecorder, fixed string, inputs ...string) {
	t.Helper()
	var hdr strings.Builder
	w.Header().Write(&hdr)
	if echoes(w.Body.String()+hdr.String(), fixed, inputs...) {
		t.Fatalf("the %d answer echoes the request: %s %s", w.Code, hdr.String(), w.Body)
	}
}

// refused fails t unless err is a client error (400, 401, 403 or 413) that
// neither blames the store nor echoes an input.
func refused(t *testing.T, err error, inputs ...string) {
	t.Helper()
	switch code := latchhttp.StatusCode(err); code {
	case 400, 401, 403, 413:
	default:
		t.Fatalf("status %d for %v", code, err)
	}
	if errors.Is(err, latch.ErrUnavailable) {
		t.Fatalf("store failure from input: %v", err)
	}
	if echoes(err.Error(), "", inputs...) {
		t.Fatalf("error message echoes the input: %v", err)
	}
}

// FuzzAuthenticate feeds arbitrary header, cookie, query and body values
// through Gate: token extraction, then latch.Auth.Authenticate. Nothing
// may panic, and
// anything but the one real token must be refused with a 4xx that does
// not echo the input.
func FuzzAuthenticate(f *testing.F) {
	var envs []*env
	var valid []string
	for _, mode := range modes {
		e := newEnv(f, mode, locations(latchhttp.InHeader, latchhttp.InCookie, latchhttp.InQuery, latchhttp.InJSON))
		envs = append(envs, e)
		valid = append(valid, e.Login(f, users["1"], "fuzz").AccessToken)
	}
	cookie := cookieName(envs[0], latch.Access, false)
	for i, v := range valid {
		m := uint8(i)
		f.Add(m, "Bearer "+v, "", "", "")
		f.Add(m, "", v, "", "")
		f.Add(m, "", "", v, "")
		f.Add(m, "", "", "", `{"access_token":"`+v+`"}`)
		f.Add(m, "Bearer "+v, "", v+"x", "")
	}
	f.Add(uint8(0), "Bearer ", "a.b.c", "..", `{"access_token":7}`)
	f.Add(uint8(1), "bearer "+strings.Repeat(".", 200), "lta_", "ltr_", "[[[[")
	f.Add(uint8(2), "Basic xyz", "%zz", "\x00", `{"access_token":null}`)
	f.Fuzz(func(t *testing.T, mode uint8, header, cookieValue, query, body string) {
		e := envs[int(mode)%len(envs)]
		r := &http.Request{
			Method: "POST",
			URL:    &url.URL{Path: "/", RawQuery: "access_token=" + url.QueryEscape(query)},
			Header: http.Header{},
			Body:   io.NopCloser(strings.NewReader(body)),
		}
		if query == "" {
			r.URL.RawQuery = ""
		}
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if cookieValue != "" {
			r.Header.Set("Cookie", cookie+"="+cookieValue)
		}
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		r = r.WithContext(bg)
		_, err := e.web.Authenticator(latchhttp.Required())(r)
		if err == nil {
			return // only the real token (or a conflict-free mix of it) gets here
		}
		refused(t, err, header, cookieValue, query, body)
		for _, v := range valid {
			if strings.Contains(err.Error(), v) {
				t.Fatal("error message echoes the token")
			}
		}
	})
}

// FuzzCookieCSRF feeds the cookie location arbitrary token cookies, extra
// cookies, methods and CSRF headers, for access and refresh tokens. A
// cookie-borne token passes only with the CSRF header derived from it,
// unless it is an access token on a safe method; the real token with the
// right header always passes; everything else is a 4xx that echoes
// nothing.
func FuzzCookieCSRF(f *testing.F) {
	type fixture struct {
		e      *env
		tokens map[latch.TokenType]string
	}
	var fx []fixture
	for _, mode := range modes {
		e := newEnv(f, mode, locations(latchhttp.InCookie))
		tk := e.Login(f, users["1"], "fuzz")
		fx = append(fx, fixture{e, map[latch.TokenType]string{latch.Access: tk.AccessToken, latch.Refresh: tk.RefreshToken}})
	}
	for i, x := range fx {
		m := uint8(i)
		a, r := x.tokens[latch.Access], x.tokens[latch.Refresh]
		f.Add(m, false, "POST", a, "", latchhttp.CSRFToken(a))
		f.Add(m, false, "GET", a, "", "")
		f.Add(m, false, "DELETE", a, "", latchhttp.CSRFToken(r))
		f.Add(m, true, "GET", r, "", latchhttp.CSRFToken(r))
		f.Add(m, true, "GET", r, "", "")
		f.Add(m, true, "POST", r, "; "+cookieName(x.e, latch.Refresh, true)+"="+latchhttp.CSRFToken(r), "")
	}
	f.Add(uint8(0), false, "post", "x", "; __Host-latch_access=y", " ")
	f.Fuzz(func(t *testing.T, mode uint8, refresh bool, method, value, extra, csrf string) {
		x := fx[int(mode)%len(fx)]
		typ := latch.Access
		if refresh {
			typ = latch.Refresh
		}
		if method == "" {
			method = "GET"
		}
		r := &http.Request{Method: method, URL: &url.URL{Path: "/"}, Header: http.Header{}}
		r.Header.Set("Cookie", cookieName(x.e, typ, false)+"="+value+extra)
		if csrf != "" {
			r.Header.Set("X-CSRF-Token", csrf)
		}
		r = r.WithContext(bg)
		_, err := x.e.web.Authenticator(latchhttp.Guard{Type: typ})(r)
		genuine := x.tokens[typ]
		presented := ""
		if c, err := r.Cookie(cookieName(x.e, typ, false)); err == nil {
			presented = c.Value // the first cookie of the name, as latch reads it
		}
		safe := typ == latch.Access && (method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE")
		rightCSRF := r.Header.Get("X-CSRF-Token") == latchhttp.CSRFToken(presented)
		switch {
		case err == nil && !safe && !rightCSRF:
			t.Fatalf("%s %s token from a cookie passed without its CSRF value", method, typ)
		case err == nil:
			return
		case presented == genuine && (safe || rightCSRF):
			t.Fatalf("the real %s token with its CSRF value was refused: %v", typ, err)
		case presented == genuine && !errors.Is(err, latch.ErrCSRF):
			t.Fatalf("the real %s token without its CSRF value: %v, want ErrCSRF", typ, err)
		}
		refused(t, err, value, extra, csrf)
	})
}

// FuzzRefreshEndpoint posts arbitrary bodies, content types, cookies,
// CSRF headers and Authorization headers to RefreshHandler and
// RevocationHandler. Nothing may panic or answer 5xx, and a refusal does
// not echo any token-like part of the request.
//
// Each run logs in anew, and the fuzzed strings name that session's
// tokens by placeholder: $R is its refresh token, $C the refresh token's
// CSRF value, $A its access token. So every run can succeed, whatever
// the runs before it spent. A refresh that succeeds must have been
// handed the run's refresh token; when that came in a cookie, the new
// tokens are set as cookies and the body carries neither (only
// token_type and expires_in), else the body carries both.
func FuzzRefreshEndpoint(f *testing.F) {
	type fixture struct {
		e               *env
		refresh, revoke http.Handler
		cookie          string
		fixed           string // latch's answers to neutral requests
	}
	answer := func(h http.Handler, hdr map[string]string, body string) string {
		w := do(h, "POST", "/", hdr, body)
		var b strings.Builder
		w.Header().Write(&b)
		return b.String() + w.Body.String()
	}
	var fx []fixture
	for _, mode := range modes {
		e := newEnv(f, mode, locations(latchhttp.InHeader, latchhttp.InCookie, latchhttp.InJSON))
		x := fixture{e: e, refresh: e.web.RefreshHandler(), revoke: e.web.RevocationHandler(), cookie: cookieName(e, latch.Refresh, false)}
		x.fixed = answer(x.refresh, nil, "") + // no token
			answer(x.refresh, map[string]string{"Authorization": "Bearer x"}, "") + // a malformed one
			answer(x.refresh, map[string]string{"Cookie": x.cookie + "=x"}, "") + // no CSRF header
			answer(x.refresh, map[string]string{"Content-Type": "application/json"}, strings.Repeat(" ", 1<<20)) + // too large
			answer(x.revoke, nil, "") // no token parameter
		fx = append(fx, x)
	}
	for i := range fx {
		m := uint8(i)
		f.Add(m, false, "application/json", `{"refresh_token":"$R"}`, "", "", "")
		f.Add(m, false, "", "", "$R", "$C", "")
		f.Add(m, false, "", "", "$R", "", "")
		f.Add(m, false, "", "", "", "", "Bearer $R")
		f.Add(m, false, "application/json; charset=utf-8", `{"refresh_token":"$R"}`, "", "", "Bearer $Rx")
		f.Add(m, true, "application/x-www-form-urlencoded", "token=$R&token_type_hint=refresh_token", "", "", "")
		f.Add(m, true, "application/x-www-form-urlencoded", "token=$A", "", "", "")
	}
	f.Add(uint8(0), false, "application/json", `{"refresh_token":7}`, "", "", "")
	f.Add(uint8(1), false, "application/json", `{"refresh_token":"`+strings.Repeat(".", 9000)+`"}`, "", "", "")
	f.Add(uint8(2), true, "application/x-www-form-urlencoded", "token=%zz", "", "", "")
	f.Add(uint8(2), true, "multipart/form-data; boundary=x", "--x\r\n", "", "", "")
	f.Fuzz(func(t *testing.T, mode uint8, revoke bool, contentType, body, cookie, csrf, authz string) {
		x := fx[int(mode)%len(fx)]
		tk := x.e.Login(t, users["1"], "fuzz")
		fill := strings.NewReplacer("$R", tk.RefreshToken, "$C", latchhttp.CSRFToken(tk.RefreshToken), "$A", tk.AccessToken)
		body, cookie, csrf, authz = fill.Replace(body), fill.Replace(cookie), fill.Replace(csrf), fill.Replace(authz)
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if cookie != "" {
			r.Header.Set("Cookie", x.cookie+"="+cookie)
		}
		if csrf != "" {
			r.Header.Set("X-CSRF-Token", csrf)
		}
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		w := httptest.NewRecorder()
		h := x.refresh
		if revoke {
			h = x.revoke
		}
		h.ServeHTTP(w, r)
		switch w.Code {
		case 200:
			if revoke {
				if got := strings.TrimSpace(w.Body.String()); got != "{}" {
					t.Fatalf("revocation answered 200 with %s, want {}", got)
				}
				return
			}
			refreshed(t, x.e, w, tk.RefreshToken, cookie, body+"\x00"+cookie+"\x00"+authz)
			return
		case 400, 401, 403, 413:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		answerEchoesNothing(t, w, x.fixed, body, cookie, csrf, authz)
	})
}

// refreshed checks RefreshHandler's 200 answer w: the request (sent,
// cookie the value of its refresh cookie) carried old, the refresh token
// spent; the new tokens are set as cookies with a body of token_type and
// expires_in only when they came in a cookie, and are in the body
// otherwise; and the new refresh token works.
func refreshed(t *testing.T, e *env, w *httptest.ResponseRecorder, old, cookie, sent string) {
	t.Helper()
	if !strings.Contains(sent, old) {
		t.Fatal("a refresh succeeded without the session's refresh token")
	}
	body := bodyMap(t, w)
	set := map[string]string{}
	for _, c := range w.Result().Cookies() {
		set[c.Name] = c.Value
	}
	var next string
	if len(set) > 0 {
		if cookie == "" {
			t.Fatal("new tokens were set as cookies for a refresh token that came in no cookie")
		}
		if len(body) != 2 || body["token_type"] == nil || body["expires_in"] == nil {
			t.Fatalf("the answer to a cookie-borne refresh carries more than token_type and expires_in: %s", w.Body)
		}
		next = set[cookieName(e, latch.Refresh, false)]
		if set[cookieName(e, latch.Access, false)] == "" || next == "" ||
			set[cookieName(e, latch.Refresh, true)] != latchhttp.CSRFToken(next) {
			t.Fatalf("a cookie-borne refresh set the cookies %v", w.Header()["Set-Cookie"])
		}
	} else {
		access, _ := body["access_token"].(string)
		next, _ = body["refresh_token"].(string)
		if access == "" || next == "" || body["token_type"] == nil || body["expires_in"] == nil {
			t.Fatalf("the answer to a refresh in a header or the body lacks a token: %s", w.Body)
		}
	}
	if next == old {
		t.Fatal("the refresh token was not rotated")
	}
	if _, err := e.Auth.Authenticate(bg, next, latch.Requirement{Type: latch.Refresh}); err != nil {
		t.Fatalf("the new refresh token: %v", err)
	}
}
