package latch_test

import (
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/authtest"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/memstore"
)

// BenchmarkAuthenticate measures one authentication in each mode: what
// every guarded request costs before HTTP (latchhttp's BenchmarkRequired
// adds the request around it).
//
//	go test -run '^$' -bench Authenticate -benchmem .
func BenchmarkAuthenticate(b *testing.B) {
	run := func(b *testing.B, e *env) {
		tok := e.Login(b, users["1"], "bench").AccessToken
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.Auth.Authenticate(bg, tok, access); err != nil {
				b.Fatal(err)
			}
		}
	}
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
			run(b, authtest.NewBench(b, c.mode, func(cfg *latch.Config) { cfg.SessionCheck = c.check }))
		})
	}
	// The memory store behind a wrapper that is not store.Bounded: what
	// the goroutine guarding each call of such a store costs.
	b.Run("opaque+guarded", func(b *testing.B) {
		run(b, authtest.NewBench(b, latch.ModeOpaque, nil, latch.WithStore(struct{ store.Store }{memstore.New()})))
	})
}

// BenchmarkLoginRefresh measures a login and a refresh in each mode.
//
//	go test -run '^$' -bench LoginRefresh -benchmem .
func BenchmarkLoginRefresh(b *testing.B) {
	for _, mode := range modes {
		e := authtest.NewBench(b, mode, nil)
		b.Run("login/"+string(mode), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.Login(b, users["1"], "bench")
				if _, err := e.Auth.RevokeAll(bg, "1"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("refresh/"+string(mode), func(b *testing.B) {
			tk := e.Login(b, users["1"], "bench")
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if tk, err = e.Auth.Refresh(bg, tk.RefreshToken); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
