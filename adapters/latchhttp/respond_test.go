package latchhttp_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/authtest"
)

// TestDefaultAnswers pins the table in docs/errors.md: status,
// WWW-Authenticate and body of every error kind with the default config.
func TestDefaultAnswers(t *testing.T) {
	const tok = `Bearer realm="latch", error="invalid_token", error_description=`
	const req = `Bearer realm="latch", error="invalid_request", error_description=`
	const scope = `Bearer realm="latch", error="insufficient_scope", error_description=`
	cases := []struct {
		err    error
		status int
		authn  string
		msg    string
	}{
		{latch.ErrNoToken, 401, `Bearer realm="latch"`, "Missing authorization token"},
		{latch.ErrInvalidToken, 401, tok + `"Invalid token"`, "Invalid token"},
		{latch.ErrMalformedToken, 401, tok + `"Malformed token"`, "Malformed token"},
		{latch.ErrTokenExpired, 401, tok + `"Token has expired"`, "Token has expired"},
		{latch.ErrTokenRevoked, 401, tok + `"Session has ended"`, "Session has ended"},
		{latch.ErrWrongTokenType, 401, tok + `"Wrong token type"`, "Wrong token type"},
		{latch.ErrFreshRequired, 401, tok + `"Fresh token required"`, "Fresh token required"},
		{latch.ErrRefreshReused, 401, tok + `"Session has ended"`, "Session has ended"},
		{latch.ErrRefreshRace, 401, tok + `"Refresh token already used"`, "Refresh token already used"},
		{latch.ErrUserNotFound, 401, tok + `"Error loading the user"`, "Error loading the user"},
		{latch.ErrBadRequest, 400, req + `"Invalid request"`, "Invalid request"},
		{latch.ErrConflictingTokens, 400, req + `"Different tokens in more than one location"`, "Different tokens in more than one location"},
		{latch.ErrBodyTooLarge, 413, "", "Request body too large"},
		{latch.ErrInvalidClient, 401, `Basic realm="latch", charset="UTF-8"`, "Invalid client credentials"},
		{latch.ErrForbidden, 403, scope + `"Forbidden"`, "Forbidden"},
		{latch.Forbidden("Admins only!"), 403, scope + `"Admins only!"`, "Admins only!"},
		{latch.Forbidden(`quote " and ünïcode`), 403, scope + `"quote ? and ?n?code"`, `quote " and ünïcode`},
		{latch.ErrCSRF, 403, "", "CSRF token missing or incorrect"},
		{latch.ErrUnavailable, 503, "", "Service temporarily unavailable"},
		{latch.ErrThrottled, 429, "", "Too many failed login attempts, try again later"},
		{latch.ErrSessionNotFound, 404, "", "Session not found"},
		{latch.ErrInvalidSubject, 400, "", "Invalid subject"},
		{latch.ErrInvalidClaims, 500, "", "Internal error"},
	}
	core, err := latch.New(bg, latch.Config{SessionKey: sessionKey})
	if err != nil {
		t.Fatal(err)
	}
	a, err := latchhttp.New(core, latchhttp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.err.Error(), func(t *testing.T) {
			w := httptest.NewRecorder()
			a.WriteError(w, httptest.NewRequest("GET", "/", nil), c.err)
			if w.Code != c.status || latchhttp.StatusCode(c.err) != c.status {
				t.Errorf("status = %d (StatusCode %d), want %d", w.Code, latchhttp.StatusCode(c.err), c.status)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != c.authn {
				t.Errorf("WWW-Authenticate = %q, want %q", got, c.authn)
			}
			if got := bodyMap(t, w)["msg"]; got != c.msg {
				t.Errorf("msg = %q, want %q", got, c.msg)
			}
			if (c.status == 503) != (w.Header().Get("Retry-After") == "5") && c.status != 429 {
				t.Errorf("Retry-After = %q", w.Header().Get("Retry-After"))
			}
			if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("headers = %v", w.Header())
			}
		})
	}
	// An error latch did not make is a 500 with a generic message.
	w := httptest.NewRecorder()
	a.WriteError(w, httptest.NewRequest("GET", "/", nil), authtest.ErrDown)
	if w.Code != 500 || strings.Contains(w.Body.String(), "backend") {
		t.Errorf("foreign error: %d %s", w.Code, w.Body)
	}
}

// TestStatusCodeEveryKind: every error kind package latch declares (each
// Err variable of its errors.go, found by parsing it) has its own HTTP
// answer here, so that a new kind cannot ship without one: a kind missing
// from this table fails the test, as does a kind answered 500, which is
// for errors latch did not make (ErrInvalidClaims is the one exception:
// claims a program cannot encode are its own bug). docs/errors.md must
// show the same statuses.
func TestStatusCodeEveryKind(t *testing.T) {
	want := map[string]struct {
		err    error
		status int
	}{
		"ErrNoToken":           {latch.ErrNoToken, 401},
		"ErrInvalidToken":      {latch.ErrInvalidToken, 401},
		"ErrMalformedToken":    {latch.ErrMalformedToken, 401},
		"ErrTokenExpired":      {latch.ErrTokenExpired, 401},
		"ErrTokenRevoked":      {latch.ErrTokenRevoked, 401},
		"ErrWrongTokenType":    {latch.ErrWrongTokenType, 401},
		"ErrFreshRequired":     {latch.ErrFreshRequired, 401},
		"ErrRefreshReused":     {latch.ErrRefreshReused, 401},
		"ErrRefreshRace":       {latch.ErrRefreshRace, 401},
		"ErrUserNotFound":      {latch.ErrUserNotFound, 401},
		"ErrBadRequest":        {latch.ErrBadRequest, 400},
		"ErrConflictingTokens": {latch.ErrConflictingTokens, 400},
		"ErrBodyTooLarge":      {latch.ErrBodyTooLarge, 413},
		"ErrInvalidClient":     {latch.ErrInvalidClient, 401},
		"ErrForbidden":         {latch.ErrForbidden, 403},
		"ErrDelegated":         {latch.ErrDelegated, 403},
		"ErrCSRF":              {latch.ErrCSRF, 403},
		"ErrUnavailable":       {latch.ErrUnavailable, 503},
		"ErrThrottled":         {latch.ErrThrottled, 429},
		"ErrSessionNotFound":   {latch.ErrSessionNotFound, 404},
		"ErrInvalidSubject":    {latch.ErrInvalidSubject, 400},
		"ErrInvalidLifetime":   {latch.ErrInvalidLifetime, 400},
		"ErrInvalidClaims":     {latch.ErrInvalidClaims, 500},
	}
	declared := latchErrVars(t)
	if len(declared) < len(want)/2 {
		t.Fatalf("found %d Err variables in package latch: the parse is wrong", len(declared))
	}
	for _, name := range declared {
		w, ok := want[name]
		if !ok {
			t.Errorf("latch.%s has no HTTP answer in this table (and in docs/errors.md): add one", name)
			continue
		}
		if latch.Kind(w.err) != w.err {
			t.Errorf("latch.%s is not a kind of its own", name)
		}
		got := latchhttp.StatusCode(w.err)
		if got != w.status || got == 500 && name != "ErrInvalidClaims" {
			t.Errorf("StatusCode(latch.%s) = %d, want %d", name, got, w.status)
		}
		// A wrapped kind is answered as the kind.
		if got := latchhttp.StatusCode(fmt.Errorf("app: %w", w.err)); got != w.status {
			t.Errorf("StatusCode(wrapped latch.%s) = %d, want %d", name, got, w.status)
		}
	}
	for name := range want {
		if !slices.Contains(declared, name) {
			t.Errorf("the table lists latch.%s, which errors.go no longer declares", name)
		}
	}
	// docs/errors.md shows the same table.
	doc, err := os.ReadFile("../../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		row := fmt.Sprintf("| `%s` | %d |", name, w.status)
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/errors.md has no row %q", row)
		}
	}
	if got := latchhttp.StatusCode(errors.New("app: boom")); got != 500 {
		t.Errorf("StatusCode of an error latch did not make = %d, want 500", got)
	}
}

// latchErrVars returns the names of the exported Err variables that
// package latch's source (the module's root directory) declares.
func latchErrVars(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../*.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := gotoken.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name != "latch" {
			t.Fatalf("%s is package %s, not latch", path, f.Name.Name)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != gotoken.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					if strings.HasPrefix(n.Name, "Err") && n.IsExported() {
						names = append(names, n.Name)
					}
				}
			}
		}
	}
	return names
}

// TestWithResponder: WithResponder takes one of latch's Err values and a
// responder, nothing else; the responder of the most specific kind an
// error matches answers it, after latchhttp set WWW-Authenticate; a kind
// without one keeps the default answer.
func TestWithResponder(t *testing.T) {
	core, err := latch.New(bg, latch.Config{SessionKey: sessionKey})
	if err != nil {
		t.Fatal(err)
	}
	answer := func(body string) latchhttp.Responder {
		return func(w http.ResponseWriter, r *http.Request, err error) {
			latchhttp.WriteJSON(w, 499, map[string]string{"by": body, "www": w.Header().Get("WWW-Authenticate")})
		}
	}
	for name, kind := range map[string]error{
		"nil":             nil,
		"a plain error":   errors.New("app: expired"),
		"a wrapped kind":  fmt.Errorf("app: %w", latch.ErrTokenExpired),
		"a Forbidden":     latch.Forbidden("Admins only!"),
		"a joined kind":   errors.Join(latch.ErrTokenExpired, latch.ErrTokenRevoked),
		"a kind, no func": latch.ErrTokenExpired,
	} {
		fn := answer(name)
		if name == "a kind, no func" {
			fn = nil
		}
		if _, err := latchhttp.New(core, latchhttp.Config{}, latchhttp.WithResponder(kind, fn)); err == nil {
			t.Errorf("WithResponder(%s) accepted", name)
		}
	}

	web, err := latchhttp.New(core, latchhttp.Config{},
		latchhttp.WithResponder(latch.ErrInvalidToken, answer("invalid")),
		latchhttp.WithResponder(latch.ErrTokenExpired, answer("expired")),
		latchhttp.WithResponder(latch.ErrUnavailable, answer("unavailable")),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		err  error
		by   string // "": latch's own answer
		www  string
		code int
	}{
		{latch.ErrTokenExpired, "expired", `Bearer realm="latch", error="invalid_token", error_description="Token has expired"`, 499},
		{fmt.Errorf("%w: exp passed", latch.ErrTokenExpired), "expired", `Bearer realm="latch", error="invalid_token", error_description="Token has expired"`, 499},
		{latch.ErrTokenRevoked, "invalid", `Bearer realm="latch", error="invalid_token", error_description="Session has ended"`, 499},
		{latch.ErrInvalidToken, "invalid", `Bearer realm="latch", error="invalid_token", error_description="Invalid token"`, 499},
		{errors.Join(latch.ErrUnavailable, errors.New("db: down")), "unavailable", "", 499},
		{latch.ErrNoToken, "", `Bearer realm="latch"`, 401},
		{latch.Forbidden("no"), "", `Bearer realm="latch", error="insufficient_scope", error_description="no"`, 403},
		{errors.New("app: boom"), "", "", 500},
	} {
		w := httptest.NewRecorder()
		web.WriteError(w, httptest.NewRequest("GET", "/", nil), c.err)
		m := bodyMap(t, w)
		if w.Code != c.code || w.Header().Get("WWW-Authenticate") != c.www {
			t.Errorf("%v: %d %q, want %d %q", c.err, w.Code, w.Header().Get("WWW-Authenticate"), c.code, c.www)
		}
		if c.by != "" && (m["by"] != c.by || m["www"] != c.www) {
			t.Errorf("%v: answered %v, want the %s responder, after WWW-Authenticate was set", c.err, m, c.by)
		}
		if c.by == "" && m["msg"] != latch.PublicMessage(c.err) {
			t.Errorf("%v: answered %v, want latch's own answer", c.err, m)
		}
	}
}

// TestWriteTokens: a login answered with WriteTokens is 200 JSON that no
// cache keeps, carrying the tokens; when the cookie location is
// configured, the tokens go into cookies instead, and the body carries
// only their lifetime and type, as a cookie-borne refresh does.
func TestWriteTokens(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			tk := e.Login(t, users["1"], "laptop")
			w := httptest.NewRecorder()
			e.web.WriteTokens(w, tk)
			if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("JSON: %d %v", w.Code, w.Header())
			}
			want := map[string]any{"access_token": tk.AccessToken, "refresh_token": tk.RefreshToken, "token_type": "Bearer", "expires_in": float64(900)}
			if m := bodyMap(t, w); !maps.Equal(m, want) {
				t.Errorf("JSON body %v, want %v", m, want)
			}
			if len(w.Result().Cookies()) != 0 {
				t.Errorf("JSON answer set cookies: %v", w.Header()["Set-Cookie"])
			}

			c := newEnv(t, mode, locations(latchhttp.InHeader, latchhttp.InCookie))
			tk = c.Login(t, users["1"], "browser")
			w = httptest.NewRecorder()
			c.web.WriteTokens(w, tk)
			if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("cookies: %d %v", w.Code, w.Header())
			}
			if m := bodyMap(t, w); !maps.Equal(m, map[string]any{"expires_in": float64(900), "token_type": "Bearer"}) {
				t.Errorf("cookie answer's body %v, want only expires_in and token_type", m)
			}
			set := map[string]*http.Cookie{}
			for _, ck := range w.Result().Cookies() {
				set[ck.Name] = ck
			}
			if len(set) != 4 || set["__Host-latch_access"].Value != tk.AccessToken || set["__Host-latch_refresh"].Value != tk.RefreshToken ||
				set["__Host-latch_csrf_access"].Value != latchhttp.CSRFToken(tk.AccessToken) || !set["__Host-latch_access"].HttpOnly {
				t.Fatalf("cookies set: %v", w.Header()["Set-Cookie"])
			}
			if got := set["__Host-latch_access"].MaxAge; got != 900 {
				t.Errorf("access cookie Max-Age %d, want 900", got)
			}
			// The cookie works, with its CSRF value on an unsafe method.
			r := httptest.NewRequest("POST", "/protected", nil)
			r.AddCookie(set["__Host-latch_access"])
			r.Header.Set("X-CSRF-Token", set["__Host-latch_csrf_access"].Value)
			rec := httptest.NewRecorder()
			c.handler().ServeHTTP(rec, r)
			if rec.Code != 200 {
				t.Errorf("a request with the cookie WriteTokens set: %d %s", rec.Code, rec.Body)
			}
		})
	}
}

func TestExpiredTokenResponder(t *testing.T) {
	dave := latchhttp.WithResponder(latch.ErrTokenExpired, func(w http.ResponseWriter, r *http.Request, err error) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"code":"dave","err":"I can't let you do that"}`))
	})
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			var err error
			if e.web, err = latchhttp.New(e.Auth, e.web.Config(), dave); err != nil {
				t.Fatal(err)
			}
			tk := e.Login(t, users["1"], "laptop")
			e.Clock.Add(15*time.Minute + time.Second)
			got := call(t, e, "GET", "/protected", bearer(tk.AccessToken), "")
			check(t, got, want{401, invalidTok + `Token has expired"`, ""})
			if got.json["code"] != "dave" || got.json["err"] != "I can't let you do that" {
				t.Errorf("body = %s, want the custom responder's", got.body)
			}
			// The refresh token still works and gives a valid, non-fresh
			// access token.
			next, err := e.Auth.Refresh(context.Background(), tk.RefreshToken)
			if err != nil {
				t.Fatalf("Refresh after access expiry: %v", err)
			}
			ok := call(t, e, "GET", "/protected", bearer(next.AccessToken), "")
			if ok.status != 200 || ok.json["fresh"] != false {
				t.Errorf("after refresh: %d %s, want 200 and fresh=false", ok.status, ok.body)
			}
			fresh := call(t, e, "GET", "/fresh", bearer(next.AccessToken), "")
			check(t, fresh, want{401, invalidTok + `Fresh token required"`, "Fresh token required"})
		})
	}
}

func TestDefaultExpiredBody(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	tk := e.Login(t, users["1"], "laptop")
	e.Clock.Add(16 * time.Minute)
	got := call(t, e, "GET", "/protected", bearer(tk.AccessToken), "")
	check(t, got, want{401, invalidTok + `Token has expired"`, "Token has expired"})
}
