package latchecho_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchecho"
	"github.com/latchauth/latch/internal/adaptertest"
)

// mounter serves the table's routes on an echo instance, each behind the
// latchecho function the route names; setup configures the instance.
func mounter(setup func(e *echo.Echo, a *latch.Auth)) func(a *latch.Auth, routes []adaptertest.Route) http.Handler {
	return func(a *latch.Auth, routes []adaptertest.Route) http.Handler {
		e := echo.New()
		if setup != nil {
			setup(e, a)
		}
		answer := func(c echo.Context) error {
			p, pok := latchecho.Principal(c)
			u, uok := latchecho.User[*adaptertest.User](c)
			adaptertest.Answer(c.Response(), c.Request(), p, pok, u, uok)
			return nil
		}
		for _, rt := range routes {
			var guard echo.MiddlewareFunc
			switch rt.Use {
			case adaptertest.Required:
				guard = latchecho.Required(a)
			case adaptertest.Optional:
				guard = latchecho.Optional(a)
			case adaptertest.FreshRequired:
				guard = latchecho.FreshRequired(a)
			case adaptertest.RefreshRequired:
				guard = latchecho.RefreshRequired(a)
			case adaptertest.SessionRequired:
				guard = latchecho.SessionRequired(a)
			case adaptertest.Require:
				guard = latchecho.Require(a, rt.Guard.Checks...)
			case adaptertest.Middleware:
				guard = latchecho.Middleware(a, rt.Guard)
			case adaptertest.RefreshHandler:
				e.Add(rt.Method, rt.Path, latchecho.RefreshHandler(a))
				continue
			case adaptertest.RevocationHandler:
				e.Add(rt.Method, rt.Path, latchecho.RevocationHandler(a))
				continue
			default:
				panic("unknown Use " + string(rt.Use))
			}
			e.Add(rt.Method, rt.Path, answer, guard)
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
		adaptertest.Run(t, adaptertest.Adapter{Name: "echo+ErrorHandler", Mount: mounter(func(e *echo.Echo, a *latch.Auth) {
			e.HTTPErrorHandler = latchecho.ErrorHandler(a, e.DefaultHTTPErrorHandler)
		})})
	})
	t.Run("debug mode", func(t *testing.T) {
		adaptertest.Run(t, adaptertest.Adapter{Name: "echo debug", Mount: mounter(func(e *echo.Echo, _ *latch.Auth) {
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
	e.GET("/", func(echo.Context) error { reached = true; return nil }, latchecho.Required(f.Auth))
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

// TestErrorHandler checks the answers to errors that handlers return.
func TestErrorHandler(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	cases := []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"latch kind", latch.ErrSessionNotFound, 404, `{"msg":"Session not found"}`},
		{"store failure", errors.Join(latch.ErrUnavailable, adaptertest.ErrBackendDown), 503, `{"msg":"Service temporarily unavailable"}`},
		{"forbidden", latch.Forbidden("Admins only!"), 403, `{"msg":"Admins only!"}`},
		{"echo error", echo.NewHTTPError(http.StatusTeapot, "short and stout"), 418, `{"message":"short and stout"}`},
		{"echo error around a latch one", echo.NewHTTPError(http.StatusBadGateway).SetInternal(latch.ErrUnavailable), 502, `{"message":"Bad Gateway"}`},
		{"other error", errors.New("app: secret detail"), 500, `{"message":"Internal Server Error"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := echo.New()
			e.HTTPErrorHandler = latchecho.ErrorHandler(f.Auth, e.DefaultHTTPErrorHandler)
			e.GET("/", func(echo.Context) error { return c.err })
			rec := serve(e)
			if rec.Code != c.status || strings.TrimSpace(rec.Body.String()) != c.body {
				t.Errorf("answer = %d %s, want %d %s", rec.Code, rec.Body, c.status, c.body)
			}
		})
	}
}

// TestWriteError checks that a handler can answer a latch error itself,
// under any error handler.
func TestWriteError(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	e := echo.New()
	e.GET("/", func(c echo.Context) error { return latchecho.WriteError(c, f.Auth, latch.ErrSessionNotFound) })
	rec := serve(e)
	if rec.Code != http.StatusNotFound || rec.Body.String() != `{"msg":"Session not found"}`+"\n" {
		t.Errorf("answer = %d %s, want latch's 404", rec.Code, rec.Body)
	}
}

// TestBadGuard checks that a guard that cannot work fails at setup.
func TestBadGuard(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	defer func() {
		if recover() == nil {
			t.Error("Middleware accepted an unknown location")
		}
	}()
	latchecho.Middleware(f.Auth, latch.Guard{Locations: []latch.Location{"body"}})
}
