package latchecho5_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchecho5"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/adaptertest"
)

// BenchmarkGuard serves one request to GET /protected (a valid access
// token, answered 204) four ways, in one run: bare, an echo v5 route
// without a guard; nethttp-bare, a ServeMux route without one; nethttp,
// the ServeMux route behind latch's net/http middleware; echo5, the echo
// route behind latchecho5.Middleware. The guard's cost on echo is echo5
// minus bare, on net/http nethttp minus nethttp-bare, and the adapter's
// own cost is the difference of the two.
func BenchmarkGuard(b *testing.B) {
	for _, mode := range []latch.Mode{latch.ModeJWT, latch.ModeOpaque} {
		a, r := adaptertest.BenchAuth(b, mode)
		noContent := func(c *echo.Context) error { return c.NoContent(http.StatusNoContent) }
		bare := echo.New()
		bare.GET("/protected", noContent)
		guarded := echo.New()
		guarded.GET("/protected", noContent, latchecho5.Middleware(a, latchhttp.Required()))
		b.Run(string(mode)+"/bare", func(b *testing.B) { adaptertest.Bench(b, bare, r, http.StatusNoContent) })
		b.Run(string(mode)+"/nethttp-bare", func(b *testing.B) {
			adaptertest.Bench(b, adaptertest.BareNetHTTPHandler(), r, http.StatusNoContent)
		})
		b.Run(string(mode)+"/nethttp", func(b *testing.B) {
			adaptertest.Bench(b, adaptertest.NetHTTPHandler(a), r, http.StatusNoContent)
		})
		b.Run(string(mode)+"/echo5", func(b *testing.B) { adaptertest.Bench(b, guarded, r, http.StatusNoContent) })
	}
}
