package latchecho_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchecho"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/adaptertest"
)

// BenchmarkGuard serves one request to GET /protected (a valid access
// token, answered 204) four ways, in one run: bare, a echo route without a
// guard; nethttp-bare, a ServeMux route without one; nethttp, the
// ServeMux route behind latch's net/http middleware; echo, the echo route
// behind latchecho.Middleware. The guard's cost on echo is echo minus bare, on
// net/http nethttp minus nethttp-bare, and the adapter's own cost is the
// difference of the two.
func BenchmarkGuard(b *testing.B) {
	for _, mode := range []latch.Mode{latch.ModeJWT, latch.ModeOpaque} {
		a, r := adaptertest.BenchAuth(b, mode)
		noContent := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
		bare := echo.New()
		bare.GET("/protected", noContent)
		guarded := echo.New()
		guarded.GET("/protected", noContent, latchecho.Middleware(a, latchhttp.Required()))
		b.Run(string(mode)+"/bare", func(b *testing.B) { adaptertest.Bench(b, bare, r, http.StatusNoContent) })
		b.Run(string(mode)+"/nethttp-bare", func(b *testing.B) {
			adaptertest.Bench(b, adaptertest.BareNetHTTPHandler(), r, http.StatusNoContent)
		})
		b.Run(string(mode)+"/nethttp", func(b *testing.B) {
			adaptertest.Bench(b, adaptertest.NetHTTPHandler(a), r, http.StatusNoContent)
		})
		b.Run(string(mode)+"/echo", func(b *testing.B) { adaptertest.Bench(b, guarded, r, http.StatusNoContent) })
	}
}
