package latchecho5_test

import (
	"context"
	"net/http/httptest"

	"github.com/labstack/echo/v5"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// newWeb returns latchhttp over an opaque-mode core with a memory store.
func newWeb(opts ...latchhttp.Option) (*latchhttp.Auth, error) {
	auth, err := latch.New(context.Background(), latch.Config{SessionKey: sessionKey, Mode: latch.ModeOpaque})
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
