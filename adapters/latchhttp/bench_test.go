package latchhttp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/authtest"
)

// BenchmarkRequired measures one protected request through the middleware
// in each mode, against the bare handler in the same run.
//
//	go test -run '^$' -bench Required -benchmem ./adapters/latchhttp
func BenchmarkRequired(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	run := func(b *testing.B, h http.Handler, tok string) {
		r := httptest.NewRequest("GET", "/", nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
			h.ServeHTTP(httptest.NewRecorder(), r)
			time.Sleep(10 * time.Millisecond) // a session cache's first beat is back
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
	// guarded runs a request with a valid token through Required.
	guarded := func(b *testing.B, mode latch.Mode, edit func(*latch.Config), opts ...latch.Option) {
		e := authtest.NewBench(b, mode, edit, opts...)
		web, err := latchhttp.New(e.Auth, latchhttp.Config{})
		if err != nil {
			b.Fatal(err)
		}
		run(b, web.Middleware(latchhttp.Required())(ok), e.Login(b, users["1"], "bench").AccessToken)
	}
	b.Run("baseline", func(b *testing.B) { run(b, ok, "") })
	for _, c := range authtest.BenchCases() {
		b.Run(c.Name, func(b *testing.B) { guarded(b, c.Mode, c.Edit, c.Opts...) })
	}
}
