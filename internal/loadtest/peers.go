package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	ginjwt "github.com/appleboy/gin-jwt/v2"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/jwtauth/v5"
	"github.com/golang-jwt/jwt/v5"
	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
)

// The servers that are not latch: the bare handler, the hand-written
// baselines and the peers, each as its documentation shows it. Each answers
// GET /protected with {"logged_in_as": subject}, and returns its handler
// with the tokens that pass it.

// tokenTTL is how long the tokens the servers mint stay valid: past any run.
const tokenTTL = time.Hour

// answer writes the body every Go server answers with.
func answer(w http.ResponseWriter, subject string) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"logged_in_as": subject})
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	return strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// subject names the i-th of the users tokens are minted for.
func subject(i int) string { return fmt.Sprintf("user-%d", i) }

// newKey returns a random HMAC key of 32 bytes.
func newKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// serveBare is the bare net/http handler, with no authentication.
func serveBare(context.Context, serverEnv) (http.Handler, []string, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /protected", func(w http.ResponseWriter, r *http.Request) { answer(w, "anonymous") })
	// A token each, though nothing reads it: every row's requests are the same size.
	toks, err := mintHS256(newKey(), nil)
	return mux, toks, err
}

// mintHS256 returns tokens HS256 tokens signed with key, for distinct
// subjects, with the claims extra adds to sub and exp.
func mintHS256(key []byte, extra func(jwt.MapClaims, int)) ([]string, error) {
	toks := make([]string, tokenCount)
	exp := time.Now().Add(tokenTTL).Unix()
	for i := range toks {
		c := jwt.MapClaims{"sub": subject(i), "exp": exp}
		if extra != nil {
			extra(c, i)
		}
		t, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
		if err != nil {
			return nil, err
		}
		toks[i] = t
	}
	return toks, nil
}

// serveGolangJWT is the hand-written middleware: golang-jwt's Parse into
// MapClaims, HS256 only.
func serveGolangJWT(context.Context, serverEnv) (http.Handler, []string, error) {
	key := newKey()
	keyFunc := func(*jwt.Token) (any, error) { return key, nil }
	mux := http.NewServeMux()
	mux.HandleFunc("GET /protected", func(w http.ResponseWriter, r *http.Request) {
		raw, ok := bearer(r)
		if !ok {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		t, err := jwt.Parse(raw, keyFunc, jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		sub, err := t.Claims.GetSubject()
		if err != nil || sub == "" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		answer(w, sub)
	})
	toks, err := mintHS256(key, nil)
	return mux, toks, err
}

// serveGinJWT is gin with appleboy/gin-jwt's middleware.
func serveGinJWT(context.Context, serverEnv) (http.Handler, []string, error) {
	gin.SetMode(gin.ReleaseMode)
	mw, err := ginjwt.New(&ginjwt.GinJWTMiddleware{
		Realm:       "loadtest",
		Key:         newKey(),
		Timeout:     tokenTTL,
		IdentityKey: "sub",
		PayloadFunc: func(data any) ginjwt.MapClaims { return ginjwt.MapClaims{"sub": data} },
		Authenticator: func(*gin.Context) (any, error) {
			return nil, ginjwt.ErrFailedAuthentication // no login route here
		},
	})
	if err != nil {
		return nil, nil, err
	}
	r := gin.New()
	r.GET("/protected", mw.MiddlewareFunc(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"logged_in_as": c.MustGet("sub")})
	})
	toks := make([]string, tokenCount)
	for i := range toks {
		if toks[i], _, err = mw.TokenGenerator(subject(i)); err != nil {
			return nil, nil, err
		}
	}
	return r, toks, nil
}

// serveEchoJWT is echo v4 with labstack/echo-jwt's middleware.
func serveEchoJWT(context.Context, serverEnv) (http.Handler, []string, error) {
	key := newKey()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/protected", func(c echo.Context) error {
		sub, err := c.Get("user").(*jwt.Token).Claims.GetSubject()
		if err != nil {
			return echo.ErrUnauthorized
		}
		return c.JSON(http.StatusOK, map[string]string{"logged_in_as": sub})
	}, echojwt.JWT(key))
	toks, err := mintHS256(key, nil)
	return e, toks, err
}

// serveJWTAuth is go-chi/jwtauth's Verifier and Authenticator on a
// ServeMux route.
func serveJWTAuth(context.Context, serverEnv) (http.Handler, []string, error) {
	ja := jwtauth.New("HS256", newKey(), nil)
	mux := http.NewServeMux()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, claims, _ := jwtauth.FromContext(r.Context())
		sub, _ := claims["sub"].(string)
		answer(w, sub)
	})
	mux.Handle("GET /protected", jwtauth.Verifier(ja)(jwtauth.Authenticator(ja)(h)))
	toks := make([]string, tokenCount)
	for i := range toks {
		claims := map[string]any{"sub": subject(i)}
		jwtauth.SetExpiryIn(claims, tokenTTL)
		_, t, err := ja.Encode(claims)
		if err != nil {
			return nil, nil, err
		}
		toks[i] = t
	}
	return mux, toks, nil
}

// serveSHA256Redis is the hand-written opaque baseline: a token is
// "id.secret"; the server GETs the id's record (the secret's SHA-256, then
// the subject) from Redis and compares the hashes in constant time.
func serveSHA256Redis(ctx context.Context, env serverEnv) (http.Handler, []string, error) {
	if env.redisURL == "" {
		return nil, nil, errors.New("no Redis URL")
	}
	opts, err := redis.ParseURL(env.redisURL)
	if err != nil {
		return nil, nil, err
	}
	opts.ContextTimeoutEnabled = true // as redisstore.Open sets it
	c := redis.NewClient(opts)
	toks := make([]string, tokenCount)
	pipe := c.Pipeline()
	for i := range toks {
		id, secret := make([]byte, 16), make([]byte, 32)
		rand.Read(id)
		rand.Read(secret)
		sid := base64.RawURLEncoding.EncodeToString(id)
		h := sha256.Sum256(secret)
		pipe.Set(ctx, env.prefix+sid, append(h[:], subject(i)...), tokenTTL)
		toks[i] = sid + "." + base64.RawURLEncoding.EncodeToString(secret)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /protected", func(w http.ResponseWriter, r *http.Request) {
		raw, _ := bearer(r)
		sid, enc, ok := strings.Cut(raw, ".")
		secret, err := base64.RawURLEncoding.DecodeString(enc)
		if !ok || err != nil || len(sid) != 22 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		rec, err := c.Get(r.Context(), env.prefix+sid).Bytes()
		switch {
		case errors.Is(err, redis.Nil):
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		case err != nil:
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		h := sha256.Sum256(secret)
		if len(rec) < len(h) || subtle.ConstantTimeCompare(rec[:len(h)], h[:]) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		answer(w, string(rec[len(h):]))
	})
	return mux, toks, nil
}
