package latchecho5_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchecho5"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/adaptertest"
)

// mounter serves the table's routes on the echo instance newEcho makes
// (echo.New() if nil): guarded routes behind latchecho5.Guard, endpoints
// through echo.WrapHandler.
func mounter(newEcho func(a *latchhttp.Auth) *echo.Echo) func(a *latchhttp.Auth, routes []adaptertest.Route) http.Handler {
	return func(a *latchhttp.Auth, routes []adaptertest.Route) http.Handler {
		e := echo.New()
		if newEcho != nil {
			e = newEcho(a)
		}
		answer := func(c *echo.Context) error {
			p, pok := latchecho5.Principal(c)
			u, uok := latchecho5.User[*adaptertest.User](c)
			adaptertest.Answer(c.Response(), c.Request(), p, pok, u, uok)
			return nil
		}
		for _, rt := range routes {
			if rt.Use != adaptertest.Guard {
				e.Add(rt.Method, rt.Path, echo.WrapHandler(adaptertest.Endpoint(a, rt.Use, nil)))
				continue
			}
			guard := latchecho5.Guard(a, rt.Guard)
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

// TestTable runs the behavioural table: latchecho5 must answer every case
// exactly as the net/http middleware does, under echo's default error
// handler, under latchecho5.ErrorHandler, under the default handler that
// exposes errors (what stands in v5 for v4's debug mode), and with groups
// that add no catch-all 404 routes.
func TestTable(t *testing.T) {
	t.Run("default error handler", func(t *testing.T) {
		adaptertest.Run(t, adaptertest.Adapter{Name: "echo5", Mount: mounter(nil)})
	})
	t.Run("latchecho5.ErrorHandler", func(t *testing.T) {
		adaptertest.Run(t, adaptertest.Adapter{Name: "echo5+ErrorHandler", Mount: mounter(func(a *latchhttp.Auth) *echo.Echo {
			return echo.NewWithConfig(echo.Config{HTTPErrorHandler: latchecho5.ErrorHandler(a, echo.DefaultHTTPErrorHandler(false))})
		})})
	})
	t.Run("exposing errors", func(t *testing.T) {
		adaptertest.Run(t, adaptertest.Adapter{Name: "echo5 exposeError", Mount: mounter(func(*latchhttp.Auth) *echo.Echo {
			return echo.NewWithConfig(echo.Config{HTTPErrorHandler: echo.DefaultHTTPErrorHandler(true)})
		})})
	})
	t.Run("NoGroupAutoRegister404Routes", func(t *testing.T) {
		adaptertest.Run(t, adaptertest.Adapter{Name: "echo5 without group 404 routes", Mount: mounter(func(*latchhttp.Auth) *echo.Echo {
			return echo.NewWithConfig(echo.Config{NoGroupAutoRegister404Routes: true})
		})})
	})
}

// newWeb returns latchhttp over an opaque-mode core with a memory store.
func newWeb(opts ...latchhttp.Option) (*latchhttp.Auth, error) {
	auth, err := latch.New(context.Background(), latch.Config{Mode: latch.ModeOpaque})
	if err != nil {
		return nil, err
	}
	return latchhttp.New(auth, latchhttp.Config{}, opts...)
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
	e.GET("/", func(*echo.Context) error { reached = true; return nil }, latchecho5.Guard(f.Web, latchhttp.Required()))
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

// teapot is an application error that chose its status, around a latch
// error.
type teapot struct{ error }

func (teapot) StatusCode() int { return http.StatusTeapot }

// TestErrorHandler checks the answers to errors that handlers return:
// latch's whole answer (status, WWW-Authenticate, Retry-After,
// Cache-Control, body) for latch's errors, and next's for the rest, an
// error carrying an echo status included even when it is wrapped and
// wraps a latch error.
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
		{"predefined echo error", echo.ErrNotFound, 404, "", "", "", `{"message":"Not Found"}`, true},
		{"echo error around a latch one", echo.ErrBadGateway.Wrap(latch.ErrUnavailable), 502, "", "", "",
			`{"message":"Bad Gateway"}`, true},
		// echo v5's default handler finds the code of a wrapped
		// *echo.HTTPError (v4's answered it 500): still not latch's 503.
		{"wrapped echo error around a latch one", fmt.Errorf("app: %w", echo.ErrBadGateway.Wrap(latch.ErrUnavailable)),
			502, "", "", "", `{"message":"Bad Gateway"}`, true},
		{"application status around a latch one", teapot{latch.ErrUnavailable}, 418, "", "", "", `{"message":"I'm a teapot"}`, true},
		{"other error", errors.New("app: secret detail"), 500, "", "", "", `{"message":"Internal Server Error"}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := echo.New()
			var toNext []error
			e.HTTPErrorHandler = latchecho5.ErrorHandler(f.Web, func(ctx *echo.Context, err error) {
				toNext = append(toNext, err)
				echo.DefaultHTTPErrorHandler(false)(ctx, err)
			})
			e.GET("/", func(*echo.Context) error { return c.err })
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
	for name, handler := range map[string]echo.HTTPErrorHandler{
		"default error handler":   echo.DefaultHTTPErrorHandler(false),
		"latchecho5.ErrorHandler": latchecho5.ErrorHandler(f.Web, echo.DefaultHTTPErrorHandler(false)),
	} {
		t.Run(name, func(t *testing.T) {
			e := echo.New()
			e.HTTPErrorHandler = handler
			e.GET("/", func(c *echo.Context) error {
				return latchecho5.WriteError(c, f.Web, errors.Join(latch.ErrUnavailable, adaptertest.ErrBackendDown))
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

// TestWriteErrorAfterAnswer checks a handler that calls WriteError after
// it has answered: the status sent stands, as on net/http, and the *Error
// reports that status rather than the one latch would have chosen.
func TestWriteErrorAfterAnswer(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	e := echo.New()
	e.Logger = slog.New(slog.DiscardHandler) // echo logs latch's WriteHeader, which comes too late
	var got error
	e.GET("/", func(c *echo.Context) error {
		if err := c.String(http.StatusAccepted, "begun\n"); err != nil {
			return err
		}
		got = latchecho5.WriteError(c, f.Web, latch.ErrSessionNotFound)
		return got
	})
	rec := serve(e)
	if rec.Code != http.StatusAccepted || !strings.HasPrefix(rec.Body.String(), "begun\n") {
		t.Errorf("answer = %d %q, want the handler's 202 first", rec.Code, rec.Body)
	}
	var le *latchecho5.Error
	if !errors.As(got, &le) || le.Status != http.StatusAccepted || !errors.Is(got, latch.ErrSessionNotFound) {
		t.Errorf("WriteError returned %#v, want a *latchecho5.Error with the 202 sent", got)
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
	guarded := func(e *echo.Echo) {
		e.GET("/", func(*echo.Context) error { return nil }, latchecho5.Guard(auth, latchhttp.Required()))
	}
	cases := []struct {
		name    string
		handler echo.HTTPErrorHandler
		route   func(*echo.Echo)
	}{
		{"refused, default error handler", echo.DefaultHTTPErrorHandler(false), guarded},
		{"refused, latchecho5.ErrorHandler", latchecho5.ErrorHandler(auth, echo.DefaultHTTPErrorHandler(false)), guarded},
		{"returned, latchecho5.ErrorHandler", latchecho5.ErrorHandler(auth, echo.DefaultHTTPErrorHandler(false)),
			func(e *echo.Echo) { e.GET("/", func(*echo.Context) error { return latch.ErrMalformedToken }) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls = 0
			e := echo.New()
			e.HTTPErrorHandler = c.handler
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
			e.GET("/", func(*echo.Context) error { return nil }, latchecho5.Guard(auth, latchhttp.Required()))
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
			e.Group("/admin", latchecho5.Guard(f.Web, latchhttp.Required())).GET("/dashboard", dashboard)
		},
		"Group.Use": func(e *echo.Echo) {
			g := e.Group("/admin")
			g.Use(latchecho5.Guard(f.Web, latchhttp.Required()))
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
	latchecho5.Guard(f.Web, latchhttp.Guard{Locations: []latchhttp.Location{"body"}})
}

// TestErrorHandlerLeavesAnswered: an answer already given stays as it
// is. An *Error from WriteError, wrapped or not, never reaches next; a
// latch error returned after the handler answered goes to next, which
// leaves the answer alone, instead of latch answering a second time.
func TestErrorHandlerLeavesAnswered(t *testing.T) {
	f := adaptertest.NewFixture(t, latch.ModeOpaque)
	cases := []struct {
		name    string
		handler echo.HandlerFunc
		status  int
		body    string
		toNext  bool
	}{
		{"WriteError", func(c *echo.Context) error {
			return latchecho5.WriteError(c, f.Web, latch.ErrSessionNotFound)
		}, 404, `{"msg":"Session not found"}`, false},
		{"wrapped WriteError", func(c *echo.Context) error {
			return fmt.Errorf("app: %w", latchecho5.WriteError(c, f.Web, latch.ErrSessionNotFound))
		}, 404, `{"msg":"Session not found"}`, false},
		{"latch error after an answer", func(c *echo.Context) error {
			c.Response().WriteHeader(http.StatusAccepted)
			return latch.ErrSessionNotFound
		}, 202, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := echo.New()
			var toNext []error
			e.HTTPErrorHandler = latchecho5.ErrorHandler(f.Web, func(ctx *echo.Context, err error) {
				toNext = append(toNext, err)
				echo.DefaultHTTPErrorHandler(false)(ctx, err)
			})
			e.GET("/", c.handler)
			rec := serve(e)
			if rec.Code != c.status || strings.TrimSpace(rec.Body.String()) != c.body {
				t.Errorf("answer = %d %q, want %d %q", rec.Code, rec.Body, c.status, c.body)
			}
			if (len(toNext) == 1) != c.toNext || len(toNext) > 1 {
				t.Errorf("next got %v, want it to get the error: %t", toNext, c.toNext)
			}
		})
	}
}

// TestResponderWriter: a responder gets a writer that is an http.Flusher
// and an http.Hijacker, as on net/http, which http.NewResponseController
// unwraps to the server's own writer, and whose flush reaches the client
// with the status noted.
func TestResponderWriter(t *testing.T) {
	var isFlusher, isHijacker bool
	var deadlineErr error
	auth, err := newWeb(latchhttp.WithResponder(latch.ErrInvalidToken, func(w http.ResponseWriter, _ *http.Request, _ error) {
		_, isHijacker = w.(http.Hijacker)
		deadlineErr = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute))
		var f http.Flusher
		if f, isFlusher = w.(http.Flusher); isFlusher {
			f.Flush()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer auth.Core().Close()
	e := echo.New()
	statuses := make(chan int, 1)
	e.HTTPErrorHandler = func(c *echo.Context, err error) { statuses <- echo.StatusCode(err) }
	e.GET("/", func(*echo.Context) error { return nil }, latchecho5.Guard(auth, latchhttp.Required()))
	srv := httptest.NewServer(e)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Authorization", "Bearer abc.def")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !isFlusher || !isHijacker {
		t.Errorf("responder's writer: Flusher %t, Hijacker %t; want both", isFlusher, isHijacker)
	}
	if deadlineErr != nil {
		t.Errorf("SetWriteDeadline through http.NewResponseController: %v", deadlineErr)
	}
	if status := <-statuses; res.StatusCode != http.StatusOK || status != http.StatusOK {
		t.Errorf("client got %d, Error.Status %d; want a flushed 200 noted as 200", res.StatusCode, status)
	}
}
