package latchhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/authtest"
)

// BenchmarkJWTPath measures one protected request in JWT mode end to end
// (find the bearer token, verify it, read its claims, load the user, put
// both in the request's context, run the handler) against the middleware
// a user writes by hand with golang-jwt, on the same token in the same
// run. Both load the user from the same map by sub.
//
//	go test -run '^$' -bench JWTPath -benchmem -count 8 ./adapters/latchhttp
func BenchmarkJWTPath(b *testing.B) {
	// The token latch issues: sub, sid, jti, type, iat, nbf, exp and
	// fresh, and the walkthrough's three application claims.
	e := authtest.NewBench(b, latch.ModeJWT, nil)
	tok := e.Login(b, users["1"], "bench").AccessToken
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, found := latch.UserFrom[*authtest.User](r.Context()); !found {
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(204)
	})
	run := func(b *testing.B, h http.Handler) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 204 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	}
	b.Run("baseline", func(b *testing.B) {
		type userKey struct{}
		secret := authtest.Key()
		keyFunc := func(*jwt.Token) (any, error) { return secret, nil }
		mw := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				raw, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
				if !found {
					http.Error(w, "no token", http.StatusUnauthorized)
					return
				}
				t, err := jwt.Parse(raw, keyFunc, jwt.WithValidMethods([]string{"HS256"}))
				if err != nil {
					http.Error(w, "invalid token", http.StatusUnauthorized)
					return
				}
				sub, _ := t.Claims.(jwt.MapClaims)["sub"].(string)
				u := users[sub]
				if u == nil || u.Disabled {
					http.Error(w, "unknown user", http.StatusUnauthorized)
					return
				}
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
			})
		}
		// The handler reads the user as the hand-written middleware
		// stores it.
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, found := r.Context().Value(userKey{}).(*authtest.User); !found {
				w.WriteHeader(500)
				return
			}
			w.WriteHeader(204)
		})
		run(b, mw(h))
	})
	b.Run("latch", func(b *testing.B) {
		// e's user loader is the same map lookup (authtest.Users).
		web, err := latchhttp.New(e.Auth, latchhttp.Config{})
		if err != nil {
			b.Fatal(err)
		}
		run(b, web.Middleware(latchhttp.Required())(ok))
	})
}
