package latchecho5_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchecho5"
	"github.com/latchauth/latch/internal/adaptertest"
)

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
