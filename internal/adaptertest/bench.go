package adaptertest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/authtest"
	"github.com/latchauth/latch/store/memstore"
)

// BenchAuth returns the HTTP layer of an Auth in mode, as the adapters'
// benchmarks use it (no user loader, nothing logged), and a request
// carrying a valid access token.
func BenchAuth(tb testing.TB, mode latch.Mode) (*latchhttp.Auth, *http.Request) {
	tb.Helper()
	cfg := latch.Config{Mode: mode, SessionKey: authtest.SessionKey}
	cfg.JWT.Secret = secret
	a, err := latch.New(context.Background(), cfg, latch.WithStore(memstore.New()), latch.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		tb.Fatal(err)
	}
	web, err := latchhttp.New(a, latchhttp.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tk, err := a.Login(context.Background(), "1", latch.LoginOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/protected", nil)
	r.Header.Set("Authorization", "Bearer "+tk.AccessToken)
	return web, r
}

// Bench serves r with h b.N times, each into a new recorder, and fails
// unless every answer is status.
func Bench(b *testing.B, h http.Handler, r *http.Request, status int) {
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != status {
			b.Fatalf("status %d, want %d", rec.Code, status)
		}
	}
}

// NetHTTPHandler is the net/http side of the benchmarks: a ServeMux route
// GET /protected behind latchhttp.Required(), answering 204.
func NetHTTPHandler(a *latchhttp.Auth) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /protected", a.Middleware(latchhttp.Required())(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	return mux
}

// BareNetHTTPHandler is NetHTTPHandler without the guard: the ServeMux
// route alone, so that the net/http middleware's own cost, NetHTTPHandler
// minus this, comes from the same run as the adapter's.
func BareNetHTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /protected", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}
