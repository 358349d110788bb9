package latch_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

// BenchmarkRequired measures one protected request through the middleware
// in each mode, against the bare handler in the same run.
//
//	go test -run '^$' -bench Required -benchmem .
func BenchmarkRequired(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	run := func(b *testing.B, h http.Handler, tok string) {
		r := httptest.NewRequest("GET", "/", nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 204 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	}
	b.Run("baseline", func(b *testing.B) { run(b, ok, "") })
	for _, c := range []struct {
		name  string
		mode  latch.Mode
		check bool
	}{
		{"opaque", latch.ModeOpaque, false},
		{"jwt", latch.ModeJWT, false},
		{"hybrid", latch.ModeHybrid, false},
		{"jwt+session_check", latch.ModeJWT, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := benchEnv(b, c.mode, func(cfg *latch.Config) { cfg.SessionCheck = c.check })
			tk := e.login(b, users["1"], "bench")
			run(b, e.auth.Required(ok), tk.AccessToken)
		})
	}
	// The memory store behind a wrapper that is not store.Bounded: what
	// the goroutine guarding each call of such a store costs.
	b.Run("opaque+guarded", func(b *testing.B) {
		e := benchEnv(b, latch.ModeOpaque, nil, latch.WithStore(struct{ store.Store }{memstore.New()}))
		tk := e.login(b, users["1"], "bench")
		run(b, e.auth.Required(ok), tk.AccessToken)
	})
}

// BenchmarkLoginRefresh measures a login and a refresh in each mode.
//
//	go test -run '^$' -bench LoginRefresh -benchmem .
func BenchmarkLoginRefresh(b *testing.B) {
	for _, mode := range modes {
		e := benchEnv(b, mode, nil)
		b.Run("login/"+string(mode), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.login(b, users["1"], "bench")
				if _, err := e.auth.RevokeAll(bg, "1"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("refresh/"+string(mode), func(b *testing.B) {
			tk := e.login(b, users["1"], "bench")
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if tk, err = e.auth.Refresh(bg, tk.RefreshToken); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchEnv is newEnv without what tests add to every call: no log, no
// event recording, no index of issued tokens for the leak scan, and the
// memory store itself rather than the recording wrapper (which, not being
// store.Bounded, would cost every call a goroutine).
func benchEnv(b *testing.B, mode latch.Mode, edit func(*latch.Config), opts ...latch.Option) *env {
	latch.SetIssuedHook(nil)
	b.Cleanup(func() { latch.SetIssuedHook(leaks.addTokens) })
	base := []latch.Option{latch.WithLogger(slog.New(slog.DiscardHandler)),
		latch.WithEventHook(func(context.Context, latch.Event) {}), latch.WithStore(memstore.New())}
	return newEnv(b, mode, edit, append(base, opts...)...)
}
