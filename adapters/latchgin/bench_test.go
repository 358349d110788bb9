package latchgin_test

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchgin"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/adaptertest"
)

// BenchmarkGuard serves one request to GET /protected (a valid access
// token, answered 204) four ways, in one run: bare, a gin route without a
// guard; nethttp-bare, a ServeMux route without one; nethttp, the
// ServeMux route behind latchhttp's middleware; gin, the gin route
// behind latchgin.Guard. The guard's cost on gin is gin minus bare, on
// net/http nethttp minus nethttp-bare, and the adapter's own cost is the
// difference of the two.
func BenchmarkGuard(b *testing.B) {
	for _, mode := range []latch.Mode{latch.ModeJWT, latch.ModeOpaque} {
		a, r := adaptertest.BenchAuth(b, mode)
		noContent := func(c *gin.Context) { c.Status(http.StatusNoContent) }
		bare := gin.New()
		bare.GET("/protected", noContent)
		guarded := gin.New()
		guarded.GET("/protected", latchgin.Middleware(a, latchhttp.Required()), noContent)
		b.Run(string(mode)+"/bare", func(b *testing.B) { adaptertest.Bench(b, bare, r, http.StatusNoContent) })
		b.Run(string(mode)+"/nethttp-bare", func(b *testing.B) {
			adaptertest.Bench(b, adaptertest.BareNetHTTPHandler(), r, http.StatusNoContent)
		})
		b.Run(string(mode)+"/nethttp", func(b *testing.B) {
			adaptertest.Bench(b, adaptertest.NetHTTPHandler(a), r, http.StatusNoContent)
		})
		b.Run(string(mode)+"/gin", func(b *testing.B) { adaptertest.Bench(b, guarded, r, http.StatusNoContent) })
	}
}
