package latchecho5_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchecho5"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/adaptertest"
)

// TestErrorFlow checks what echo's error handler, and middleware in front
// of the guard, get from a refusal: an *latchecho5.Error carrying the
// latch error and the status written, which echo.StatusCode and
// echo.ResolveResponseStatus (what echo's RequestLogger reads) report,
// with the response already committed.
func TestErrorFlow(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	e := echo.New()
	var got, inFront error
	var frontStatus int
	var committed, reached bool
	e.HTTPErrorHandler = func(c *echo.Context, err error) {
		got = err
		res, uerr := echo.UnwrapResponse(c.Response())
		committed = uerr == nil && res.Committed
		echo.DefaultHTTPErrorHandler(false)(c, err)
	}
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			inFront = next(c)
			_, frontStatus = echo.ResolveResponseStatus(c.Response(), inFront)
			return inFront
		}
	})
	e.GET("/", func(*echo.Context) error { reached = true; return nil }, latchecho5.Middleware(f.Web, latchhttp.Required()))
	rec := serve(e, "Authorization", "Bearer abc.def")
	if rec.Code != http.StatusUnauthorized || rec.Body.String() != `{"msg":"Malformed token"}`+"\n" {
		t.Errorf("answer = %d %s, want latch's 401", rec.Code, rec.Body)
	}
	if reached {
		t.Error("the handler behind the guard ran")
	}
	var le *latchecho5.Error
	if !errors.As(got, &le) || le.Status != http.StatusUnauthorized || !errors.Is(got, latch.ErrMalformedToken) {
		t.Errorf("error handler got %#v, want a *latchecho5.Error for a 401 matching ErrMalformedToken", got)
	}
	if s := echo.StatusCode(got); s != http.StatusUnauthorized {
		t.Errorf("echo.StatusCode = %d, want 401", s)
	}
	if inFront != got || frontStatus != http.StatusUnauthorized {
		t.Errorf("middleware in front got %v and status %d, want the same error and 401", inFront, frontStatus)
	}
	if !committed {
		t.Error("the response was not committed when the error handler ran")
	}
}

// TestAutoHandleHEAD checks a guarded GET route answering HEAD through
// echo v5's AutoHandleHEAD, whose writer holds the status back until the
// route returns (echo's Response still says 200 when the error handler
// runs): latch's status and headers go out without a body, and the *Error
// carries the status latch wrote, for a refusal and for a silent
// responder alike.
func TestAutoHandleHEAD(t *testing.T) {
	auth, err := newWeb(latchhttp.WithResponder(latch.ErrInvalidToken, func(http.ResponseWriter, *http.Request, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer auth.Core().Close()
	for _, c := range []struct {
		name, token string
		status      int
		authn       string
	}{
		{"no token", "", http.StatusUnauthorized, `Bearer realm="latch"`},
		{"silent responder", "abc.def", http.StatusOK, `Bearer realm="latch", error="invalid_token", error_description="Malformed token"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := echo.NewWithConfig(echo.Config{Router: echo.NewRouter(echo.RouterConfig{AutoHandleHEAD: true})})
			var got error
			e.HTTPErrorHandler = func(ctx *echo.Context, err error) {
				got = err
				echo.DefaultHTTPErrorHandler(false)(ctx, err)
			}
			e.GET("/", func(*echo.Context) error { return nil }, latchecho5.Middleware(auth, latchhttp.Required()))
			r := httptest.NewRequest("HEAD", "/", nil)
			if c.token != "" {
				r.Header.Set("Authorization", "Bearer "+c.token)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, r)
			if rec.Code != c.status || rec.Body.Len() != 0 || rec.Header().Get("WWW-Authenticate") != c.authn {
				t.Errorf("answer = %d %q (WWW-Authenticate %q), want %d, no body, %q",
					rec.Code, rec.Body, rec.Header().Get("WWW-Authenticate"), c.status, c.authn)
			}
			var le *latchecho5.Error
			if !errors.As(got, &le) || le.Status != c.status {
				t.Errorf("error handler got %#v, want a *latchecho5.Error for a %d", got, c.status)
			}
		})
	}
}

// TestGroupUnknownPath pins what echo v5 answers for a path nobody routed
// under a guarded group, mounted either way. By default echo routes such a
// path through the group's middleware (Group.Use adds catch-all 404
// routes), so the guard answers first: latch's 401 without a token, and
// echo's 404 only with a valid one; net/http and gin answer 404 either
// way, and docs/adapters.md says why echo's answer is kept. With
// echo.Config{NoGroupAutoRegister404Routes: true} the group adds no such
// routes: the path is echo's 404 with or without a token, as on net/http,
// and the group's own routes stay guarded.
func TestGroupUnknownPath(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	refused := `{"msg":"Missing authorization token"}`
	notFound := `{"message":"Not Found"}`
	type request struct {
		path, token string
		status      int
		body        string
	}
	byDefault := []request{
		{"/admin/nope", "", 401, refused},
		{"/admin", "", 401, refused},
		{"/admin/nope", f.Test.AccessToken, 404, notFound},
		{"/admin/dashboard", "", 401, refused},
		{"/admin/dashboard", f.Test.AccessToken, 204, ""},
		{"/elsewhere", "", 404, notFound},
	}
	without404Routes := []request{
		{"/admin/nope", "", 404, notFound},
		{"/admin", "", 404, notFound},
		{"/admin/nope", f.Test.AccessToken, 404, notFound},
		{"/admin/dashboard", "", 401, refused},
		{"/admin/dashboard", f.Test.AccessToken, 204, ""},
		{"/elsewhere", "", 404, notFound},
	}
	dashboard := func(c *echo.Context) error { return c.NoContent(http.StatusNoContent) }
	mounts := map[string]func(e *echo.Echo){
		"Group(prefix, guard)": func(e *echo.Echo) {
			e.Group("/admin", latchecho5.Middleware(f.Web, latchhttp.Required())).GET("/dashboard", dashboard)
		},
		"Group.Use": func(e *echo.Echo) {
			g := e.Group("/admin")
			g.Use(latchecho5.Middleware(f.Web, latchhttp.Required()))
			g.GET("/dashboard", dashboard)
		},
	}
	for _, cfg := range []struct {
		name     string
		config   echo.Config
		requests []request
	}{
		{"default error handler", echo.Config{}, byDefault},
		{"latchecho5.ErrorHandler", echo.Config{HTTPErrorHandler: latchecho5.ErrorHandler(f.Web, echo.DefaultHTTPErrorHandler(false))}, byDefault},
		{"NoGroupAutoRegister404Routes", echo.Config{NoGroupAutoRegister404Routes: true}, without404Routes},
	} {
		for mount, add := range mounts {
			t.Run(cfg.name+"/"+mount, func(t *testing.T) {
				e := echo.NewWithConfig(cfg.config)
				add(e)
				for _, c := range cfg.requests {
					r := httptest.NewRequest("GET", c.path, nil)
					if c.token != "" {
						r.Header.Set("Authorization", "Bearer "+c.token)
					}
					rec := httptest.NewRecorder()
					e.ServeHTTP(rec, r)
					if rec.Code != c.status || strings.TrimSpace(rec.Body.String()) != c.body {
						t.Errorf("GET %s (token %t): %d %s, want %d %s", c.path, c.token != "", rec.Code, rec.Body, c.status, c.body)
					}
				}
			})
		}
	}
}

// TestBadGuard checks that a guard that cannot work fails at setup.
func TestBadGuard(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	defer func() {
		if recover() == nil {
			t.Error("Guard accepted an unknown location")
		}
	}()
	latchecho5.Middleware(f.Web, latchhttp.Guard{Locations: []latchhttp.Location{"body"}})
}
