package latchecho_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchecho"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/adaptertest"
)

// mounter serves the table's routes on an echo instance (guarded routes
// behind latchecho.Guard, endpoints through echo.WrapHandler); setup
// configures the instance.
func mounter(setup func(e *echo.Echo, a *latchhttp.Auth)) func(a *latchhttp.Auth, routes []adaptertest.Route) http.Handler {
	return func(a *latchhttp.Auth, routes []adaptertest.Route) http.Handler {
		e := echo.New()
		if setup != nil {
			setup(e, a)
		}
		for _, rt := range routes {
			if rt.Use != adaptertest.Guard {
				e.Add(rt.Method, rt.Path, echo.WrapHandler(adaptertest.Endpoint(a, rt.Use, nil)))
				continue
			}
			handle := adaptertest.Handler(a, rt.App)
			answer := func(c echo.Context) error {
				p, pok := latchecho.Principal(c)
				u, uok := latchecho.User[*adaptertest.User](c)
				handle(c.Response(), c.Request(), p, pok, u, uok)
				return nil
			}
			guard := latchecho.Middleware(a, rt.Guard)
			switch rt.Via {
			case adaptertest.InGroup:
				e.Group(rt.Group, guard).Add(rt.Method, strings.TrimPrefix(rt.Path, rt.Group), answer)
			case adaptertest.GroupUse:
				g := e.Group(rt.Group)
				g.Use(guard)
				g.Add(rt.Method, strings.TrimPrefix(rt.Path, rt.Group), answer)
			default:
				e.Add(rt.Method, rt.Path, answer, guard)
			}
		}
		return e
	}
}

// TestTable runs the behavioural table: latchecho must answer every case
// exactly as the net/http middleware does, under echo's default error
// handler, under latchecho.ErrorHandler, and under a custom handler that
// follows echo's committed-response convention.
func TestTable(t *testing.T) {
	t.Run("default error handler", func(t *testing.T) {
		adaptertest.Run(t, adaptertest.Adapter{Name: "echo", Mount: mounter(nil)})
	})
	t.Run("latchecho.ErrorHandler", func(t *testing.T) {
		adaptertest.Run(t, adaptertest.Adapter{Name: "echo+ErrorHandler", Mount: mounter(func(e *echo.Echo, a *latchhttp.Auth) {
			e.HTTPErrorHandler = latchecho.ErrorHandler(a, e.DefaultHTTPErrorHandler)
		})})
	})
	t.Run("debug mode", func(t *testing.T) {
		adaptertest.Run(t, adaptertest.Adapter{Name: "echo debug", Mount: mounter(func(e *echo.Echo, _ *latchhttp.Auth) {
			e.Debug = true
		})})
	})
}

// serve sends a GET / to e.
func serve(e *echo.Echo, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/", nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, r)
	return rec
}

// TestErrorFlow checks what echo's error handler gets from a refusal: an
// *latchecho.Error carrying the latch error and the status written, with
// the response already committed.
func TestErrorFlow(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	e := echo.New()
	var got error
	var committed, reached bool
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		got, committed = err, c.Response().Committed
		e.DefaultHTTPErrorHandler(err, c)
	}
	e.GET("/", func(echo.Context) error { reached = true; return nil }, latchecho.Middleware(f.Web, latchhttp.Required()))
	rec := serve(e, "Authorization", "Bearer abc.def")
	if rec.Code != http.StatusUnauthorized || rec.Body.String() != `{"msg":"Malformed token"}`+"\n" {
		t.Errorf("answer = %d %s, want latch's 401", rec.Code, rec.Body)
	}
	if reached {
		t.Error("the handler behind the guard ran")
	}
	var le *latchecho.Error
	if !errors.As(got, &le) || le.Status != http.StatusUnauthorized || !errors.Is(got, latch.ErrMalformedToken) {
		t.Errorf("error handler got %#v, want a *latchecho.Error for a 401 matching ErrMalformedToken", got)
	}
	if !committed {
		t.Error("the response was not committed when the error handler ran")
	}
}

// TestErrorHandler checks the answers to errors that handlers return:
// latch's whole answer (status, WWW-Authenticate, Retry-After,
// Cache-Control, body) for latch's errors, and next's for the rest, an
// *echo.HTTPError included even when it is wrapped and wraps a latch
// error.
func TestErrorHandler(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	cases := []struct {
		name         string
		err          error
		status       int
		authn        string
		retryAfter   string
		cacheControl string
		body         string
		toNext       bool
	}{
		{"latch kind", latch.ErrSessionNotFound, 404, "", "", "no-store", `{"msg":"Session not found"}`, false},
		{"store failure", errors.Join(latch.ErrUnavailable, adaptertest.ErrBackendDown), 503, "", "5", "no-store",
			`{"msg":"Service temporarily unavailable"}`, false},
		{"expired", fmt.Errorf("app: %w", latch.ErrTokenExpired), 401,
			`Bearer realm="latch", error="invalid_token", error_description="Token has expired"`, "", "no-store",
			`{"code":"dave","err":"I can't let you do that"}`, false},
		{"forbidden", latch.Forbidden("Admins only!"), 403,
			`Bearer realm="latch", error="insufficient_scope", error_description="Admins only!"`, "", "no-store", `{"msg":"Admins only!"}`, false},
		{"echo error", echo.NewHTTPError(http.StatusTeapot, "short and stout"), 418, "", "", "", `{"message":"short and stout"}`, true},
		{"echo error around a latch one", echo.NewHTTPError(http.StatusBadGateway).SetInternal(latch.ErrUnavailable), 502, "", "", "",
			`{"message":"Bad Gateway"}`, true},
		// echo's default handler answers a wrapped *echo.HTTPError 500:
		// not latch's 503.
		{"wrapped echo error around a latch one", fmt.Errorf("app: %w", echo.NewHTTPError(http.StatusBadGateway).SetInternal(latch.ErrUnavailable)),
			500, "", "", "", `{"message":"Internal Server Error"}`, true},
		{"other error", errors.New("app: secret detail"), 500, "", "", "", `{"message":"Internal Server Error"}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := echo.New()
			var toNext []error
			e.HTTPErrorHandler = latchecho.ErrorHandler(f.Web, func(err error, ctx echo.Context) {
				toNext = append(toNext, err)
				e.DefaultHTTPErrorHandler(err, ctx)
			})
			e.GET("/", func(echo.Context) error { return c.err })
			rec := serve(e)
			h := rec.Result().Header
			if rec.Code != c.status || strings.TrimSpace(rec.Body.String()) != c.body {
				t.Errorf("answer = %d %s, want %d %s", rec.Code, rec.Body, c.status, c.body)
			}
			if got := h.Get("WWW-Authenticate"); got != c.authn {
				t.Errorf("WWW-Authenticate = %q, want %q", got, c.authn)
			}
			if got := h.Get("Retry-After"); got != c.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, c.retryAfter)
			}
			if got := h.Get("Cache-Control"); got != c.cacheControl {
				t.Errorf("Cache-Control = %q, want %q", got, c.cacheControl)
			}
			if wantNext := c.toNext; (len(toNext) == 1 && toNext[0] == c.err) != wantNext || (!wantNext && len(toNext) != 0) {
				t.Errorf("next got %v, want it to get the error: %t", toNext, wantNext)
			}
		})
	}
}

// TestWriteError checks that a handler can answer a latch error itself,
// under any error handler, with latch's headers.
func TestWriteError(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	for name, setup := range map[string]func(*echo.Echo){
		"default error handler":  func(*echo.Echo) {},
		"latchecho.ErrorHandler": func(e *echo.Echo) { e.HTTPErrorHandler = latchecho.ErrorHandler(f.Web, e.DefaultHTTPErrorHandler) },
	} {
		t.Run(name, func(t *testing.T) {
			e := echo.New()
			setup(e)
			e.GET("/", func(c echo.Context) error {
				return latchecho.WriteError(c, f.Web, errors.Join(latch.ErrUnavailable, adaptertest.ErrBackendDown))
			})
			rec := serve(e)
			h := rec.Result().Header
			if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != `{"msg":"Service temporarily unavailable"}`+"\n" {
				t.Errorf("answer = %d %s, want latch's 503", rec.Code, rec.Body)
			}
			if h.Get("Retry-After") != "5" || h.Get("Cache-Control") != "no-store" || h.Get("WWW-Authenticate") != "" {
				t.Errorf("headers %v, want Retry-After 5, Cache-Control no-store, no WWW-Authenticate", h)
			}
		})
	}
}

// TestSilentResponder checks a responder that writes nothing: answered
// once, as net/http answers it (200, latch's headers, no body), whether
// echo's default handler or ErrorHandler gets the refusal, or the
// handler returns the latch error to ErrorHandler.
func TestSilentResponder(t *testing.T) {
	var calls int
	auth, err := newWeb(latchhttp.WithResponder(latch.ErrInvalidToken, func(http.ResponseWriter, *http.Request, error) { calls++ }))
	if err != nil {
		t.Fatal(err)
	}
	defer auth.Core().Close()
	cases := []struct {
		name  string
		setup func(*echo.Echo)
		route func(*echo.Echo)
	}{
		{"refused, default error handler", func(*echo.Echo) {},
			func(e *echo.Echo) {
				e.GET("/", func(echo.Context) error { return nil }, latchecho.Middleware(auth, latchhttp.Required()))
			}},
		{"refused, latchecho.ErrorHandler",
			func(e *echo.Echo) { e.HTTPErrorHandler = latchecho.ErrorHandler(auth, e.DefaultHTTPErrorHandler) },
			func(e *echo.Echo) {
				e.GET("/", func(echo.Context) error { return nil }, latchecho.Middleware(auth, latchhttp.Required()))
			}},
		{"returned, latchecho.ErrorHandler",
			func(e *echo.Echo) { e.HTTPErrorHandler = latchecho.ErrorHandler(auth, e.DefaultHTTPErrorHandler) },
			func(e *echo.Echo) { e.GET("/", func(echo.Context) error { return latch.ErrMalformedToken }) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls = 0
			e := echo.New()
			c.setup(e)
			c.route(e)
			rec := serve(e, "Authorization", "Bearer abc.def")
			if rec.Code != http.StatusOK || rec.Body.Len() != 0 || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "invalid_token") {
				t.Errorf("answer = %d %q (WWW-Authenticate %q), want net/http's 200 with latch's headers and no body",
					rec.Code, rec.Body, rec.Header().Get("WWW-Authenticate"))
			}
			if calls != 1 {
				t.Errorf("the responder ran %d times, want once", calls)
			}
		})
	}
}

// TestGroupUnknownPath pins what echo answers for a path nobody routed
// under a guarded group. echo routes such a path through the group's
// middleware (Group.Use adds catch-all 404 routes), so the guard answers
// first: latch's 401 without a token, and echo's 404 only with a valid
// one. net/http and gin answer 404 either way; docs/adapters.md says why
// echo's answer is kept.
func TestGroupUnknownPath(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	for _, handler := range []string{"default", "latchecho.ErrorHandler"} {
		e := echo.New()
		if handler != "default" {
			e.HTTPErrorHandler = latchecho.ErrorHandler(f.Web, e.DefaultHTTPErrorHandler)
		}
		e.Group("/admin", latchecho.Middleware(f.Web, latchhttp.Required())).GET("/dashboard", func(echo.Context) error { return nil })
		for _, c := range []struct {
			path, token string
			status      int
			body        string
		}{
			{"/admin/nope", "", 401, `{"msg":"Missing authorization token"}`},
			{"/admin", "", 401, `{"msg":"Missing authorization token"}`},
			{"/admin/nope", f.Test.AccessToken, 404, `{"message":"Not Found"}`},
			{"/elsewhere", "", 404, `{"message":"Not Found"}`},
		} {
			r := httptest.NewRequest("GET", c.path, nil)
			if c.token != "" {
				r.Header.Set("Authorization", "Bearer "+c.token)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, r)
			if rec.Code != c.status || strings.TrimSpace(rec.Body.String()) != c.body {
				t.Errorf("%s handler, GET %s (token %t): %d %s, want %d %s", handler, c.path, c.token != "", rec.Code, rec.Body, c.status, c.body)
			}
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
	latchecho.Middleware(f.Web, latchhttp.Guard{Locations: []latchhttp.Location{"body"}})
}

// newWeb returns latchhttp over an opaque-mode core with a memory store.
func newWeb(opts ...latchhttp.Option) (*latchhttp.Auth, error) {
	auth, err := latch.New(context.Background(), latch.Config{SessionKey: sessionKey, Mode: latch.ModeOpaque})
	if err != nil {
		return nil, err
	}
	return latchhttp.New(auth, latchhttp.Config{}, opts...)
}
