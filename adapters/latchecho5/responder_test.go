package latchecho5_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchecho5"
	"github.com/latchauth/latch/adapters/latchhttp"
)

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
		e.GET("/", func(*echo.Context) error { return nil }, latchecho5.Middleware(auth, latchhttp.Required()))
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
	e.GET("/", func(*echo.Context) error { return nil }, latchecho5.Middleware(auth, latchhttp.Required()))
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
