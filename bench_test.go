package latch_test

import (
	"testing"
	"time"

	"github.com/latchauth/latch/internal/authtest"
)

// BenchmarkAuthenticate measures one authentication in each mode: what
// every guarded request costs before HTTP (latchhttp's BenchmarkRequired
// adds the request around it).
//
//	go test -run '^$' -bench Authenticate -benchmem .
func BenchmarkAuthenticate(b *testing.B) {
	run := func(b *testing.B, e *env) {
		tok := e.Login(b, users["1"], "bench").AccessToken
		if _, err := e.Auth.Authenticate(bg, tok, access); err != nil {
			b.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // a session cache's first beat is back
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.Auth.Authenticate(bg, tok, access); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, c := range authtest.BenchCases() {
		b.Run(c.Name, func(b *testing.B) { run(b, authtest.NewBench(b, c.Mode, c.Edit, c.Opts...)) })
	}
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
